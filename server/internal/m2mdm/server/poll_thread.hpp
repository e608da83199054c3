/// @file poll_thread.hpp
/// @brief A background thread that runs a task every `poll` interval, or at once when poked;
///        the loop of a PollingWorker (polling_worker.hpp).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace m2mdm::server {

class PollThread {
 public:
  PollThread() = default;
  ~PollThread() { stop(); }
  PollThread(const PollThread&) = delete;
  PollThread& operator=(const PollThread&) = delete;

  /// Starts the thread running @p task after each wait of @p poll or poke() (idempotent).
  void start(std::chrono::milliseconds poll, std::function<void()> task) {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stop_ = false;
    thread_ = std::thread([this, poll, task = std::move(task)] {
      for (;;) {
        {
          std::unique_lock wait_lock(mutex_);
          cv_.wait_for(wait_lock, poll, [this] { return stop_ || poked_; });
          if (stop_) return;
          poked_ = false;
        }
        task();
      }
    });
  }
  /// Runs the task now instead of at the end of the current wait.
  void poke() {
    {
      std::lock_guard lock(mutex_);
      poked_ = true;
    }
    cv_.notify_all();
  }
  /// Stops and joins the thread (idempotent).
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool poked_ = false;
  std::thread thread_;
};

}  // namespace m2mdm::server
