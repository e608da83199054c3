/// @file error.hpp
/// @brief The bootstrap component's error codes (category "m2mdm.bootstrap").
#pragma once

#include <string>
#include <system_error>

namespace m2mdm::bootstrap {

/// Why a bootstrap operation failed. Values are stable (they appear in logs); add new ones at the end.
enum class errc {
  ok = 0,
  invalid_argument = 1,  ///< a caller passed a value outside the documented domain
  malformed = 2,         ///< input bytes do not parse
  not_found = 3,         ///< the named thing does not exist
  io_error = 4,          ///< the storage or transport adapter failed
  wsp_truncated = 5,           ///< WSP/SMS bytes end before a complete structure
  wsp_bad_uintvar = 6,         ///< a WSP uintvar is longer than 5 octets, overlong or exceeds 32 bits
  wsp_bad_pdu_type = 7,        ///< the WSP PDU is not a (connectionless) Push PDU
  wsp_bad_content_type = 8,    ///< the WSP Content-Type value or one of its parameters is malformed
  wsp_bad_header = 9,          ///< a WSP header (field name or value) is malformed
  sms_bad_udh = 10,            ///< the SMS user-data header or one of its IEs is malformed
  sms_segment_conflict = 11,   ///< a duplicate SMS segment carries different bytes
  sms_reassembly_limit = 12,   ///< a reassembly bound (messages, parts, bytes) was exceeded
  push_too_large = 13,         ///< a PDU does not fit the framing (header length, 255 SMS segments)
};

/// The category of m2mdm::bootstrap::errc.
const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

}  // namespace m2mdm::bootstrap

template <>
struct std::is_error_code_enum<m2mdm::bootstrap::errc> : std::true_type {};
