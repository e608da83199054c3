// Group commit over the -wal file (see wal_sync.hpp).
#include "store/wal_sync.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace m2mdm::server::sqlite_detail {

WalSync::~WalSync() {
  if (fd_ >= 0) ::close(fd_);
}

bool WalSync::open(const std::filesystem::path& wal) {
  // fdatasync through our own descriptor flushes the file's pages whichever descriptor wrote
  // them (they belong to the inode); the connection keeps the -wal file (never deleted while a
  // connection has the database open).
  fd_ = ::open(wal.c_str(), O_RDWR | O_CLOEXEC);
  return fd_ >= 0;
}

void WalSync::completed(std::uint64_t seq) noexcept {
  // The store's mutex orders the callers: seq never goes down.
  completed_.store(seq, std::memory_order_release);
}

void WalSync::wait_durable(std::uint64_t seq) {
  std::unique_lock lock(mutex_);
  while (synced_ < seq) {
    if (syncing_) {
      synced_cv_.wait(lock);
      continue;
    }
    // Become the leader: everything completed so far (ours included) rides on this fdatasync.
    syncing_ = true;
    const std::uint64_t target = completed_.load(std::memory_order_acquire);
    lock.unlock();
    int rc;
    do {
      rc = ::fdatasync(fd_);
    } while (rc != 0 && errno == EINTR);
    const int saved = errno;
    syncs_.fetch_add(1, std::memory_order_relaxed);
    if (rc != 0) {
      spdlog::critical("store: fdatasync of the write-ahead log failed ({}); stopping so that nothing "
                       "unsynced is acknowledged",
                       std::strerror(saved));
      std::abort();
    }
    lock.lock();
    syncing_ = false;
    if (target > synced_) synced_ = target;
    synced_cv_.notify_all();
  }
}

}  // namespace m2mdm::server::sqlite_detail
