/// @file polling_worker.hpp
/// @brief The base of the RO's background workers (the SHO callback worker, the package 0
///        notifier): a thread that calls the worker's run_once() every poll interval, or at once
///        when poked. Each worker defines only run_once() and its own state.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

namespace m2mdm::server {

class PollThread;

/// A worker whose run_once() runs on a background thread between start() and stop(), or is
/// called directly (tests). A derived class calls stop() in its destructor: the thread calls
/// run_once(), which uses the derived class's members, so it must end before they are destroyed.
class PollingWorker {
 public:
  virtual ~PollingWorker();
  PollingWorker(const PollingWorker&) = delete;
  PollingWorker& operator=(const PollingWorker&) = delete;

  /// One sweep over the work that is due; returns how many items it handled.
  virtual std::size_t run_once() = 0;
  /// Starts the thread (idempotent).
  void start();
  /// Wakes the thread now instead of at the end of its current wait (work was just queued).
  void poke();
  /// Stops and joins the thread, after the sweep in progress if any (idempotent).
  void stop();

 protected:
  /// The thread runs run_once() after each wait of @p poll, or after a poke().
  explicit PollingWorker(std::chrono::milliseconds poll);

 private:
  std::chrono::milliseconds poll_;
  std::unique_ptr<PollThread> thread_;  // the poll/poke loop (internal: poll_thread.hpp)
};

}  // namespace m2mdm::server
