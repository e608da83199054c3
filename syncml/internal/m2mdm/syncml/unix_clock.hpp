/// @file unix_clock.hpp
/// @brief Unix time in seconds as every component reads it: from the `clock` its options were
///        given (tests set one), else from the system clock. Build-tree only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace m2mdm {

/// Seconds since the Unix epoch by the system clock.
inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// The time of @p clock (a component's `clock` option), or the system clock's when it is empty.
inline std::int64_t unix_now(const std::function<std::int64_t()>& clock) { return clock ? clock() : unix_now(); }

}  // namespace m2mdm
