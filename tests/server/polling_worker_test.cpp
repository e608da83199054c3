// PollingWorker: the background thread calls the worker's run_once() on a poke, start() and
// stop() are idempotent, and destroying a started worker waits for the sweep in progress before
// the worker's members go.
#include "m2mdm/server/polling_worker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace m2mdm::server {
namespace {

using namespace std::chrono_literals;

/// Counts its sweeps; a sweep can be made to take a while, and writes into a member.
class CountingWorker final : public PollingWorker {
 public:
  explicit CountingWorker(std::chrono::milliseconds poll, std::chrono::milliseconds sweep = 0ms)
      : PollingWorker(poll), sweep_(sweep) {
    seen_.reserve(64);  // a sweep after the destructor would write into this freed buffer
  }
  ~CountingWorker() override { stop(); }

  std::size_t run_once() override {
    started_ = true;
    std::this_thread::sleep_for(sweep_);
    {
      std::lock_guard lock(mutex_);
      seen_.push_back(seen_.size());
      ++sweeps_;
    }
    cv_.notify_all();
    return 1;
  }
  /// Waits up to @p timeout for at least @p n sweeps.
  bool wait_for_sweeps(int n, std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return sweeps_ >= n; });
  }
  int sweeps() {
    std::lock_guard lock(mutex_);
    return sweeps_;
  }
  std::atomic<bool> started_{false};

 private:
  std::chrono::milliseconds sweep_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int sweeps_ = 0;
  std::vector<std::size_t> seen_;  // written by every sweep: gone once the worker is destroyed
};

TEST(PollingWorker, RunOnceWithoutAThread) {
  CountingWorker w(10min);
  EXPECT_EQ(w.run_once(), 1u);
  EXPECT_EQ(w.sweeps(), 1);
  w.stop();  // never started: nothing to stop
}

TEST(PollingWorker, APokeRunsASweepAtOnce) {
  CountingWorker w(10min);  // only a poke can wake it within the test
  w.start();
  w.start();  // idempotent: still one thread
  w.poke();
  EXPECT_TRUE(w.wait_for_sweeps(1));
  w.stop();
  w.stop();
  EXPECT_EQ(w.sweeps(), 1);
}

TEST(PollingWorker, ThePollIntervalRunsSweepsAndAStoppedWorkerStartsAgain) {
  CountingWorker w(10ms);
  w.start();
  EXPECT_TRUE(w.wait_for_sweeps(2));
  w.stop();
  const int after_stop = w.sweeps();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(w.sweeps(), after_stop);
  w.start();
  EXPECT_TRUE(w.wait_for_sweeps(after_stop + 1));
}

TEST(PollingWorker, DestroyingAStartedWorkerWaitsForTheSweepInProgress) {
  auto w = std::make_unique<CountingWorker>(10min, 100ms);
  w->start();
  w->poke();
  for (int i = 0; i < 500 && !w->started_; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(w->started_);
  w.reset();  // joins the thread after the sweep: ASan would see it write into a freed worker
}

}  // namespace
}  // namespace m2mdm::server
