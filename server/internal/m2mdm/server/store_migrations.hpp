// Internal: the SQLite store's schema migrations, the numbered files in
// server/src/store/migrations/ embedded at build time (server/CMakeLists.txt).
#pragma once

#include <span>
#include <string_view>

namespace m2mdm::server {

/// One schema migration: the file it was embedded from and its SQL.
struct StoreMigration {
  std::string_view file;  ///< e.g. "0002_drf_bootstraps.sql"
  std::string_view sql;
};

/// The migrations in order: entry i migrates a store from schema version i to i + 1, so the
/// current schema version is their count.
std::span<const StoreMigration> store_migrations() noexcept;

}  // namespace m2mdm::server
