/// @file error.hpp
/// @brief The server component's error codes (category "m2mdm.server").
#pragma once

#include "m2mdm/syncml/common_errc.hpp"

#include <string>
#include <system_error>

namespace m2mdm::server {

/// Why a server operation failed. Values are stable (they appear in logs); add new ones at the end.
enum class errc {
  M2MDM_COMMON_ERRC_ENUMERATORS,  ///< ok, invalid_argument, malformed, not_found, io_error (common_errc.hpp)
  store_corrupt = 5,     ///< the database file is not a (valid) m2mdm SQLite store
  decrypt_failed = 6,    ///< a secret at rest failed AES-GCM authentication (wrong key or tampered)
  conflict = 7,          ///< the change conflicts with existing state (duplicate key, busy device)
  tls_error = 8,         ///< TLS context setup failed (certificate, key, protocol settings)
  bind_failed = 9,       ///< the listening socket could not be opened
  config_error = 10,     ///< the server configuration is invalid
  no_credentials = 11,   ///< the identity holds no usable credentials (ICF: no temporary K/OPc)
  exhausted = 12,        ///< a finite resource is used up (ICF: the 48-bit SQN space)
  verification_failed = 13,  ///< a MAC or signature does not verify (ICF: MAC-S of an AUTS)
};

/// The category of m2mdm::server::errc.
const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

}  // namespace m2mdm::server

template <>
struct std::is_error_code_enum<m2mdm::server::errc> : std::true_type {};
