/// @file error.hpp
/// @brief The bootstrap component's error codes (category "m2mdm.bootstrap").
#pragma once

#include "m2mdm/syncml/common_errc.hpp"

#include <string>
#include <system_error>

namespace m2mdm::bootstrap {

/// Why a bootstrap operation failed. Values are stable (they appear in logs); add new ones at the end.
enum class errc {
  M2MDM_COMMON_ERRC_ENUMERATORS,  ///< ok, invalid_argument, malformed, not_found, io_error (common_errc.hpp)
  wsp_truncated = 5,           ///< WSP/SMS bytes end before a complete structure
  wsp_bad_uintvar = 6,         ///< a WSP uintvar is longer than 5 octets, overlong or exceeds 32 bits
  wsp_bad_pdu_type = 7,        ///< the WSP PDU is not a (connectionless) Push PDU
  wsp_bad_content_type = 8,    ///< the WSP Content-Type value or one of its parameters is malformed
  wsp_bad_header = 9,          ///< a WSP header (field name or value) is malformed
  sms_bad_udh = 10,            ///< the SMS user-data header or one of its IEs is malformed
  sms_segment_conflict = 11,   ///< a duplicate SMS segment carries different bytes
  sms_reassembly_limit = 12,   ///< a reassembly bound (messages, parts, bytes) was exceeded
  push_too_large = 13,         ///< a PDU does not fit the framing (header length, 255 SMS segments)
  // --- OMA CP document, SEC/MAC, apply ---
  cp_bad_xml = 100,            ///< CP XML is not well-formed, uses a DTD/entity, or is not a wap-provisioningdoc
  cp_bad_wbxml = 101,          ///< CP WBXML does not parse (header, tokens, string table)
  cp_too_large = 102,          ///< a CP document exceeds the size or element-count bound
  cp_too_deep = 103,           ///< characteristic nesting exceeds the depth bound
  cp_encode_failed = 104,      ///< libwbxml refused to encode the model
  sec_unknown_method = 105,    ///< the SEC method is not NETWPIN/USERPIN/USERNETWPIN/USERPINMAC
  sec_missing_mac = 106,       ///< SEC needs a MAC and none was given
  sec_malformed_mac = 107,     ///< the MAC is not 40 hex characters (USERPINMAC: not K||m digits)
  sec_mac_mismatch = 108,      ///< the MAC does not verify (wrong key or altered document)
  sec_missing_pin = 109,       ///< the method needs a PIN and none was given
  sec_missing_imsi = 110,      ///< the method needs the IMSI and none was given
  sec_bad_imsi = 111,          ///< the IMSI is not 6..15 decimal digits
  cp_missing_w7 = 112,         ///< the document holds no APPLICATION with APPID w7
  cp_invalid_w7 = 113,         ///< a w7/NAPDEF/VENDORCONFIG parameter is missing or invalid
  already_bootstrapped = 114,  ///< the context was bootstrapped before and no re-bootstrap is armed
  rebootstrap_denied = 115,    ///< the re-bootstrap token is wrong, expired or already used
  store_failed = 116,          ///< the account store refused the change (nothing was applied)
  dm_bad_tnds = 117,           ///< the DM-profile bootstrap (SyncML/TNDS) is malformed or unsupported
  bad_config = 118,            ///< the bootstrap build configuration is incomplete or invalid
};

/// The category of m2mdm::bootstrap::errc.
const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

}  // namespace m2mdm::bootstrap

template <>
struct std::is_error_code_enum<m2mdm::bootstrap::errc> : std::true_type {};
