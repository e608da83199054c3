/// @file error.hpp
/// @brief The mo component's error codes (category "m2mdm.mo").
#pragma once

#include <string>
#include <system_error>

namespace m2mdm::mo {

/// Why a mo operation failed. Values are stable (they appear in logs); add new ones at the end.
enum class errc {
  ok = 0,
  invalid_argument = 1,  ///< a caller passed a value outside the documented domain
  malformed = 2,         ///< input bytes do not parse
  not_found = 3,         ///< the named thing does not exist
  io_error = 4,          ///< the storage or transport adapter failed
  // Milenage / AKA (h7-aka), 300+
  crypto_error = 300,     ///< OpenSSL failed inside Milenage (AES) or RAND generation
  mac_mismatch = 301,     ///< an AKA MAC (e.g. MAC-S in AUTS) did not verify
  sqn_exhausted = 302,    ///< the 48-bit SQN space is used up
};

/// The category of m2mdm::mo::errc.
const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

}  // namespace m2mdm::mo

template <>
struct std::is_error_code_enum<m2mdm::mo::errc> : std::true_type {};
