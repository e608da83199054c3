/// @file error.hpp
/// @brief The syncml component's error codes (category "m2mdm.syncml").
///
/// Every component has its own enum and category (m2mdm::bootstrap::errc, m2mdm::mo::errc, ...)
/// so codes stay stable and each one's message says which layer refused what.
#pragma once

#include <string>
#include <system_error>

namespace m2mdm::syncml {

/// Why a SyncML operation failed. Values are stable (they appear in logs).
enum class errc {
  ok = 0,
  malformed_xml = 1,        ///< not well-formed XML, or a forbidden construct (DTD, entity)
  malformed_wbxml = 2,      ///< WBXML that libwbxml or our reader cannot parse
  unknown_element = 3,      ///< an element the SyncML DM 1.2 DTD does not define at that place
  missing_element = 4,      ///< a mandatory element is absent
  invalid_value = 5,        ///< an element's content is not valid (number, enum, base64...)
  too_large = 6,            ///< input exceeds a configured size limit
  too_deep = 7,             ///< nesting exceeds the configured depth limit
  unsupported_version = 8,  ///< VerDTD/VerProto or a package 0 version we do not speak
  bad_base64 = 9,
  bad_hex = 10,
  auth_failed = 11,         ///< a credential, digest or MAC did not verify
  truncated = 12,           ///< input ends before a complete structure
  encode_failed = 13,       ///< an encoder (libxml2/libwbxml) refused the model
  crypto_failed = 14,       ///< an OpenSSL primitive failed
  bad_header = 15,          ///< a transport header value (e.g. x-syncml-hmac) is malformed
};

/// The category of m2mdm::syncml::errc.
const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

}  // namespace m2mdm::syncml

template <>
struct std::is_error_code_enum<m2mdm::syncml::errc> : std::true_type {};
