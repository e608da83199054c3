/// @file mock_clock.hpp
/// @brief A clock the test sets and advances, for the components that take a
/// `std::function<std::int64_t()>` clock (Unix seconds): TreeOptions, NotifierOptions,
/// CallbackOptions, DrfService, ApiRouter, DeviceOptions, M2msimAgent... (header-only).
#pragma once

#include "m2mdm/syncml/unix_clock.hpp"

#include <chrono>
#include <cstdint>
#include <functional>

namespace m2mdm::test {

/// Unix seconds that move only when the test moves them. Reads as the std::int64_t it holds,
/// so `store->create_job(..., clock)`, `clock += 10` and `clock -= 10` work; fn() is what a component takes.
/// The MockClock must outlive the components that were given fn().
class MockClock {
 public:
  explicit MockClock(std::int64_t start = 1'700'000'000) : now_(start) {}
  std::int64_t now() const { return now_; }
  operator std::int64_t() const { return now_; }  // NOLINT: reads as the time it holds
  MockClock& operator=(std::int64_t t) {
    now_ = t;
    return *this;
  }
  MockClock& operator+=(std::int64_t seconds) {
    now_ += seconds;
    return *this;
  }
  MockClock& operator-=(std::int64_t seconds) {
    now_ -= seconds;
    return *this;
  }
  /// The clock to hand to a component: reads this MockClock each time it is called.
  std::function<std::int64_t()> fn() const {
    return [this] { return now_; };
  }

 private:
  std::int64_t now_;
};

/// The real time in Unix seconds (what the components use when given no clock).
inline std::int64_t system_now() { return unix_now(); }

}  // namespace m2mdm::test
