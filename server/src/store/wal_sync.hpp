// Internal to the SQLite store: group commit. The connection runs with `synchronous = NORMAL`
// in WAL mode, so a COMMIT appends its frames to the -wal file without waiting for the disk;
// the writer then waits here, *after releasing the store's mutex*, until an fdatasync of the
// -wal file that began after its commit has finished. One fdatasync makes every commit before
// it durable, so concurrent writers share it (and others use the connection meanwhile) instead
// of each holding the one connection through its own fsync as `synchronous = FULL` does.
// Durability is that of FULL: a WAL-mode COMMIT under FULL is the same frames followed by one
// fsync of the same file (sqlite.org/pragma.html#pragma_synchronous, sqlite.org/wal.html);
// checkpoints keep NORMAL's own syncs (WAL before, database after), which FULL also does.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>

namespace m2mdm::server::sqlite_detail {

/// Shares fdatasyncs of one -wal file between the commits of concurrent writers.
class WalSync {
 public:
  WalSync() = default;
  ~WalSync();
  WalSync(const WalSync&) = delete;
  WalSync& operator=(const WalSync&) = delete;

  /// Opens @p wal (the connection's -wal file, which must exist); false when it cannot.
  bool open(const std::filesystem::path& wal);
  bool enabled() const noexcept { return fd_ >= 0; }

  /// Called with the store's mutex held once the statements that committed up to commit
  /// number @p seq have returned: those commits are complete in the -wal file.
  void completed(std::uint64_t seq) noexcept;
  /// Blocks until commit number @p seq is on stable storage (called without the store's
  /// mutex). An fdatasync failure is fatal: after a failed fsync Linux may drop the dirty
  /// pages, so nothing committed since can be acknowledged; the process stops (like
  /// PostgreSQL's data_sync_retry = off) and recovers from what the disk holds at restart.
  void wait_durable(std::uint64_t seq);

  std::uint64_t syncs() const noexcept { return syncs_.load(std::memory_order_relaxed); }

 private:
  int fd_ = -1;
  std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::uint64_t> syncs_{0};
  std::mutex mutex_;
  std::condition_variable synced_cv_;
  std::uint64_t synced_ = 0;  // guarded by mutex_: every commit up to this one is durable
  bool syncing_ = false;      // guarded by mutex_: a leader is in fdatasync
};

}  // namespace m2mdm::server::sqlite_detail
