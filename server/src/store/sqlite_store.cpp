// SqliteStore: opening a store file (probes, integrity check, WAL, migrations from
// server/src/store/migrations/), liveness and the counts for /metrics.
#include "m2mdm/server/store_migrations.hpp"
#include "store/sqlite_impl.hpp"

namespace m2mdm::server {

namespace {
constexpr std::int64_t kApplicationId = 0x4D324D44;  // "M2MD"
}  // namespace

/// Switches a file store in WAL mode to group commit (wal_sync.hpp): `synchronous = NORMAL`
/// with the store's own fdatasync of the -wal file after each write. A store that is not in
/// WAL mode, or whose -wal file cannot be opened, keeps `synchronous = FULL` (one fsync per
/// commit, inside it).
Result<void> SqliteStore::Impl::enable_group_commit(const std::filesystem::path& path) {
  const char* main_file = sqlite3_db_filename(db.get(), "main");
  if (main_file == nullptr || *main_file == '\0') return {};  // in memory: nothing to sync
  {
    auto mode = q("PRAGMA journal_mode");
    if (!mode) return fail(mode.error());
    if (mode->step() != SQLITE_ROW || mode->col_text(0) != "wal") return {};
  }
  M2MDM_TRY(scalar("SELECT count(*) FROM sqlite_master"));  // a read opens the -wal file
  const std::filesystem::path wal = std::string(main_file) + "-wal";
  if (!wal_sync.open(wal)) {
    spdlog::warn("store: cannot open {} for group commit; every commit syncs on its own", wal.string());
    return {};
  }
  M2MDM_TRY(exec_script("PRAGMA synchronous = NORMAL"));
  spdlog::debug("store: {}: group commit over {}", path.string(), wal.string());
  return {};
}

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;
int SqliteStore::schema_version() noexcept { return static_cast<int>(store_migrations().size()); }

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::filesystem::path& path, mo::SecretBox box,
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
  if (*version > schema_version()) {
    spdlog::error("store: {} has schema {} (newer than this build's {})", path.string(), *version, schema_version());
    return fail(err(errc::store_corrupt));
  }
  const auto migrations = store_migrations();
  const std::int64_t target = schema_version();
  M2MDM_TRY(impl->exec_script("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"));
  for (auto v = *version; v < target; ++v) {
    Impl::Tx tx(*impl);
    if (!tx.began()) return fail(err(errc::io_error));
    M2MDM_TRY(impl->exec_script(std::string(migrations[static_cast<std::size_t>(v)].sql).c_str()));
    M2MDM_TRY(impl->exec_script(("PRAGMA user_version = " + std::to_string(v + 1) +
                                 "; PRAGMA application_id = " + std::to_string(kApplicationId))
                                    .c_str()));
    M2MDM_TRY(tx.commit());
    spdlog::info("store: migrated {} to schema {}", path.string(), v + 1);
  }
  M2MDM_TRY(impl->enable_group_commit(path));
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

Result<void> SqliteStore::ping() {
  Impl::Lock lock(*impl_);
  auto v = impl_->scalar("SELECT count(*) FROM shos");
  if (!v) return fail(v.error());
  return {};
}


Result<StoreStats> SqliteStore::stats() {
  Impl::Lock lock(*impl_);
  StoreStats s;
  for (auto [sql, map] : {std::pair{"SELECT state, count(*) FROM jobs GROUP BY state", &s.jobs_by_state},
                          std::pair{"SELECT state, count(*) FROM devices GROUP BY state", &s.devices_by_state}}) {
    auto st = impl_->q(sql);
    if (!st) return fail(st.error());
    auto counts = st->rows([](Query& row) { return std::pair{row.col_text(0), row.col_i64(1)}; });
    if (!counts) return fail(counts.error());
    for (auto& [state, count] : *counts) (*map)[state] = count;
  }
  auto pending = impl_->scalar("SELECT count(*) FROM outbox WHERE acknowledged = 0");
  if (!pending) return fail(pending.error());
  s.outbox_pending = *pending;
  auto shos = impl_->scalar("SELECT count(*) FROM shos");
  if (!shos) return fail(shos.error());
  s.shos = *shos;
  s.commits = impl_->commits;
  s.wal_syncs = impl_->wal_sync.syncs();
  return s;
}

}  // namespace m2mdm::server
