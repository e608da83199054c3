// SqliteStore: the Store on one SQLite connection (WAL, foreign keys, busy timeout,
// PRAGMA user_version migrations, cached prepared statements), serialised by one mutex so that
// there is exactly one writer; multi-statement changes run in BEGIN IMMEDIATE transactions.
// Secrets are sealed with AES-256-GCM; AAD = "<table>|<column>|<rowid>" binds each ciphertext
// to its cell so that one row's secret cannot be swapped into another.
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/store.hpp"

#include "crash_point.hpp"

#include <nlohmann/json.hpp>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <functional>
#include <mutex>
#include <unordered_map>

namespace m2mdm::server {
namespace {

constexpr int kSchemaVersion = 2;
constexpr std::int64_t kApplicationId = 0x4D324D44;  // "M2MD"

// Each entry migrates from version (index) to (index + 1).
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE shos(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  token_hash BLOB NOT NULL UNIQUE,
  callback_url TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL);
CREATE TABLE devices(
  id INTEGER PRIMARY KEY,
  dev_id TEXT NOT NULL UNIQUE,
  pcid TEXT NOT NULL UNIQUE,
  sho_id INTEGER REFERENCES shos(id),
  dpf_address TEXT NOT NULL DEFAULT '',
  dm_credentials BLOB,
  device_pin BLOB,
  k BLOB,
  opc BLOB,
  sqn INTEGER NOT NULL DEFAULT 0,
  pfc_der BLOB,
  pfc_validation TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL DEFAULT 'imported',
  last_seen INTEGER NOT NULL DEFAULT 0,
  push_address TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL);
CREATE INDEX devices_sho ON devices(sho_id, dev_id);
CREATE TABLE jobs(
  id INTEGER PRIMARY KEY,
  dev_id TEXT NOT NULL REFERENCES devices(dev_id),
  sho_id INTEGER NOT NULL REFERENCES shos(id),
  kind TEXT NOT NULL,
  payload BLOB NOT NULL,
  authorisation TEXT NOT NULL,
  correlator TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  deadline INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL);
CREATE INDEX jobs_dev_state ON jobs(dev_id, state, id);
CREATE TABLE results(
  job_id INTEGER PRIMARY KEY REFERENCES jobs(id),
  code INTEGER NOT NULL,
  message TEXT NOT NULL,
  at INTEGER NOT NULL);
CREATE TABLE audit(
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT NOT NULL);
CREATE TABLE outbox(
  id INTEGER PRIMARY KEY,
  sho_id INTEGER NOT NULL REFERENCES shos(id),
  url TEXT NOT NULL,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  acknowledged INTEGER NOT NULL DEFAULT 0);
CREATE INDEX outbox_due ON outbox(acknowledged, next_attempt_at);
)sql",
    // 1 -> 2: DRF (per-device SEC method, bootstrap history with the application context's
    // credentials sealed) and the package 0 trigger's retry state on jobs.
    R"sql(
ALTER TABLE devices ADD COLUMN sec_method TEXT NOT NULL DEFAULT 'USERPIN';
ALTER TABLE jobs ADD COLUMN notify_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN next_notify_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_notify ON jobs(state, next_notify_at);
CREATE TABLE bootstraps(
  id INTEGER PRIMARY KEY,
  dev_id TEXT NOT NULL REFERENCES devices(dev_id),
  issued INTEGER NOT NULL,
  actor TEXT NOT NULL,
  sec_method TEXT NOT NULL,
  delivery TEXT NOT NULL,
  rebootstrap INTEGER NOT NULL DEFAULT 0,
  active INTEGER NOT NULL DEFAULT 1,
  app_credentials BLOB);
CREATE INDEX bootstraps_dev ON bootstraps(dev_id, active);
)sql",
};
static_assert(std::size(kMigrations) == kSchemaVersion);

std::error_code err(errc e) { return make_error_code(e); }

std::error_code from_sqlite(int rc) {
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

std::string aad(std::string_view table, std::string_view column, std::int64_t rowid) {
  return std::string(table) + "|" + std::string(column) + "|" + std::to_string(rowid);
}

std::string random_hex(std::size_t n) {
  Bytes b(n);
  if (RAND_bytes(b.data(), static_cast<int>(n)) != 1) return {};
  return hex_encode(b);
}

nlohmann::json dm_to_json(const DmCredentials& dm) {
  return {{"server_id", dm.server_id},           {"server_username", dm.server_username},
          {"server_password", dm.server_password}, {"server_nonce", hex_encode(dm.server_nonce)},
          {"client_username", dm.client_username}, {"client_password", dm.client_password},
          {"client_nonce", hex_encode(dm.client_nonce)}};
}

DmCredentials dm_from_json(const nlohmann::json& j) {
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

bool same_dm(const DmCredentials& a, const DmCredentials& b) {
  return a.server_id == b.server_id && a.server_username == b.server_username &&
         a.server_password == b.server_password && a.client_username == b.client_username &&
         a.client_password == b.client_password;
}

constexpr const char* kDeviceColumns =
    "id, dev_id, pcid, sho_id, dpf_address, dm_credentials, device_pin, k, opc, sqn, pfc_der, "
    "pfc_validation, state, last_seen, push_address, created, updated, sec_method";
constexpr const char* kJobColumns =
    "id, dev_id, sho_id, kind, payload, authorisation, correlator, state, attempts, deadline, created, updated, "
    "notify_attempts, next_notify_at";
constexpr const char* kBootstrapColumns = "id, dev_id, issued, actor, sec_method, delivery, rebootstrap, active";

bool dm_empty(const DmCredentials& dm) {
  return dm.server_id.empty() && dm.server_username.empty() && dm.server_password.empty() &&
         dm.client_username.empty() && dm.client_password.empty();
}

}  // namespace

#define M2MDM_TRY(expr)                                   \
  do {                                                    \
    if (auto m2mdm_try_r = (expr); !m2mdm_try_r)          \
      return ::m2mdm::fail(m2mdm_try_r.error());          \
  } while (false)

struct SqliteStore::Impl {
  DbPtr db;
  SecretBox box;
  std::mutex mutex;
  std::unordered_map<std::string, StmtPtr> cache;

  Impl(DbPtr d, SecretBox b) : db(std::move(d)), box(std::move(b)) {}

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

  /// BEGIN IMMEDIATE ... COMMIT; rolls back unless committed.
  class Tx {
   public:
    explicit Tx(Impl& impl) : impl_(impl) { ok_ = static_cast<bool>(impl_.exec_script("BEGIN IMMEDIATE")); }
    ~Tx() {
      if (ok_ && !done_) (void)impl_.exec_script("ROLLBACK");
    }
    Tx(const Tx&) = delete;
    Tx& operator=(const Tx&) = delete;
    bool began() const { return ok_; }
    Result<void> commit() {
      done_ = true;
      auto r = impl_.exec_script("COMMIT");
      if (!r) (void)impl_.exec_script("ROLLBACK");
      return r;
    }

   private:
    Impl& impl_;
    bool ok_ = false;
    bool done_ = false;
  };

  Result<std::int64_t> scalar(const std::string& sql) {
    auto st = q(sql);
    if (!st) return fail(st.error());
    int rc = st->step();
    if (rc != SQLITE_ROW) return fail(from_sqlite(rc));
    return st->col_i64(0);
  }

  // --- encryption helpers
  Result<Bytes> seal(std::string_view column, std::int64_t rowid, ByteView plain) {
    return box.seal(plain, aad("devices", column, rowid));
  }
  Result<Bytes> unseal(std::string_view column, std::int64_t rowid, const Bytes& sealed) {
    if (sealed.empty()) return Bytes{};
    return box.open(sealed, aad("devices", column, rowid));
  }

  Result<Device> read_device(Query& st) {
    Device d;
    d.id = st.col_i64(0);
    d.dev_id = st.col_text(1);
    d.pcid = st.col_text(2);
    if (!st.col_null(3)) d.sho_id = st.col_i64(3);
    d.dpf_address = st.col_text(4);
    auto dm = unseal("dm_credentials", d.id, st.col_blob(5));
    if (!dm) return fail(dm.error());
    if (!dm->empty()) {
      auto j = nlohmann::json::parse(as_chars(*dm), nullptr, false);
      if (j.is_discarded() || !j.is_object()) return fail(err(errc::store_corrupt));
      d.dm = dm_from_json(j);
    }
    auto pin = unseal("device_pin", d.id, st.col_blob(6));
    auto k = unseal("k", d.id, st.col_blob(7));
    auto opc = unseal("opc", d.id, st.col_blob(8));
    if (!pin) return fail(pin.error());
    if (!k) return fail(k.error());
    if (!opc) return fail(opc.error());
    d.device_pin = std::move(*pin);
    d.k = std::move(*k);
    d.opc = std::move(*opc);
    d.sqn = static_cast<std::uint64_t>(st.col_i64(9));
    d.pfc_der = st.col_blob(10);
    d.pfc_validation = st.col_text(11);
    d.state = device_state_from_string(st.col_text(12)).value_or(DeviceState::imported);
    d.last_seen = st.col_i64(13);
    d.push_address = st.col_text(14);
    d.created = st.col_i64(15);
    d.updated = st.col_i64(16);
    d.sec_method = st.col_text(17);
    return d;
  }

  Result<Device> device_where(const char* column, std::string_view value) {
    auto st = q(std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE " + column + " = ?");
    if (!st) return fail(st.error());
    st->text(1, value);
    int rc = st->step();
    if (rc == SQLITE_DONE) return fail(err(errc::not_found));
    if (rc != SQLITE_ROW) return fail(from_sqlite(rc));
    return read_device(*st);
  }

  static Job read_job(Query& st) {
    Job j;
    j.id = st.col_i64(0);
    j.dev_id = st.col_text(1);
    j.sho_id = st.col_i64(2);
    j.kind = job_kind_from_string(st.col_text(3)).value_or(JobKind::install);
    j.payload = st.col_blob(4);
    j.authorisation = st.col_text(5);
    j.correlator = st.col_text(6);
    j.state = job_state_from_string(st.col_text(7)).value_or(JobState::failed);
    j.attempts = static_cast<int>(st.col_i64(8));
    j.deadline = st.col_i64(9);
    j.created = st.col_i64(10);
    j.updated = st.col_i64(11);
    j.notify_attempts = static_cast<int>(st.col_i64(12));
    j.next_notify_at = st.col_i64(13);
    return j;
  }

  Result<Job> job_where(const char* column, auto value) {
    auto st = q(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE " + column + " = ?");
    if (!st) return fail(st.error());
    if constexpr (std::is_same_v<decltype(value), std::int64_t>)
      st->i64(1, value);
    else
      st->text(1, value);
    int rc = st->step();
    if (rc == SQLITE_DONE) return fail(err(errc::not_found));
    if (rc != SQLITE_ROW) return fail(from_sqlite(rc));
    return read_job(*st);
  }

  Result<Sho> sho_where(const char* column, auto value) {
    auto st = q(std::string("SELECT id, name, token_hash, callback_url, created FROM shos WHERE ") + column + " = ?");
    if (!st) return fail(st.error());
    if constexpr (std::is_same_v<decltype(value), std::int64_t>)
      st->i64(1, value);
    else
      st->blob(1, value);
    int rc = st->step();
    if (rc == SQLITE_DONE) return fail(err(errc::not_found));
    if (rc != SQLITE_ROW) return fail(from_sqlite(rc));
    return Sho{st->col_i64(0), st->col_text(1), st->col_blob(2), st->col_text(3), st->col_i64(4)};
  }

  Result<void> audit(const AuditEntry& e) {
    auto st = q("INSERT INTO audit(at, actor, action, subject, detail) VALUES(?,?,?,?,?)");
    if (!st) return fail(st.error());
    st->i64(1, e.at).text(2, e.actor).text(3, e.action).text(4, e.subject).text(5, e.detail);
    return st->exec();
  }

  /// Writes every secret column of device @p rowid.
  Result<void> write_secrets(std::int64_t rowid, const Device& d) {
    auto dm_json = dm_to_json(d.dm).dump();
    auto dm = seal("dm_credentials", rowid, as_bytes(dm_json));
    auto pin = seal("device_pin", rowid, d.device_pin);
    auto k = seal("k", rowid, d.k);
    auto opc = seal("opc", rowid, d.opc);
    if (!dm || !pin || !k || !opc) return fail(err(errc::io_error));
    auto st = q("UPDATE devices SET dm_credentials = ?, device_pin = ?, k = ?, opc = ? WHERE id = ?");
    if (!st) return fail(st.error());
    st->blob(1, *dm).blob(2, *pin).blob(3, *k).blob(4, *opc).i64(5, rowid);
    return st->exec();
  }

  Result<void> changed_one(sqlite3* d) {
    if (sqlite3_changes(d) == 0) return fail(err(errc::not_found));
    return {};
  }
};

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;
int SqliteStore::schema_version() noexcept { return kSchemaVersion; }

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::filesystem::path& path, SecretBox box,
                                                       SqliteOptions options) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    spdlog::error("store: cannot open {}: {}", path.string(), raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    return fail(rc == SQLITE_CANTOPEN ? err(errc::io_error) : from_sqlite(rc));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);
  auto impl = std::make_unique<Impl>(std::move(db), std::move(box));

  // Read-only probes first: a file that is not a database is reported, never rewritten.
  auto version = impl->scalar("PRAGMA user_version");
  if (!version) {
    spdlog::error("store: {} is not a usable SQLite database: {}", path.string(), version.error().message());
    return fail(version.error());
  }
  {
    auto st = impl->q("PRAGMA quick_check");
    if (!st) return fail(st.error());
    int qrc = st->step();
    if (qrc != SQLITE_ROW) return fail(from_sqlite(qrc));
    if (auto verdict = st->col_text(0); verdict != "ok") {
      spdlog::error("store: {} failed integrity check: {}", path.string(), verdict);
      return fail(err(errc::store_corrupt));
    }
  }
  auto app_id = impl->scalar("PRAGMA application_id");
  if (!app_id) return fail(app_id.error());
  if (*version > 0 && *app_id != kApplicationId) {
    spdlog::error("store: {} is a SQLite database but not an m2mdm store", path.string());
    return fail(err(errc::store_corrupt));
  }
  if (*version > kSchemaVersion) {
    spdlog::error("store: {} has schema {} (newer than this build's {})", path.string(), *version, kSchemaVersion);
    return fail(err(errc::store_corrupt));
  }
  M2MDM_TRY(impl->exec_script("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"));
  for (auto v = *version; v < kSchemaVersion; ++v) {
    Impl::Tx tx(*impl);
    if (!tx.began()) return fail(err(errc::io_error));
    M2MDM_TRY(impl->exec_script(kMigrations[v]));
    M2MDM_TRY(impl->exec_script(("PRAGMA user_version = " + std::to_string(v + 1) +
                                 "; PRAGMA application_id = " + std::to_string(kApplicationId))
                                    .c_str()));
    M2MDM_TRY(tx.commit());
    spdlog::info("store: migrated {} to schema {}", path.string(), v + 1);
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

Result<void> SqliteStore::ping() {
  std::lock_guard lock(impl_->mutex);
  auto v = impl_->scalar("SELECT count(*) FROM shos");
  if (!v) return fail(v.error());
  return {};
}

// ---------------------------------------------------------------- SHOs

Result<Sho> SqliteStore::create_sho(std::string_view name, ByteView token_hash, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q("INSERT INTO shos(name, token_hash, created) VALUES(?,?,?)");
  if (!st) return fail(st.error());
  st->text(1, name).blob(2, token_hash).i64(3, now);
  M2MDM_TRY(st->exec());
  return impl_->sho_where("id", std::int64_t{sqlite3_last_insert_rowid(impl_->db.get())});
}

Result<Sho> SqliteStore::get_sho(std::int64_t id) {
  std::lock_guard lock(impl_->mutex);
  return impl_->sho_where("id", id);
}

Result<Sho> SqliteStore::find_sho_by_token_hash(ByteView token_hash) {
  std::lock_guard lock(impl_->mutex);
  return impl_->sho_where("token_hash", token_hash);
}

Result<std::vector<Sho>> SqliteStore::list_shos() {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q("SELECT id, name, token_hash, callback_url, created FROM shos ORDER BY id");
  if (!st) return fail(st.error());
  std::vector<Sho> out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW)
    out.push_back({st->col_i64(0), st->col_text(1), st->col_blob(2), st->col_text(3), st->col_i64(4)});
  if (rc != SQLITE_DONE) return fail(from_sqlite(rc));
  return out;
}

Result<void> SqliteStore::set_sho_callback(std::int64_t sho_id, std::string_view url) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q("UPDATE shos SET callback_url = ? WHERE id = ?");
  if (!st) return fail(st.error());
  st->text(1, url).i64(2, sho_id);
  M2MDM_TRY(st->exec());
  return impl_->changed_one(impl_->db.get());
}

// ---------------------------------------------------------------- devices

Result<ImportCounts> SqliteStore::upsert_devices(std::span<const Device> devices, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  Impl::Tx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  ImportCounts counts;
  std::size_t n = 0;
  for (const Device& d : devices) {
    if (++n == devices.size() / 2 + 1) crash_point("upsert_devices.mid");
    auto existing = impl_->device_where("dev_id", d.dev_id);
    if (!existing && existing.error() != err(errc::not_found)) return fail(existing.error());
    if (!existing) {
      auto st = impl_->q(
          "INSERT INTO devices(dev_id, pcid, sho_id, dpf_address, sqn, state, push_address, created, updated, "
          "sec_method) VALUES(?,?,?,?,?,?,?,?,?,?)");
      if (!st) return fail(st.error());
      st->text(1, d.dev_id).text(2, d.pcid);
      if (d.sho_id)
        st->i64(3, *d.sho_id);
      else
        st->null(3);
      st->text(4, d.dpf_address)
          .i64(5, static_cast<std::int64_t>(d.sqn))
          .text(6, to_string(d.state))
          .text(7, d.push_address)
          .i64(8, now)
          .i64(9, now)
          .text(10, d.sec_method.empty() ? std::string_view("USERPIN") : std::string_view(d.sec_method));
      M2MDM_TRY(st->exec());
      M2MDM_TRY(impl_->write_secrets(sqlite3_last_insert_rowid(impl_->db.get()), d));
      ++counts.inserted;
      continue;
    }
    const Device& e = *existing;
    // Secrets and delivery settings the import leaves out are kept (a re-import must not wipe the
    // DM credentials the DRF issued, nor the PIN or K/OPc).
    Device merged = d;
    if (dm_empty(d.dm)) merged.dm = e.dm;
    if (d.device_pin.empty()) merged.device_pin = e.device_pin;
    if (d.k.empty()) merged.k = e.k;
    if (d.opc.empty()) merged.opc = e.opc;
    if (d.push_address.empty()) merged.push_address = e.push_address;
    if (d.sec_method.empty()) merged.sec_method = e.sec_method;
    if (e.pcid == merged.pcid && e.sho_id == merged.sho_id && e.dpf_address == merged.dpf_address &&
        same_dm(e.dm, merged.dm) && e.device_pin == merged.device_pin && e.k == merged.k && e.opc == merged.opc &&
        e.push_address == merged.push_address && e.sec_method == merged.sec_method) {
      ++counts.unchanged;
      continue;
    }
    // Keeps state, SQN, PfC, nonces: an import re-states registry data, not progress.
    merged.dm.server_nonce = e.dm.server_nonce;
    merged.dm.client_nonce = e.dm.client_nonce;
    auto st = impl_->q(
        "UPDATE devices SET pcid = ?, sho_id = ?, dpf_address = ?, push_address = ?, updated = ?, sec_method = ? "
        "WHERE id = ?");
    if (!st) return fail(st.error());
    st->text(1, d.pcid);
    if (d.sho_id)
      st->i64(2, *d.sho_id);
    else
      st->null(2);
    st->text(3, d.dpf_address).text(4, merged.push_address).i64(5, now).text(6, merged.sec_method).i64(7, e.id);
    M2MDM_TRY(st->exec());
    M2MDM_TRY(impl_->write_secrets(e.id, merged));
    ++counts.updated;
  }
  M2MDM_TRY(tx.commit());
  return counts;
}

Result<Device> SqliteStore::get_device(std::string_view dev_id) {
  std::lock_guard lock(impl_->mutex);
  return impl_->device_where("dev_id", dev_id);
}

Result<Device> SqliteStore::get_device_by_pcid(std::string_view pcid) {
  std::lock_guard lock(impl_->mutex);
  return impl_->device_where("pcid", pcid);
}

Result<std::vector<Device>> SqliteStore::list_devices(std::int64_t sho_id, std::string_view after_dev_id,
                                                      std::size_t limit) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q(std::string("SELECT ") + kDeviceColumns +
                     " FROM devices WHERE sho_id = ? AND dev_id > ? ORDER BY dev_id LIMIT ?");
  if (!st) return fail(st.error());
  st->i64(1, sho_id).text(2, after_dev_id).i64(3, static_cast<std::int64_t>(limit));
  std::vector<Device> out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) {
    auto d = impl_->read_device(*st);
    if (!d) return fail(d.error());
    out.push_back(std::move(*d));
  }
  if (rc != SQLITE_DONE) return fail(from_sqlite(rc));
  return out;
}

namespace {
/// Runs a single-row UPDATE keyed by dev_id; not_found when no row changed.
Result<void> update_device(SqliteStore::Impl& impl, const std::string& sql, const std::function<void(Query&)>& bind) {
  auto st = impl.q(sql);
  if (!st) return fail(st.error());
  bind(*st);
  M2MDM_TRY(st->exec());
  return impl.changed_one(impl.db.get());
}
}  // namespace

Result<void> SqliteStore::set_device_state(std::string_view dev_id, DeviceState state, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  return update_device(*impl_, "UPDATE devices SET state = ?, updated = ? WHERE dev_id = ?",
                         [&](Query& st) { st.text(1, to_string(state)).i64(2, now).text(3, dev_id); });
}

Result<void> SqliteStore::touch_device(std::string_view dev_id, std::string_view push_address, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  return update_device(
      *impl_,
      "UPDATE devices SET last_seen = ?, push_address = CASE WHEN ? = '' THEN push_address ELSE ? END, "
      "updated = ? WHERE dev_id = ?",
      [&](Query& st) { st.i64(1, now).text(2, push_address).text(3, push_address).i64(4, now).text(5, dev_id); });
}

Result<void> SqliteStore::set_device_pfc(std::string_view dev_id, ByteView pfc_der, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  return update_device(*impl_, "UPDATE devices SET pfc_der = ?, updated = ? WHERE dev_id = ?",
                         [&](Query& st) { st.blob(1, pfc_der).i64(2, now).text(3, dev_id); });
}

Result<void> SqliteStore::set_pfc_validation(std::string_view dev_id, std::string_view verdict_json,
                                             std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  return update_device(*impl_, "UPDATE devices SET pfc_validation = ?, updated = ? WHERE dev_id = ?",
                         [&](Query& st) { st.text(1, verdict_json).i64(2, now).text(3, dev_id); });
}

Result<void> SqliteStore::set_dm_credentials(std::string_view dev_id, const DmCredentials& dm, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  auto dev = impl_->device_where("dev_id", dev_id);
  if (!dev) return fail(dev.error());
  auto json = dm_to_json(dm).dump();
  auto sealed = impl_->seal("dm_credentials", dev->id, as_bytes(json));
  if (!sealed) return fail(sealed.error());
  auto st = impl_->q("UPDATE devices SET dm_credentials = ?, updated = ? WHERE id = ?");
  if (!st) return fail(st.error());
  st->blob(1, *sealed).i64(2, now).i64(3, dev->id);
  return st->exec();
}

Result<void> SqliteStore::set_dm_nonces(std::string_view dev_id, ByteView server_nonce, ByteView client_nonce,
                                        std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  auto dev = impl_->device_where("dev_id", dev_id);
  if (!dev) return fail(dev.error());
  DmCredentials dm = dev->dm;
  dm.server_nonce.assign(server_nonce.begin(), server_nonce.end());
  dm.client_nonce.assign(client_nonce.begin(), client_nonce.end());
  auto json = dm_to_json(dm).dump();
  auto sealed = impl_->seal("dm_credentials", dev->id, as_bytes(json));
  if (!sealed) return fail(sealed.error());
  auto st = impl_->q("UPDATE devices SET dm_credentials = ?, updated = ? WHERE id = ?");
  if (!st) return fail(st.error());
  st->blob(1, *sealed).i64(2, now).i64(3, dev->id);
  return st->exec();
}

Result<std::uint64_t> SqliteStore::reserve_sqn(std::string_view pcid, std::uint32_t count, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  constexpr std::uint64_t kSqnMax = (std::uint64_t{1} << 48) - 1;
  auto st = impl_->q(
      "UPDATE devices SET sqn = sqn + ?, updated = ? WHERE pcid = ? AND sqn + ? <= ? RETURNING sqn - ?");
  if (!st) return fail(st.error());
  st->i64(1, count).i64(2, now).text(3, pcid).i64(4, count).i64(5, static_cast<std::int64_t>(kSqnMax)).i64(6, count);
  int rc = st->step();
  if (rc == SQLITE_DONE) return fail(err(errc::not_found));
  if (rc != SQLITE_ROW) return fail(from_sqlite(rc));
  auto first = static_cast<std::uint64_t>(st->col_i64(0));
  while ((rc = st->step()) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return fail(from_sqlite(rc));
  return first;
}

Result<void> SqliteStore::set_sqn(std::string_view pcid, std::uint64_t next_sqn, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q("UPDATE devices SET sqn = ?, updated = ? WHERE pcid = ?");
  if (!st) return fail(st.error());
  st->i64(1, static_cast<std::int64_t>(next_sqn)).i64(2, now).text(3, pcid);
  M2MDM_TRY(st->exec());
  return impl_->changed_one(impl_->db.get());
}

Result<void> SqliteStore::patch_device(std::string_view dev_id, const DevicePatch& patch, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  Impl::Tx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  auto dev = impl_->device_where("dev_id", dev_id);
  if (!dev) return fail(dev.error());
  auto st = impl_->q("UPDATE devices SET push_address = ?, sec_method = ?, updated = ? WHERE id = ?");
  if (!st) return fail(st.error());
  st->text(1, patch.push_address.value_or(dev->push_address))
      .text(2, patch.sec_method.value_or(dev->sec_method))
      .i64(3, now)
      .i64(4, dev->id);
  M2MDM_TRY(st->exec());
  return tx.commit();
}

// ---------------------------------------------------------------- jobs

Result<Job> SqliteStore::create_job(const NewJob& job, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  Impl::Tx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  auto dev = impl_->device_where("dev_id", job.dev_id);
  if (!dev) return fail(dev.error());
  const std::string correlator = job.correlator.empty() ? "pending-" + random_hex(16) : job.correlator;
  auto st = impl_->q(
      "INSERT INTO jobs(dev_id, sho_id, kind, payload, authorisation, correlator, state, attempts, deadline, "
      "created, updated) VALUES(?,?,?,?,?,?,'queued',0,?,?,?)");
  if (!st) return fail(st.error());
  st->text(1, job.dev_id)
      .i64(2, job.sho_id)
      .text(3, to_string(job.kind))
      .blob(4, job.payload)
      .text(5, job.authorisation)
      .text(6, correlator)
      .i64(7, job.deadline)
      .i64(8, now)
      .i64(9, now);
  M2MDM_TRY(st->exec());
  const std::int64_t id = sqlite3_last_insert_rowid(impl_->db.get());
  crash_point("create_job.mid");
  if (job.correlator.empty()) {
    auto up = impl_->q("UPDATE jobs SET correlator = ? WHERE id = ?");
    if (!up) return fail(up.error());
    up->text(1, "job-" + std::to_string(id) + "-" + random_hex(8)).i64(2, id);
    M2MDM_TRY(up->exec());
  }
  M2MDM_TRY(impl_->audit({0, now, "sho:" + std::to_string(job.sho_id), "job.create", std::to_string(id),
                          std::string(to_string(job.kind)) + " for " + job.dev_id}));
  M2MDM_TRY(tx.commit());
  return impl_->job_where("id", id);
}

Result<Job> SqliteStore::get_job(std::int64_t id) {
  std::lock_guard lock(impl_->mutex);
  return impl_->job_where("id", id);
}

Result<Job> SqliteStore::get_job_by_correlator(std::string_view correlator) {
  std::lock_guard lock(impl_->mutex);
  return impl_->job_where("correlator", correlator);
}

Result<std::vector<Job>> SqliteStore::list_jobs(std::string_view dev_id) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE dev_id = ? ORDER BY id");
  if (!st) return fail(st.error());
  st->text(1, dev_id);
  std::vector<Job> out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) out.push_back(Impl::read_job(*st));
  if (rc != SQLITE_DONE) return fail(from_sqlite(rc));
  return out;
}

Result<std::optional<Job>> SqliteStore::active_job(std::string_view dev_id) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q(std::string("SELECT ") + kJobColumns +
                     " FROM jobs WHERE dev_id = ? AND state IN ('delivering','delivered','awaiting_result') "
                     "ORDER BY id LIMIT 1");
  if (!st) return fail(st.error());
  st->text(1, dev_id);
  int rc = st->step();
  if (rc == SQLITE_DONE) return std::optional<Job>{};
  if (rc != SQLITE_ROW) return fail(from_sqlite(rc));
  return std::optional<Job>{Impl::read_job(*st)};
}

Result<std::optional<Job>> SqliteStore::claim_next_job(std::string_view dev_id, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  Impl::Tx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  {
    auto busy = impl_->q(
        "SELECT count(*) FROM jobs WHERE dev_id = ? AND state IN ('delivering','delivered','awaiting_result')");
    if (!busy) return fail(busy.error());
    busy->text(1, dev_id);
    if (int rc = busy->step(); rc != SQLITE_ROW) return fail(from_sqlite(rc));
    if (busy->col_i64(0) > 0) return std::optional<Job>{};
  }
  std::int64_t id = 0;
  {
    auto next = impl_->q(
        "SELECT id FROM jobs WHERE dev_id = ? AND state IN ('queued','notified') AND (deadline = 0 OR deadline >= ?) "
        "ORDER BY id LIMIT 1");
    if (!next) return fail(next.error());
    next->text(1, dev_id).i64(2, now);
    int rc = next->step();
    if (rc == SQLITE_DONE) return std::optional<Job>{};
    if (rc != SQLITE_ROW) return fail(from_sqlite(rc));
    id = next->col_i64(0);
  }
  crash_point("claim_next_job.mid");
  auto up = impl_->q(
      "UPDATE jobs SET state = 'delivering', attempts = attempts + 1, updated = ? "
      "WHERE id = ? AND state IN ('queued','notified')");
  if (!up) return fail(up.error());
  up->i64(1, now).i64(2, id);
  M2MDM_TRY(up->exec());
  auto job = impl_->job_where("id", id);
  if (!job) return fail(job.error());
  M2MDM_TRY(tx.commit());
  return std::optional<Job>{std::move(*job)};
}

Result<bool> SqliteStore::transition_job(std::int64_t id, JobState from, JobState to, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q("UPDATE jobs SET state = ?, updated = ? WHERE id = ? AND state = ?");
  if (!st) return fail(st.error());
  st->text(1, to_string(to)).i64(2, now).i64(3, id).text(4, to_string(from));
  M2MDM_TRY(st->exec());
  if (sqlite3_changes(impl_->db.get()) == 1) return true;
  auto exists = impl_->job_where("id", id);
  if (!exists) return fail(exists.error());
  return false;
}

Result<RecordOutcome> SqliteStore::record_result(std::string_view correlator, int code, std::string_view message,
                                                 std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  Impl::Tx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  auto job = impl_->job_where("correlator", correlator);
  if (!job) return fail(job.error());
  {
    auto seen = impl_->q("SELECT count(*) FROM results WHERE job_id = ?");
    if (!seen) return fail(seen.error());
    seen->i64(1, job->id);
    if (int rc = seen->step(); rc != SQLITE_ROW) return fail(from_sqlite(rc));
    if (seen->col_i64(0) > 0) return RecordOutcome::duplicate;
  }
  {
    auto ins = impl_->q("INSERT INTO results(job_id, code, message, at) VALUES(?,?,?,?)");
    if (!ins) return fail(ins.error());
    ins->i64(1, job->id).i64(2, code).text(3, message).i64(4, now);
    M2MDM_TRY(ins->exec());
  }
  crash_point("record_result.after_result");
  // 2xx (a SyncML status) or 1200 (the M2MSIMMobj Generic Alert result "Success", see
  // mo::M2msimResult) is a success; everything else (4xx/5xx, 14xx) a failure.
  const bool ok = (code >= 200 && code < 300) || code == 1200;
  const JobState final_state = ok ? JobState::succeeded : JobState::failed;
  {
    auto up = impl_->q("UPDATE jobs SET state = ?, updated = ? WHERE id = ?");
    if (!up) return fail(up.error());
    up->text(1, to_string(final_state)).i64(2, now).i64(3, job->id);
    M2MDM_TRY(up->exec());
  }
  if (job->kind == JobKind::install || job->kind == JobKind::operator_change) {
    auto dev = impl_->q("UPDATE devices SET state = ?, updated = ? WHERE dev_id = ?");
    if (!dev) return fail(dev.error());
    dev->text(1, to_string(ok ? DeviceState::provisioned : DeviceState::failed)).i64(2, now).text(3, job->dev_id);
    M2MDM_TRY(dev->exec());
  }
  auto sho = impl_->sho_where("id", job->sho_id);
  if (!sho) return fail(sho.error());
  if (!sho->callback_url.empty()) {
    nlohmann::json body = {{"event", "job.result"},   {"jobId", job->id},       {"devId", job->dev_id},
                           {"kind", to_string(job->kind)}, {"correlator", job->correlator},
                           {"state", to_string(final_state)}, {"code", code}, {"message", message}, {"at", now}};
    auto ob = impl_->q("INSERT INTO outbox(sho_id, url, body, attempts, next_attempt_at) VALUES(?,?,?,0,?)");
    if (!ob) return fail(ob.error());
    ob->i64(1, sho->id).text(2, sho->callback_url).text(3, body.dump()).i64(4, now);
    M2MDM_TRY(ob->exec());
  }
  M2MDM_TRY(impl_->audit({0, now, "device:" + job->dev_id, "job.result", std::to_string(job->id),
                          std::to_string(code) + " " + std::string(message)}));
  M2MDM_TRY(tx.commit());
  return RecordOutcome::recorded;
}

Result<std::optional<JobResult>> SqliteStore::get_result(std::int64_t job_id) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q("SELECT job_id, code, message, at FROM results WHERE job_id = ?");
  if (!st) return fail(st.error());
  st->i64(1, job_id);
  int rc = st->step();
  if (rc == SQLITE_DONE) return std::optional<JobResult>{};
  if (rc != SQLITE_ROW) return fail(from_sqlite(rc));
  return std::optional<JobResult>{
      JobResult{st->col_i64(0), static_cast<int>(st->col_i64(1)), st->col_text(2), st->col_i64(3)}};
}

Result<std::size_t> SqliteStore::expire_jobs(std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q(
      "UPDATE jobs SET state = 'expired', updated = ? WHERE deadline != 0 AND deadline < ? AND "
      "state NOT IN ('succeeded','failed','expired')");
  if (!st) return fail(st.error());
  st->i64(1, now).i64(2, now);
  M2MDM_TRY(st->exec());
  return static_cast<std::size_t>(sqlite3_changes(impl_->db.get()));
}

Result<std::vector<Job>> SqliteStore::jobs_to_notify(std::int64_t now, int max_attempts, std::size_t limit) {
  std::lock_guard lock(impl_->mutex);
  std::string cols;
  for (std::string_view c : {"id", "dev_id", "sho_id", "kind", "payload", "authorisation", "correlator", "state",
                             "attempts", "deadline", "created", "updated", "notify_attempts", "next_notify_at"})
    cols += (cols.empty() ? "j." : ", j.") + std::string(c);
  auto st = impl_->q("SELECT " + cols +
                     " FROM jobs j JOIN devices d ON d.dev_id = j.dev_id "
                     "WHERE j.state IN ('queued','notified') AND d.push_address != '' AND j.notify_attempts < ? "
                     "AND j.next_notify_at <= ? AND (j.deadline = 0 OR j.deadline >= ?) ORDER BY j.id LIMIT ?");
  if (!st) return fail(st.error());
  st->i64(1, max_attempts).i64(2, now).i64(3, now).i64(4, static_cast<std::int64_t>(limit));
  std::vector<Job> out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) out.push_back(Impl::read_job(*st));
  if (rc != SQLITE_DONE) return fail(from_sqlite(rc));
  return out;
}

Result<bool> SqliteStore::mark_job_notified(std::int64_t id, std::int64_t next_notify_at, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q(
      "UPDATE jobs SET notify_attempts = notify_attempts + 1, next_notify_at = ?, state = 'notified', updated = ? "
      "WHERE id = ? AND state IN ('queued','notified')");
  if (!st) return fail(st.error());
  st->i64(1, next_notify_at).i64(2, now).i64(3, id);
  M2MDM_TRY(st->exec());
  return sqlite3_changes(impl_->db.get()) == 1;
}

// ---------------------------------------------------------------- DRF bootstraps

Result<BootstrapRecord> SqliteStore::record_bootstrap(const BootstrapRecord& record, const DmCredentials& dm,
                                                      const DmCredentials& app_credentials, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  Impl::Tx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  auto dev = impl_->device_where("dev_id", record.dev_id);
  if (!dev) return fail(dev.error());
  {
    auto off = impl_->q("UPDATE bootstraps SET active = 0 WHERE dev_id = ? AND active = 1");
    if (!off) return fail(off.error());
    off->text(1, record.dev_id);
    M2MDM_TRY(off->exec());
  }
  {
    auto ins = impl_->q(
        "INSERT INTO bootstraps(dev_id, issued, actor, sec_method, delivery, rebootstrap, active) "
        "VALUES(?,?,?,?,?,?,1)");
    if (!ins) return fail(ins.error());
    ins->text(1, record.dev_id)
        .i64(2, now)
        .text(3, record.actor)
        .text(4, record.sec_method)
        .text(5, record.delivery)
        .i64(6, record.rebootstrap ? 1 : 0);
    M2MDM_TRY(ins->exec());
  }
  const std::int64_t id = sqlite3_last_insert_rowid(impl_->db.get());
  crash_point("record_bootstrap.mid");
  {
    auto app_json = dm_to_json(app_credentials).dump();
    auto sealed = impl_->box.seal(as_bytes(app_json), aad("bootstraps", "app_credentials", id));
    if (!sealed) return fail(sealed.error());
    auto up = impl_->q("UPDATE bootstraps SET app_credentials = ? WHERE id = ?");
    if (!up) return fail(up.error());
    up->blob(1, *sealed).i64(2, id);
    M2MDM_TRY(up->exec());
  }
  {
    auto dm_json = dm_to_json(dm).dump();
    auto sealed = impl_->seal("dm_credentials", dev->id, as_bytes(dm_json));
    if (!sealed) return fail(sealed.error());
    auto up = impl_->q(
        "UPDATE devices SET dm_credentials = ?, state = CASE WHEN state = 'imported' THEN 'bootstrapped' ELSE state "
        "END, updated = ? WHERE id = ?");
    if (!up) return fail(up.error());
    up->blob(1, *sealed).i64(2, now).i64(3, dev->id);
    M2MDM_TRY(up->exec());
  }
  M2MDM_TRY(impl_->audit({0, now, record.actor, record.rebootstrap ? "drf.rebootstrap" : "drf.bootstrap",
                          record.dev_id,
                          "bootstrap " + std::to_string(id) + " " + record.sec_method + " via " + record.delivery}));
  M2MDM_TRY(tx.commit());
  BootstrapRecord out = record;
  out.id = id;
  out.issued = now;
  out.active = true;
  return out;
}

Result<std::optional<BootstrapRecord>> SqliteStore::active_bootstrap(std::string_view dev_id) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q(std::string("SELECT ") + kBootstrapColumns +
                     " FROM bootstraps WHERE dev_id = ? AND active = 1 ORDER BY id DESC LIMIT 1");
  if (!st) return fail(st.error());
  st->text(1, dev_id);
  int rc = st->step();
  if (rc == SQLITE_DONE) return std::optional<BootstrapRecord>{};
  if (rc != SQLITE_ROW) return fail(from_sqlite(rc));
  return std::optional<BootstrapRecord>{BootstrapRecord{st->col_i64(0), st->col_text(1), st->col_i64(2),
                                                        st->col_text(3), st->col_text(4), st->col_text(5),
                                                        st->col_i64(6) != 0, st->col_i64(7) != 0}};
}

Result<void> SqliteStore::deactivate_bootstrap(std::int64_t id) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q("UPDATE bootstraps SET active = 0 WHERE id = ?");
  if (!st) return fail(st.error());
  st->i64(1, id);
  M2MDM_TRY(st->exec());
  return impl_->changed_one(impl_->db.get());
}

// ---------------------------------------------------------------- outbox

Result<std::int64_t> SqliteStore::enqueue_callback(std::int64_t sho_id, std::string_view url, std::string_view body,
                                                   std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q("INSERT INTO outbox(sho_id, url, body, attempts, next_attempt_at) VALUES(?,?,?,0,?)");
  if (!st) return fail(st.error());
  st->i64(1, sho_id).text(2, url).text(3, body).i64(4, now);
  M2MDM_TRY(st->exec());
  return std::int64_t{sqlite3_last_insert_rowid(impl_->db.get())};
}

Result<std::vector<OutboxEntry>> SqliteStore::due_callbacks(std::int64_t now, std::size_t limit) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q(
      "SELECT id, sho_id, url, body, attempts, next_attempt_at, acknowledged FROM outbox "
      "WHERE acknowledged = 0 AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?");
  if (!st) return fail(st.error());
  st->i64(1, now).i64(2, static_cast<std::int64_t>(limit));
  std::vector<OutboxEntry> out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW)
    out.push_back({st->col_i64(0), st->col_i64(1), st->col_text(2), st->col_text(3),
                   static_cast<int>(st->col_i64(4)), st->col_i64(5), st->col_i64(6) != 0});
  if (rc != SQLITE_DONE) return fail(from_sqlite(rc));
  return out;
}

Result<void> SqliteStore::mark_callback_acked(std::int64_t id) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q("UPDATE outbox SET acknowledged = 1 WHERE id = ?");
  if (!st) return fail(st.error());
  st->i64(1, id);
  M2MDM_TRY(st->exec());
  return impl_->changed_one(impl_->db.get());
}

Result<void> SqliteStore::reschedule_callback(std::int64_t id, std::int64_t next_attempt_at) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?");
  if (!st) return fail(st.error());
  st->i64(1, next_attempt_at).i64(2, id);
  M2MDM_TRY(st->exec());
  return impl_->changed_one(impl_->db.get());
}

// ---------------------------------------------------------------- audit, stats

Result<void> SqliteStore::append_audit(const AuditEntry& entry) {
  std::lock_guard lock(impl_->mutex);
  return impl_->audit(entry);
}

Result<std::vector<AuditEntry>> SqliteStore::list_audit(std::size_t limit) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q("SELECT id, at, actor, action, subject, detail FROM audit ORDER BY id DESC LIMIT ?");
  if (!st) return fail(st.error());
  st->i64(1, static_cast<std::int64_t>(limit));
  std::vector<AuditEntry> out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW)
    out.push_back({st->col_i64(0), st->col_i64(1), st->col_text(2), st->col_text(3), st->col_text(4), st->col_text(5)});
  if (rc != SQLITE_DONE) return fail(from_sqlite(rc));
  return out;
}

Result<StoreStats> SqliteStore::stats() {
  std::lock_guard lock(impl_->mutex);
  StoreStats s;
  for (auto [sql, map] : {std::pair{"SELECT state, count(*) FROM jobs GROUP BY state", &s.jobs_by_state},
                          std::pair{"SELECT state, count(*) FROM devices GROUP BY state", &s.devices_by_state}}) {
    auto st = impl_->q(sql);
    if (!st) return fail(st.error());
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) (*map)[st->col_text(0)] = st->col_i64(1);
    if (rc != SQLITE_DONE) return fail(from_sqlite(rc));
  }
  auto pending = impl_->scalar("SELECT count(*) FROM outbox WHERE acknowledged = 0");
  if (!pending) return fail(pending.error());
  s.outbox_pending = *pending;
  auto shos = impl_->scalar("SELECT count(*) FROM shos");
  if (!shos) return fail(shos.error());
  s.shos = *shos;
  return s;
}

}  // namespace m2mdm::server
