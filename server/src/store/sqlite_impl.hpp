// Internal to the SQLite store: the connection and statement helpers (Query, Tx), the sealing
// of secrets, row readers, and SqliteStore::Impl, shared by the per-aggregate sources
// (sqlite_shos.cpp, sqlite_devices.cpp, sqlite_jobs.cpp, sqlite_bootstraps.cpp,
// sqlite_outbox.cpp, sqlite_audit.cpp). One connection, serialised by Impl::mutex.
// Secrets are sealed with AES-256-GCM; AAD = "<table>|<column>|<rowid>" binds each ciphertext
// to its cell so that one row's secret cannot be swapped into another.
#pragma once

#include "m2mdm/server/error.hpp"
#include "m2mdm/server/sqlite_store.hpp"
#include "store/row_columns.hpp"
#include "store/wal_sync.hpp"

#include <nlohmann/json.hpp>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <array>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <variant>
#include <vector>

namespace m2mdm::server {

namespace sqlite_detail {

/// mo::SecretBox's failures as the store reports them: decrypt_failed (a secret that does not
/// open), config_error (a loose or wrong-size key file), invalid_argument, io_error; an errno of
/// the key file as it is (store_key.cpp).
std::error_code box_error(std::error_code e);


inline std::error_code err(errc e) { return make_error_code(e); }

inline std::error_code from_sqlite(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: return err(errc::conflict);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return err(errc::store_corrupt);
    default: return err(errc::io_error);
  }
}

struct DbDeleter {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbDeleter>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

/// T for T and for Result<T> (what a row reader returns).
template <typename T>
struct ValueOf {
  using type = T;
  static constexpr bool is_result = false;
};
template <typename T>
struct ValueOf<Result<T>> {
  using type = T;
  static constexpr bool is_result = true;
};

/// One use of a cached statement: binds, steps, reads columns; resets on destruction.
class Query {
 public:
  explicit Query(sqlite3_stmt* s) : s_(s) {}
  ~Query() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& i64(int i, std::int64_t v) { return check(sqlite3_bind_int64(s_, i, v)); }
  Query& text(int i, std::string_view v) {
    // A default-constructed string_view has data() == nullptr, which SQLite binds as NULL:
    // bind an empty string instead (NOT NULL text columns, comparisons with '').
    if (v.data() == nullptr) v = std::string_view("", 0);
    return check(sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  Query& blob(int i, ByteView v) {
    if (v.empty()) return check(sqlite3_bind_zeroblob(s_, i, 0));
    return check(sqlite3_bind_blob64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT));
  }
  Query& null(int i) { return check(sqlite3_bind_null(s_, i)); }
  /// Binds @p v by its type: an integer, text or a blob.
  Query& bind(int i, std::int64_t v) { return i64(i, v); }
  Query& bind(int i, std::string_view v) { return text(i, v); }
  Query& bind(int i, ByteView v) { return blob(i, v); }
  /// Binds @p v by its type, or NULL when it holds nothing.
  template <typename T>
  Query& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : null(i);
  }
  /// Binds @p values to the placeholders 1, 2, ... in order, each by its type (bind).
  template <typename... Values>
  Query& bind_all(const Values&... values) {
    int i = 0;
    (bind(++i, values), ...);
    return *this;
  }

  /// SQLITE_ROW, SQLITE_DONE or an error code.
  int step() {
    if (bind_rc_ != SQLITE_OK) return bind_rc_;
    return sqlite3_step(s_);
  }
  /// Steps a statement that returns no rows.
  Result<void> exec() {
    int rc = step();
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return fail(from_sqlite(rc));
    return {};
  }

  /// Steps to the one row a lookup expects: not_found when the statement has none.
  Result<void> row() {
    const int rc = step();
    if (rc == SQLITE_DONE) return fail(err(errc::not_found));
    if (rc != SQLITE_ROW) return fail(from_sqlite(rc));
    return {};
  }
  /// Steps to the next row: true at a row, false when there is none.
  Result<bool> next() {
    const int rc = step();
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) return fail(from_sqlite(rc));
    return false;
  }
  /// The first row read by @p read (a function of Query& returning the value), none when there is no row.
  template <typename Read>
  auto optional_row(Read read) -> Result<std::optional<std::invoke_result_t<Read, Query&>>> {
    auto found = next();
    if (!found) return fail(found.error());
    if (!*found) return std::nullopt;
    return read(*this);
  }
  /// Every (remaining) row, each read by @p read (a function of Query& returning T or Result<T>).
  template <typename Read>
  auto rows(Read read) -> Result<std::vector<typename ValueOf<std::invoke_result_t<Read, Query&>>::type>> {
    using Read_result = std::invoke_result_t<Read, Query&>;
    std::vector<typename ValueOf<Read_result>::type> out;
    int rc;
    while ((rc = step()) == SQLITE_ROW) {
      if constexpr (ValueOf<Read_result>::is_result) {
        auto v = read(*this);
        if (!v) return fail(v.error());
        out.push_back(std::move(*v));
      } else {
        out.push_back(read(*this));
      }
    }
    if (rc != SQLITE_DONE) return fail(from_sqlite(rc));
    return out;
  }

  std::int64_t col_i64(int c) const { return sqlite3_column_int64(s_, c); }
  bool col_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::string col_text(int c) const {
    const auto* p = sqlite3_column_text(s_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s_, c)))
             : std::string();
  }
  Bytes col_blob(int c) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, c));
    const int n = sqlite3_column_bytes(s_, c);
    return p ? Bytes(p, p + n) : Bytes();
  }

 private:
  Query& check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }
  sqlite3_stmt* s_;
  int bind_rc_ = SQLITE_OK;
};

inline std::string aad(std::string_view table, std::string_view column, std::int64_t rowid) {
  return std::string(table) + "|" + std::string(column) + "|" + std::to_string(rowid);
}

inline std::string random_hex(std::size_t n) {
  Bytes b(n);
  if (RAND_bytes(b.data(), static_cast<int>(n)) != 1) return {};
  return hex_encode(b);
}

inline nlohmann::json dm_to_json(const DmCredentials& dm) {
  return {{"server_id", dm.server_id},           {"server_username", dm.server_username},
          {"server_password", dm.server_password}, {"server_nonce", hex_encode(dm.server_nonce)},
          {"client_username", dm.client_username}, {"client_password", dm.client_password},
          {"client_nonce", hex_encode(dm.client_nonce)}};
}

inline DmCredentials dm_from_json(const nlohmann::json& j) {
  DmCredentials dm;
  dm.server_id = j.value("server_id", "");
  dm.server_username = j.value("server_username", "");
  dm.server_password = j.value("server_password", "");
  dm.server_nonce = hex_decode(j.value("server_nonce", "")).value_or(Bytes{});
  dm.client_username = j.value("client_username", "");
  dm.client_password = j.value("client_password", "");
  dm.client_nonce = hex_decode(j.value("client_nonce", "")).value_or(Bytes{});
  return dm;
}

inline bool same_dm(const DmCredentials& a, const DmCredentials& b) {
  return a.server_id == b.server_id && a.server_username == b.server_username &&
         a.server_password == b.server_password && a.client_username == b.client_username &&
         a.client_password == b.client_password;
}

/// The columns of a device row. The secrets are sealed with their row id and column in the AAD,
/// and the nonces override those of dm_credentials: SqliteStore::Impl::read_device reads them.
inline constexpr auto kDeviceRow = row_columns<Device>(
    Field{"id", &Device::id}, Field{"dev_id", &Device::dev_id}, Field{"pcid", &Device::pcid},
    Field{"sho_id", &Device::sho_id}, Field{"dpf_address", &Device::dpf_address}, ByHand{"dm_credentials"},
    ByHand{"device_pin"}, ByHand{"k"}, ByHand{"opc"}, Field{"sqn", &Device::sqn}, Field{"pfc_der", &Device::pfc_der},
    Field{"pfc_validation", &Device::pfc_validation},
    EnumField{"state", &Device::state, device_state_from_string, DeviceState::imported},
    Field{"last_seen", &Device::last_seen}, Field{"push_address", &Device::push_address},
    Field{"created", &Device::created}, Field{"updated", &Device::updated}, Field{"sec_method", &Device::sec_method},
    ByHand{"pending_dm_credentials"}, Field{"subscriber_id", &Device::subscriber_id}, ByHand{"dm_server_nonce"},
    ByHand{"dm_client_nonce"});
/// The SIM secrets of a device row, which a DM session's read selects as empty blobs (x''):
/// nothing it does not use is unsealed or held in memory.
inline constexpr std::array<std::string_view, 3> kSimSecretColumns{"device_pin", "k", "opc"};
/// kDeviceRow's SELECT list with kSimSecretColumns as x'' (the same columns at the same places, so
/// read_device reads both lists), built once.
inline const std::string& device_account_columns() {
  static const std::string list = kDeviceRow.list({}, kSimSecretColumns);
  return list;
}

inline constexpr auto kJobRow = row_columns<Job>(
    Field{"id", &Job::id}, Field{"dev_id", &Job::dev_id}, Field{"sho_id", &Job::sho_id},
    EnumField{"kind", &Job::kind, job_kind_from_string, JobKind::install}, Field{"payload", &Job::payload},
    Field{"authorisation", &Job::authorisation}, Field{"correlator", &Job::correlator},
    EnumField{"state", &Job::state, job_state_from_string, JobState::failed}, Field{"attempts", &Job::attempts},
    Field{"deadline", &Job::deadline}, Field{"created", &Job::created}, Field{"updated", &Job::updated},
    Field{"notify_attempts", &Job::notify_attempts}, Field{"next_notify_at", &Job::next_notify_at});

inline constexpr auto kShoRow = row_columns<Sho>(Field{"id", &Sho::id}, Field{"name", &Sho::name},
                                                 Field{"token_hash", &Sho::token_hash},
                                                 Field{"callback_url", &Sho::callback_url},
                                                 Field{"created", &Sho::created}, Field{"signer", &Sho::signer});

inline bool dm_empty(const DmCredentials& dm) {
  return dm.server_id.empty() && dm.server_username.empty() && dm.server_password.empty() &&
         dm.client_username.empty() && dm.client_password.empty();
}

}  // namespace sqlite_detail

#define M2MDM_TRY(expr)                                   \
  do {                                                    \
    if (auto m2mdm_try_r = (expr); !m2mdm_try_r)          \
      return ::m2mdm::fail(m2mdm_try_r.error());          \
  } while (false)

using namespace sqlite_detail;

struct SqliteStore::Impl {
  DbPtr db;
  mo::SecretBox box;
  std::mutex mutex;
  std::unordered_map<std::string, StmtPtr> cache;
  /// A sealed stand-in PIN that claim_device opens when there is no device PIN to open, so that
  /// every claim does the same work (sealed on first use).
  Bytes dummy_pin;

  /// Commits on this connection (the commit hook counts them; read and written under mutex).
  std::uint64_t commits = 0;
  /// Group commit over the -wal file (enabled once the store is open; see wal_sync.hpp).
  WalSync wal_sync;

  Impl(DbPtr d, mo::SecretBox b) : db(std::move(d)), box(std::move(b)) {
    sqlite3_commit_hook(
        db.get(),
        [](void* self) {
          ++static_cast<Impl*>(self)->commits;
          return 0;  // let it commit
        },
        this);
  }

  /// Switches a file store in WAL mode to group commit (defined in sqlite_store.cpp).
  Result<void> enable_group_commit(const std::filesystem::path& path);

  /// The store's mutex for one call. When the call committed (a write), the mutex is released
  /// first and then the call waits until its commit is on stable storage (group commit): a
  /// write is acknowledged only once durable, and others use the connection meanwhile.
  class Lock {
   public:
    explicit Lock(Impl& impl) : impl_(impl), lock_(impl.mutex), before_(impl.commits) {}
    ~Lock() {
      const std::uint64_t after = impl_.commits;
      if (after == before_ || !impl_.wal_sync.enabled()) return;
      impl_.wal_sync.completed(after);
      lock_.unlock();
      impl_.wal_sync.wait_durable(after);
    }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    Impl& impl_;
    std::unique_lock<std::mutex> lock_;
    std::uint64_t before_;
  };

  Result<Query> q(const std::string& sql) {
    auto it = cache.find(sql);
    if (it == cache.end()) {
      sqlite3_stmt* s = nullptr;
      int rc = sqlite3_prepare_v3(db.get(), sql.c_str(), static_cast<int>(sql.size() + 1), SQLITE_PREPARE_PERSISTENT,
                                  &s, nullptr);
      if (rc != SQLITE_OK) {
        spdlog::error("store: prepare failed: {} ({})", sqlite3_errmsg(db.get()), sql);
        sqlite3_finalize(s);
        return fail(from_sqlite(rc));
      }
      it = cache.emplace(sql, StmtPtr(s)).first;
    }
    return Result<Query>(std::in_place, it->second.get());
  }

  Result<void> exec_script(const char* sql) {
    char* msg = nullptr;
    int rc = sqlite3_exec(db.get(), sql, nullptr, nullptr, &msg);
    if (rc != SQLITE_OK) {
      spdlog::error("store: {}", msg ? msg : sqlite3_errstr(rc));
      sqlite3_free(msg);
      return fail(from_sqlite(rc));
    }
    return {};
  }

  /// Runs the cached statement @p sql, one that returns no rows, with @p values bound in order
  /// (Query::bind_all). BEGIN, COMMIT and ROLLBACK run here too: prepared once, not compiled
  /// again by sqlite3_exec on every transaction.
  template <typename... Values>
  Result<void> exec(const std::string& sql, const Values&... values) {
    auto st = q(sql);
    if (!st) return fail(st.error());
    return st->bind_all(values...).exec();
  }

  /// Runs the INSERT @p sql with @p values bound in order (exec); the new row's id.
  template <typename... Values>
  Result<std::int64_t> insert(const std::string& sql, const Values&... values) {
    M2MDM_TRY(exec(sql, values...));
    return std::int64_t{sqlite3_last_insert_rowid(db.get())};
  }

  /// BEGIN IMMEDIATE ... COMMIT; rolls back unless committed.
  class Tx {
   public:
    explicit Tx(Impl& impl) : impl_(impl) { ok_ = static_cast<bool>(impl_.exec("BEGIN IMMEDIATE")); }
    ~Tx() {
      if (ok_ && !done_) (void)impl_.exec("ROLLBACK");
    }
    Tx(const Tx&) = delete;
    Tx& operator=(const Tx&) = delete;
    bool began() const { return ok_; }
    Result<void> commit() {
      done_ = true;
      auto r = impl_.exec("COMMIT");
      if (!r) (void)impl_.exec("ROLLBACK");
      return r;
    }

   private:
    Impl& impl_;
    bool ok_ = false;
    bool done_ = false;
  };

  /// One write call of SqliteStore: its Lock, then its Tx (BEGIN IMMEDIATE); rolled back unless
  /// committed, before the lock is released (Lock's wait for durability included).
  class WriteTx {
   public:
    explicit WriteTx(Impl& impl) : lock_(impl), tx_(impl) {}
    bool began() const { return tx_.began(); }
    Result<void> commit() { return tx_.commit(); }

   private:
    Lock lock_;
    Tx tx_;
  };

  /// A value bound to a listing's SELECT (its filters are optional: the statement is assembled).
  using SqlValue = std::variant<std::int64_t, std::string>;
  /// Every row of @p sql with @p values bound in order (1, 2, ...), each read by @p read.
  template <typename Read>
  auto select_rows(const std::string& sql, const std::vector<SqlValue>& values, Read read) -> decltype(q(sql)->rows(read)) {
    auto st = q(sql);
    if (!st) return fail(st.error());
    int i = 1;
    for (const auto& v : values) {
      std::visit([&](const auto& x) { st->bind(i, x); }, v);
      ++i;
    }
    return st->rows(read);
  }

  /// One page of rows of @p sql (a SELECT, with or without a WHERE clause; @p values bound to its
  /// placeholders) keyed by the id: newest first after @p cursor (ids below it), or oldest first
  /// (ids above it); @p cursor 0 = the first page. A range of the primary key, so a page never
  /// scans what later pages hold.
  template <typename Read>
  auto select_id_page(std::string sql, std::vector<SqlValue> values, std::int64_t cursor, bool newest_first,
                      std::size_t limit, Read read) {
    if (cursor != 0) {
      sql += sql.find(" WHERE ") == std::string::npos ? " WHERE " : " AND ";
      sql += newest_first ? "id < ?" : "id > ?";
      values.emplace_back(cursor);
    }
    sql += newest_first ? " ORDER BY id DESC LIMIT ?" : " ORDER BY id LIMIT ?";
    values.emplace_back(static_cast<std::int64_t>(limit));
    return select_rows(sql, values, read);
  }

  /// The first row of @p sql (with @p values bound in order) read by @p read (Query::optional_row);
  /// none when there is no row.
  template <typename Read, typename... Values>
  auto optional_row(const std::string& sql, Read read, const Values&... values)
      -> decltype(std::declval<Query&>().optional_row(read)) {
    auto st = q(sql);
    if (!st) return fail(st.error());
    return st->bind_all(values...).optional_row(read);
  }

  /// The first column of the first row of @p sql (with @p values bound in order); a statement
  /// without a row is an error.
  template <typename... Values>
  Result<std::int64_t> scalar(const std::string& sql, const Values&... values) {
    auto st = q(sql);
    if (!st) return fail(st.error());
    int rc = st->bind_all(values...).step();
    if (rc != SQLITE_ROW) return fail(from_sqlite(rc));
    return st->col_i64(0);
  }

  // --- encryption helpers
  /// @p plain sealed with the store's key under @p aad_text (failures as box_error() maps them).
  Result<Bytes> seal_with(ByteView plain, std::string_view aad_text) {
    auto sealed = box.seal(plain, aad_text);
    if (!sealed) return fail(box_error(sealed.error()));
    return sealed;
  }
  /// @p sealed opened under @p aad_text; errc::decrypt_failed when it does not open.
  Result<Bytes> open_with(ByteView sealed, std::string_view aad_text) {
    auto plain = box.open(sealed, aad_text);
    if (!plain) return fail(box_error(plain.error()));
    return Bytes(plain->view().begin(), plain->view().end());
  }
  Result<Bytes> seal(std::string_view column, std::int64_t rowid, ByteView plain) {
    return seal_with(plain, aad("devices", column, rowid));
  }
  Result<Bytes> unseal(std::string_view column, std::int64_t rowid, const Bytes& sealed) {
    if (sealed.empty()) return Bytes{};
    return open_with(sealed, aad("devices", column, rowid));
  }
  /// The DM credentials sealed (as JSON) in @p column of device @p rowid; none for an empty cell.
  Result<std::optional<DmCredentials>> unseal_dm(std::string_view column, std::int64_t rowid, const Bytes& sealed) {
    auto plain = unseal(column, rowid, sealed);
    if (!plain) return fail(plain.error());
    if (plain->empty()) return std::nullopt;
    auto j = nlohmann::json::parse(as_chars(*plain), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail(err(errc::store_corrupt));
    return dm_from_json(j);
  }

  /// A row of "SELECT <kDeviceRow> FROM devices" (or of device_account_columns()), its secrets
  /// opened.
  Result<Device> read_device(Query& st) {
    Device d = kDeviceRow.read(st);
    auto dm = unseal_dm("dm_credentials", d.id, st.col_blob(kDeviceRow.index("dm_credentials")));
    if (!dm) return fail(dm.error());
    if (*dm) d.dm = std::move(**dm);
    auto pin = unseal("device_pin", d.id, st.col_blob(kDeviceRow.index("device_pin")));
    auto k = unseal("k", d.id, st.col_blob(kDeviceRow.index("k")));
    auto opc = unseal("opc", d.id, st.col_blob(kDeviceRow.index("opc")));
    if (!pin) return fail(pin.error());
    if (!k) return fail(k.error());
    if (!opc) return fail(opc.error());
    d.device_pin = std::move(*pin);
    d.k = std::move(*k);
    d.opc = std::move(*opc);
    auto pending = unseal_dm("pending_dm_credentials", d.id, st.col_blob(kDeviceRow.index("pending_dm_credentials")));
    if (!pending) return fail(pending.error());
    d.pending_dm = std::move(*pending);
    // The nonces set since dm_credentials was last written (migration 0011).
    if (constexpr int server_nonce = kDeviceRow.index("dm_server_nonce"); !st.col_null(server_nonce)) {
      d.dm.server_nonce = st.col_blob(server_nonce);
      d.dm.client_nonce = st.col_blob(kDeviceRow.index("dm_client_nonce"));
    }
    return d;
  }

  /// One page of the devices whose @p owner_column ("sho_id", "subscriber_id") is @p owner, by
  /// DevId after @p after_dev_id.
  Result<std::vector<Device>> devices_page(const char* owner_column, std::int64_t owner, std::string_view after_dev_id,
                                           std::size_t limit) {
    auto st = q("SELECT " + column_list<kDeviceRow>() + " FROM devices WHERE " + owner_column +
                " = ? AND dev_id > ? ORDER BY dev_id LIMIT ?");
    if (!st) return fail(st.error());
    st->i64(1, owner).text(2, after_dev_id).i64(3, static_cast<std::int64_t>(limit));
    return st->rows([this](Query& row) { return read_device(row); });
  }

  /// The row of "SELECT @p columns FROM @p table WHERE @p column = ?" with @p value bound
  /// (Query::bind), read by @p read (returning T or Result<T>); not_found when there is none.
  template <typename Value, typename Read>
  auto row_where(const std::string& columns, const char* table, const char* column, const Value& value, Read read)
      -> Result<typename ValueOf<std::invoke_result_t<Read, Query&>>::type> {
    auto st = q("SELECT " + columns + " FROM " + table + " WHERE " + column + " = ?");
    if (!st) return fail(st.error());
    st->bind(1, value);
    M2MDM_TRY(st->row());
    return read(*st);
  }

  /// Every row of "SELECT @p columns FROM @p table WHERE @p column = ? ORDER BY id" with @p value
  /// bound, each read by @p read (Query::rows).
  template <typename Value, typename Read>
  auto rows_where(const std::string& columns, const char* table, const char* column, const Value& value, Read read)
      -> decltype(std::declval<Query&>().rows(read)) {
    auto st = q("SELECT " + columns + " FROM " + table + " WHERE " + column + " = ? ORDER BY id");
    if (!st) return fail(st.error());
    st->bind(1, value);
    return st->rows(read);
  }

  Result<Device> device_where(const char* column, std::string_view value) {
    return row_where(column_list<kDeviceRow>(), "devices", column, value,
                     [this](Query& row) { return read_device(row); });
  }

  /// A row of "SELECT <kJobRow> FROM jobs".
  static Job read_job(Query& st) { return kJobRow.read(st); }

  Result<Job> job_where(const char* column, auto value) {
    return row_where(column_list<kJobRow>(), "jobs", column, value, read_job);
  }

  Result<Sho> sho_where(const char* column, auto value) {
    return row_where(column_list<kShoRow>(), "shos", column, value, read_sho);
  }

  /// A row of "SELECT <kShoRow> FROM shos".
  static Sho read_sho(Query& st) { return kShoRow.read(st); }

  // --- SHO imports of devices held elsewhere (sqlite_devices.cpp)
  /// One SHO's shadow record of a DevId it imported while someone else held it.
  struct Shadow {
    std::int64_t id = 0;
    Device device;  ///< dev_id, sho_id and the imported members
  };
  /// The shadow of @p sho_id whose @p column ("dev_id" or "pcid") is @p value, if any.
  Result<std::optional<Shadow>> shadow_where(std::int64_t sho_id, const char* column, std::string_view value);
  /// Inserts device @p d with its secrets (inside the caller's transaction).
  Result<void> insert_device(const Device& d, std::int64_t now);
  /// Re-states the registry data of the existing device @p e as @p merged (state, SQN, PfC and
  /// nonces are kept: an import re-states registry data, not progress).
  Result<void> update_device(const Device& e, const Device& merged, std::int64_t now);
  /// Inserts (@p id 0) or rewrites the shadow record @p d of @p sho_id, sealed.
  Result<void> write_shadow(std::int64_t sho_id, std::int64_t id, const Device& d, std::int64_t now);

  /// Inserts a job (and its audit entry) inside the caller's transaction (sqlite_jobs.cpp).
  Result<Job> insert_job(const NewJob& job, std::int64_t now);

  // --- operator changes (defined in sqlite_operator_changes.cpp)
  /// The change @p job moves on (if any), inside the caller's transaction: A's install result
  /// makes it terminal, names the new SHO and tells the old SHO; B's reset result makes it
  /// pristine (the new SHO named, the old SHO told) or failed; B's install result makes it terminal.
  Result<void> complete_operator_change(const Job& job, bool ok, int code, std::int64_t now);
  /// Variant B: the pristine change of @p dev_id (if any) gets its install job (inside the
  /// caller's transaction; called when the device first authenticates after its re-bootstrap).
  Result<void> begin_reprovisioning(std::string_view dev_id, std::int64_t now);
  Result<void> set_change_outcome(const OperatorChange& change, ChangeState to, int code, std::int64_t now);
  Result<void> move_device_to(const OperatorChange& change, std::int64_t now);
  Result<void> tell_old_sho(const OperatorChange& change, bool left, std::int64_t now);
  /// Changes whose job ended without a result (expired, cancelled) become failed.
  Result<void> fail_changes_of_ended_jobs(std::int64_t now);
  Result<OperatorChange> change_where(const char* column, std::int64_t value);

  /// Inserts one outbox row, due at @p now; returns its id (inside the caller's lock/transaction).
  Result<std::int64_t> insert_callback(std::int64_t sho_id, std::string_view url, std::string_view body,
                                       std::int64_t now) {
    return insert("INSERT INTO outbox(sho_id, url, body, attempts, next_attempt_at) VALUES(?,?,?,0,?)", sho_id, url,
                  body, now);
  }

  /// Enqueues a callback to SHO @p sho_id if it registered a URL (inside the caller's transaction).
  Result<void> enqueue_callback_for(std::int64_t sho_id, const nlohmann::json& body, std::int64_t now) {
    auto sho = sho_where("id", sho_id);
    if (!sho) return fail(sho.error());
    if (sho->callback_url.empty()) return {};
    M2MDM_TRY(insert_callback(sho->id, sho->callback_url, body.dump(), now));
    return {};
  }

  Result<void> audit(const AuditEntry& e) {
    return exec("INSERT INTO audit(at, actor, action, subject, detail) VALUES(?,?,?,?,?)", e.at, e.actor, e.action,
                e.subject, e.detail);
  }

  /// Writes every secret column of device @p rowid.
  Result<void> write_secrets(std::int64_t rowid, const Device& d) {
    auto dm_json = dm_to_json(d.dm).dump();
    auto dm = seal("dm_credentials", rowid, as_bytes(dm_json));
    auto pin = seal("device_pin", rowid, d.device_pin);
    auto k = seal("k", rowid, d.k);
    auto opc = seal("opc", rowid, d.opc);
    if (!dm || !pin || !k || !opc) return fail(err(errc::io_error));
    return exec("UPDATE devices SET dm_credentials = ?, device_pin = ?, k = ?, opc = ? WHERE id = ?", *dm, *pin, *k,
                *opc, rowid);
  }

  /// not_found when the last statement changed no row.
  Result<void> changed_one() {
    if (sqlite3_changes(db.get()) == 0) return fail(err(errc::not_found));
    return {};
  }

  /// Runs the UPDATE @p sql with @p values bound in order (exec); not_found when it changed no row.
  template <typename... Values>
  Result<void> update_one(const std::string& sql, const Values&... values) {
    M2MDM_TRY(exec(sql, values...));
    return changed_one();
  }

  /// Seals @p dm and writes it as the DM credentials of device @p rowid.
  Result<void> write_dm_credentials(std::int64_t rowid, const DmCredentials& dm, std::int64_t now) {
    auto json = dm_to_json(dm).dump();
    auto sealed = seal("dm_credentials", rowid, as_bytes(json));
    if (!sealed) return fail(sealed.error());
    return exec("UPDATE devices SET dm_credentials = ?, updated = ? WHERE id = ?", *sealed, now, rowid);
  }
};

}  // namespace m2mdm::server
