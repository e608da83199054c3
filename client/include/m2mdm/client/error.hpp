/// @file error.hpp
/// @brief The client component's error codes (category "m2mdm.client").
#pragma once

#include "m2mdm/syncml/common_errc.hpp"

#include <string>
#include <system_error>

namespace m2mdm::client {

/// Why a client operation failed. Values are stable (they appear in logs); add new ones at the end.
enum class errc {
  M2MDM_COMMON_ERRC_ENUMERATORS,  ///< ok, invalid_argument, malformed, not_found, io_error (common_errc.hpp)
  tre_storage_corrupt = 600,  ///< TRE stored item fails its integrity check
  tre_mid_blocked = 601,  ///< MID is blocked
  tre_bad_id = 602,  ///< invalid MID identifier
  registry_corrupt = 603,  ///< MCIM registry state is corrupt
  registry_bad_transition = 604,  ///< lifecycle transition not allowed
  registry_exists = 605,  ///< an MCIM with that identifier already exists
  session_aborted = 700,  ///< the DM session was aborted (see SessionReport::abort_reason)
  transport_failed = 701,  ///< the transport could not deliver a message or got no answer
  tls_pin_mismatch = 702,  ///< the server's public key does not match the pin from the bootstrap
  bad_url = 703,  ///< a server address is not an http:// or https:// URL we can use
  tls_handshake_failed = 704,  ///< TLS could not be established (version, chain, hostname, expiry)
  response_too_large = 705,  ///< the server's response exceeds the configured limit
  timed_out = 706,  ///< connect, TLS handshake, write or read did not finish in time
  http_status = 707,  ///< the server answered with an HTTP status other than 200
  bad_content_type = 708,  ///< the server's response is not a SyncML DM media type
  push_unverified = 709,  ///< a push (bootstrap or package 0) failed its authentication
  not_bootstrapped = 710,  ///< no DM account for the requested server
};

/// The category of m2mdm::client::errc.
const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

}  // namespace m2mdm::client

template <>
struct std::is_error_code_enum<m2mdm::client::errc> : std::true_type {};
