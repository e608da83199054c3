/// @file result.hpp
/// @brief `Result<T>`: the error-as-value type every m2mdm API returns.
#pragma once

#include <expected>
#include <system_error>

namespace m2mdm {

/// Every fallible m2mdm call returns a value or a `std::error_code`; no exception crosses a public API.
template <class T>
using Result = std::expected<T, std::error_code>;

/// Shorthand for building the error side of a Result.
inline std::unexpected<std::error_code> fail(std::error_code ec) { return std::unexpected(ec); }

}  // namespace m2mdm
