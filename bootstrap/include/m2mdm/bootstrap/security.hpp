/// @file security.hpp
/// @brief Bootstrap authentication: the SEC methods of OMA-WAP-ProvBoot 1.1 §5.3/§5.4 (and the
///        textual methods of DM_Security 1.2 §5.1.7.2 for the DM-profile bootstrap), key
///        derivation, MAC computation (HMAC-SHA1 over the exact WBXML bytes, 40 upper-case hex)
///        and constant-time, case-insensitive verification.
#pragma once

#include "m2mdm/bootstrap/error.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace m2mdm::bootstrap {

/// The SEC methods (ProvBoot §5.3: the SEC parameter's integer value).
enum class SecMethod {
  netwpin = 0,      ///< K = IMSI as TS 24.008 semi-octets ("network PIN")
  userpin = 1,      ///< K = the PIN's ASCII bytes (TR 33.812's "device PIN")
  usernetwpin = 2,  ///< K = NETWPIN key || PIN ASCII (CP); "IMSI-key:PIN" in the DM profile
  userpinmac = 3,   ///< no MAC parameter: the user enters K || m (m = decimal digits of the MAC)
};

/// Which bootstrap profile's key rules apply (they differ only for USERNETWPIN).
enum class SecProfile {
  cp,  ///< OMA CP (ProvBoot 1.1 §5.4): USERNETWPIN key = NETWPIN key || PIN
  dm,  ///< OMA DM profile (DM_Security 1.2 §5.1.7.2.3): USERPIN_NETWORKID key = IMSI key ":" PIN
};

/// What the verifier (or builder) knows.
struct SecCredentials {
  std::optional<std::string> pin;   ///< USERPIN/USERNETWPIN: the PIN; USERPINMAC: K||m as entered
  std::optional<std::string> imsi;  ///< NETWPIN/USERNETWPIN: the IMSI digits
};

/// Parses a method name, case-insensitively: NETWPIN, USERPIN, USERNETWPIN, USERPINMAC, the
/// numbers 0-3, and the DM-profile names NETWORKID (=0) and USERPIN_NETWORKID (=2).
/// Error: sec_unknown_method.
Result<SecMethod> parse_sec_method(std::string_view name);
/// "NETWPIN", "USERPIN", "USERNETWPIN" or "USERPINMAC".
std::string_view sec_method_name(SecMethod m) noexcept;
/// DM-profile name: "NETWORKID", "USERPIN" or "USERPIN_NETWORKID" (USERPINMAC has none: "").
std::string_view dm_sec_method_name(SecMethod m) noexcept;

/// The NETWPIN key: the IMSI as a TS 24.008 §10.5.1.4 mobile identity value without the type
/// bits: odd digit count -> "9" prepended, even -> "1" prepended and "F" appended, each digit
/// pair nibble-swapped. 466923103145252 -> 49 66 29 13 30 41 25 25.
/// Error: sec_missing_imsi (empty), sec_bad_imsi (not 6..15 decimal digits).
Result<Bytes> imsi_key(std::string_view imsi);

/// The HMAC key K for @p method (USERPINMAC: K is the first half of the entered K||m string).
/// Errors: sec_missing_pin, sec_missing_imsi, sec_bad_imsi, sec_malformed_mac (odd K||m).
Result<Bytes> derive_key(SecMethod method, const SecCredentials& creds, SecProfile profile = SecProfile::cp);

/// HMAC-SHA1(K, body) as 40 upper-case hex characters (ProvBoot §5.4; DM_Security §5.1.7.2.1).
std::string hmac_sha1_hex(ByteView key, ByteView body);

/// The MAC a sender puts into the Content-Type for NETWPIN/USERPIN/USERNETWPIN. For USERPINMAC
/// it returns the K||m string the user must enter (creds.pin is K there).
Result<std::string> compute_mac(SecMethod method, const SecCredentials& creds, ByteView body,
                                SecProfile profile = SecProfile::cp);

/// USERPINMAC (ProvBoot §5.4.4): m_i = '0' + (HMAC-SHA1(K, body)_i mod 10) for i < |K|;
/// returns K || m. Error: sec_missing_pin (empty K), sec_malformed_mac (|K| > 20).
Result<std::string> userpinmac_code(std::string_view k, ByteView body);

/// Verifies @p body against @p mac (ignored for USERPINMAC, where creds.pin holds K||m).
/// The comparison is constant-time over the decoded MAC bytes; hex case does not matter.
/// Errors: sec_missing_mac, sec_malformed_mac, sec_mac_mismatch, sec_missing_pin,
/// sec_missing_imsi, sec_bad_imsi.
Result<void> verify_mac(SecMethod method, const SecCredentials& creds, ByteView body,
                        std::optional<std::string_view> mac, SecProfile profile = SecProfile::cp);

}  // namespace m2mdm::bootstrap
