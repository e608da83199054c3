// The SQLite store's row declarations (server/src/store/row_columns.hpp): one declaration per row
// type gives both the SELECT list and the reader, and the device-account list is the device list
// with the SIM secrets blanked.
#include "store/sqlite_impl.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <vector>

namespace m2mdm::server::sqlite_detail {
namespace {

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::size_t from = 0;
  for (;;) {
    const std::size_t comma = list.find(", ", from);
    out.push_back(list.substr(from, comma == std::string::npos ? std::string::npos : comma - from));
    if (comma == std::string::npos) return out;
    from = comma + 2;
  }
}

TEST(StoreRowColumns, DeviceAccountColumnsLineUpWithDeviceColumns) {
  const auto device = split_list(column_list<kDeviceRow>());
  const auto account = split_list(device_account_columns());
  ASSERT_EQ(device.size(), static_cast<std::size_t>(kDeviceRow.size()));
  ASSERT_EQ(account.size(), device.size());
  std::size_t blanked = 0;
  for (std::size_t i = 0; i < device.size(); ++i) {
    const bool secret = std::ranges::find(kSimSecretColumns, device[i]) != kSimSecretColumns.end();
    if (secret) {
      EXPECT_EQ(account[i], "x''") << device[i];
      ++blanked;
    } else {
      EXPECT_EQ(account[i], device[i]) << "column " << i;
    }
  }
  EXPECT_EQ(blanked, kSimSecretColumns.size());
}

// The SELECT lists as the store wrote them by hand before they came from the tables (a reorder
// or a renamed cell would change the statements and the order a reader expects).
TEST(StoreRowColumns, DeviceAndJobListsAreTheStoresSelectLists) {
  EXPECT_EQ(column_list<kDeviceRow>(),
            "id, dev_id, pcid, sho_id, dpf_address, dm_credentials, device_pin, k, opc, sqn, pfc_der, "
            "pfc_validation, state, last_seen, push_address, created, updated, sec_method, pending_dm_credentials, "
            "subscriber_id, dm_server_nonce, dm_client_nonce");
  EXPECT_EQ(device_account_columns(),
            "id, dev_id, pcid, sho_id, dpf_address, dm_credentials, x'', x'', x'', sqn, pfc_der, "
            "pfc_validation, state, last_seen, push_address, created, updated, sec_method, pending_dm_credentials, "
            "subscriber_id, dm_server_nonce, dm_client_nonce");
  EXPECT_EQ(kJobRow.list("j."),
            "j.id, j.dev_id, j.sho_id, j.kind, j.payload, j.authorisation, j.correlator, j.state, j.attempts, "
            "j.deadline, j.created, j.updated, j.notify_attempts, j.next_notify_at");
  static_assert(kJobRow.size() == 14);
}

TEST(StoreRowColumns, ListsTheNamesInOrderWithAPrefix) {
  EXPECT_EQ(column_list<kShoRow>(), "id, name, token_hash, callback_url, created, signer");
  EXPECT_EQ(kShoRow.list("s."), "s.id, s.name, s.token_hash, s.callback_url, s.created, s.signer");
  static_assert(kShoRow.size() == 6);
  static_assert(kShoRow.index("id") == 0 && kShoRow.index("signer") == 5);
}

enum class Colour { red, green };
std::optional<Colour> colour_from_string(std::string_view s) noexcept {
  if (s == "red") return Colour::red;
  if (s == "green") return Colour::green;
  return std::nullopt;
}

struct Sample {
  std::int64_t id = 0;
  std::string name;
  Bytes blob;
  bool flag = false;
  int count = 0;
  std::uint64_t big = 0;
  std::optional<std::int64_t> owner;
  std::optional<std::int64_t> none = 5;
  Colour colour = Colour::red;
  Colour unknown = Colour::red;
  std::string by_hand = "untouched";
};

constexpr auto kSampleRow = row_columns<Sample>(
    Field{"id", &Sample::id}, Field{"name", &Sample::name}, Field{"blob", &Sample::blob}, Field{"flag", &Sample::flag},
    Field{"count", &Sample::count}, Field{"big", &Sample::big}, Field{"owner", &Sample::owner},
    Field{"none", &Sample::none}, EnumField{"colour", &Sample::colour, colour_from_string, Colour::red},
    EnumField{"unknown", &Sample::unknown, colour_from_string, Colour::green}, ByHand{"raw"});

TEST(StoreRowColumns, ReadsEachMemberByItsType) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  const DbPtr owned(db);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE sample(id, name, blob, flag, count, big, owner, none, colour, unknown, raw);"
                         "INSERT INTO sample VALUES(7, 'seven', x'0102', 2, 42, 281474976710655, 9, NULL, 'green', "
                         "'purple', 'ignored');",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  const std::string sql = "SELECT " + column_list<kSampleRow>() + " FROM sample";
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
  const StmtPtr owned_stmt(stmt);
  Query query(stmt);
  ASSERT_TRUE(query.row());
  const Sample s = kSampleRow.read(query);
  EXPECT_EQ(s.id, 7);
  EXPECT_EQ(s.name, "seven");
  EXPECT_EQ(s.blob, (Bytes{1, 2}));
  EXPECT_TRUE(s.flag);
  EXPECT_EQ(s.count, 42);
  EXPECT_EQ(s.big, 281474976710655u);
  EXPECT_EQ(s.owner, 9);
  EXPECT_EQ(s.none, std::nullopt);
  EXPECT_EQ(s.colour, Colour::green);
  EXPECT_EQ(s.unknown, Colour::green);  // the fallback
  EXPECT_EQ(s.by_hand, "untouched");
  EXPECT_EQ(query.col_text(kSampleRow.index("raw")), "ignored");
}

}  // namespace
}  // namespace m2mdm::server::sqlite_detail
