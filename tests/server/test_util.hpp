// Helpers shared by the server tests: a store on a real SQLite file (temp dirs and file helpers
// from tests/support).
#pragma once

#include "m2mdm/server/api.hpp"
#include "m2mdm/server/sqlite_store.hpp"
#include "m2mdm/test/files.hpp"
#include "m2mdm/test/mock_clock.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace m2mdm::server::test {

using m2mdm::test::MockClock;
using m2mdm::test::slurp;
using m2mdm::test::TempDir;  ///< a fresh directory under the system temp dir, removed at the end

inline Bytes test_key(std::uint8_t fill = 0x42) { return Bytes(mo::SecretBox::key_size, fill); }

/// One request through @p router from 127.0.0.1:5555, with `Authorization: Bearer @p token` when
/// a token is given and @p content_type when there is a body.
inline HttpResponse api_call(ApiRouter& router, std::string method, std::string target, const std::string& token = {},
                             std::string body = {}, const std::string& content_type = "application/json") {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
  if (!body.empty() && !content_type.empty()) r.headers.emplace_back("Content-Type", content_type);
  r.body = std::move(body);
  r.peer = "127.0.0.1:5555";
  return router.handle(r);
}

inline std::unique_ptr<SqliteStore> open_store(const std::filesystem::path& db, std::uint8_t key_fill = 0x42) {
  auto box = mo::SecretBox::from_key(test_key(key_fill));
  if (!box) return nullptr;
  auto s = SqliteStore::open(db, std::move(*box));
  if (!s) {
    ADD_FAILURE() << "open " << db << ": " << s.error().message();
    return nullptr;
  }
  return std::move(*s);
}

/// Stores @p dev_id's DM nonces as a DM message does (DeviceStore::record_dm_message).
inline Result<void> store_nonces(DeviceStore& store, std::string_view dev_id, Bytes server_nonce, Bytes client_nonce,
                                 std::int64_t now) {
  DmMessageWrites w;
  w.server_nonce = std::move(server_nonce);
  w.client_nonce = std::move(client_nonce);
  return store.record_dm_message(dev_id, w, now);
}

inline Device make_device(std::string dev_id, std::string pcid, std::optional<std::int64_t> sho) {
  Device d;
  d.dev_id = std::move(dev_id);
  d.pcid = std::move(pcid);
  d.sho_id = sho;
  d.dpf_address = "https://ro.example/dm";
  d.dm.server_id = "m2mdm-ro";
  d.dm.server_username = "ro";
  d.dm.server_password = "server-secret-" + d.dev_id;
  d.dm.client_username = d.dev_id;
  d.dm.client_password = "client-secret-" + d.dev_id;
  d.device_pin = {'1', '2', '3', '4', '5', '6'};
  d.k = Bytes(16, 0x11);
  d.opc = Bytes(16, 0x22);
  return d;
}

/// A store on a fresh SQLite file, a mock clock and one SHO named "sho" (token "tok").
struct StoreWithSho : ::testing::Test {
  TempDir dir;
  std::unique_ptr<SqliteStore> store = open_store(dir.path() / "s.sqlite");
  MockClock t{1'700'000'000};
  std::int64_t sho = 0;

  void SetUp() override {
    ASSERT_TRUE(store);
    auto s = store->create_sho("sho", hash_token("tok"), t);
    ASSERT_TRUE(s);
    sho = s->id;
  }
};

}  // namespace m2mdm::server::test
