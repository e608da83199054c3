/// @file auth.hpp
/// @brief SyncML DM 1.2 application-layer authentication (OMA-TS-DM_Security-V1_2 §5.1.3,
///        §5.1.4; OMA-TS-DM_Protocol-V1_2 §9.4): syncml:auth-basic, syncml:auth-md5,
///        syncml:auth-MAC (the `x-syncml-hmac` transport header), nonces and challenges.
///
/// Everything here is I/O-free: bytes and strings in, bytes and strings out. MD5 comes from
/// OpenSSL EVP; comparisons of secrets are constant-time (CRYPTO_memcmp).
///
/// Notation as in the spec: H = MD5, B64 = base64 (RFC 4648, with padding).
///   auth-basic  Cred Data = B64(user ":" password)
///   auth-md5    Cred Data = B64(H(B64(H(user ":" password)) ":" nonce))
///   auth-MAC    mac       = B64(H(B64(H(user ":" password)) ":" nonce ":" B64(H(body))))
/// The nonce is the raw bytes of the peer's NextNonce (the base64-decoded value when its
/// Format is b64).
///
/// The value B64(H(user ":" password)) is the "user key" (md5_user_key()): an authenticator may
/// store it instead of the password (DM_Security 1.2 §5.1.3.2); every md5/MAC function has a
/// `_from_key` form taking it.
#pragma once

#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace m2mdm::syncml {

/// A 128-bit MD5 digest.
using Md5Digest = std::array<std::uint8_t, 16>;

/// MD5 of @p data (OpenSSL EVP). Fails with errc::crypto_failed when the provider refuses MD5
/// (e.g. a FIPS-only OpenSSL configuration).
Result<Md5Digest> md5(ByteView data);

// ---------------------------------------------------------------------------------------------
// Authentication types and Meta values
// ---------------------------------------------------------------------------------------------

/// The application-layer authentication schemes of DM_Security 1.2.
enum class AuthType : std::uint8_t {
  basic,  ///< syncml:auth-basic
  md5,    ///< syncml:auth-md5
  hmac,   ///< syncml:auth-MAC (integrity; carried in the x-syncml-hmac transport header)
};

inline constexpr std::string_view kAuthTypeBasic = "syncml:auth-basic";
inline constexpr std::string_view kAuthTypeMd5 = "syncml:auth-md5";
inline constexpr std::string_view kAuthTypeMac = "syncml:auth-MAC";
/// Meta Format of credentials and nonces (DM_RepPro 1.2: Cred Format MUST be b64 for md5).
inline constexpr std::string_view kFormatB64 = "b64";
/// Name of the transport header carrying syncml:auth-MAC (DM_Security 1.2 §5.1.4.3).
inline constexpr std::string_view kHmacHeaderName = "x-syncml-hmac";

/// The Meta Type string of @p type ("syncml:auth-basic", "syncml:auth-md5", "syncml:auth-MAC").
std::string_view auth_type_string(AuthType type) noexcept;

/// Parses a Meta Type value. Leading/trailing whitespace is ignored and the comparison is
/// ASCII case-insensitive (peers write both "syncml:auth-MAC" and "syncml:auth-mac").
/// Fails with errc::invalid_value for any other type.
Result<AuthType> parse_auth_type(std::string_view text);

// ---------------------------------------------------------------------------------------------
// syncml:auth-basic
// ---------------------------------------------------------------------------------------------

/// B64(user ":" password) — the Cred Data of syncml:auth-basic (DM_Protocol 1.2 §9.4.1:
/// Bruce2/OhBehave → "QnJ1Y2UyOk9oQmVoYXZl").
std::string basic_credential(std::string_view user, std::string_view password);

/// A decoded syncml:auth-basic credential.
struct BasicCredential {
  std::string user;
  std::string password;
};

/// Decodes a syncml:auth-basic Cred Data value and splits it at the FIRST ':' (a user id cannot
/// contain ':', a password may). Fails with errc::bad_base64, or errc::invalid_value when the
/// decoded text has no ':'.
Result<BasicCredential> parse_basic_credential(std::string_view credential_b64);

/// True when @p credential_b64 is the basic credential of @p user / @p password; the
/// comparison is constant-time. Whitespace inside the base64 is tolerated.
bool verify_basic_credential(std::string_view credential_b64, std::string_view user,
                             std::string_view password);

// ---------------------------------------------------------------------------------------------
// syncml:auth-md5
// ---------------------------------------------------------------------------------------------

/// B64(H(user ":" password)): the pre-computed secret an authenticator may store.
Result<std::string> md5_user_key(std::string_view user, std::string_view password);

/// B64(H(B64(H(user ":" password)) ":" nonce)) — the Cred Data of syncml:auth-md5
/// (DM_Security 1.2 §5.1.3.2). Spec vector: Bruce2 / OhBehave / nonce "Nonce" →
/// "Zz6EivR3yeaaENcRN6lpAQ==".
Result<std::string> md5_digest_credential(std::string_view user, std::string_view password, ByteView nonce);

/// Same as md5_digest_credential() from the stored user key B64(H(user ":" password)).
Result<std::string> md5_digest_credential_from_key(std::string_view user_key_b64, ByteView nonce);

/// True when @p credential_b64 (the received Cred Data) equals the expected auth-md5 digest.
/// The received value is base64-decoded (whitespace tolerated) and compared to the 16-byte
/// digest in constant time; anything that does not decode to 16 bytes is false. Also false
/// when MD5 is unavailable (fails closed).
bool verify_md5_digest_credential(std::string_view credential_b64, std::string_view user,
                                  std::string_view password, ByteView nonce);
/// verify_md5_digest_credential() from the stored user key.
bool verify_md5_digest_credential_from_key(std::string_view credential_b64, std::string_view user_key_b64,
                                           ByteView nonce);

// ---------------------------------------------------------------------------------------------
// syncml:auth-MAC (x-syncml-hmac)
// ---------------------------------------------------------------------------------------------

/// B64(H(B64(H(user ":" password)) ":" nonce ":" B64(H(body)))) over the exact @p body bytes
/// (WBXML or XML as sent) — DM_Security 1.2 §5.1.4.2.
Result<std::string> hmac_mac(std::string_view user, std::string_view password, ByteView nonce, ByteView body);
/// hmac_mac() from the stored user key.
Result<std::string> hmac_mac_from_key(std::string_view user_key_b64, ByteView nonce, ByteView body);

/// The value of the x-syncml-hmac header: `algorithm=MD5, username="<user>", mac=<mac>`
/// (DM_Security 1.2 §5.1.4.3). '"' and '\' in the user name are escaped as RFC 2616
/// quoted-pairs. The header NAME is not included (see kHmacHeaderName).
Result<std::string> hmac_header_value(std::string_view user, std::string_view password, ByteView nonce,
                                      ByteView body);
/// hmac_header_value() from the stored user key (the user name is still needed for the header).
Result<std::string> hmac_header_value_from_key(std::string_view user, std::string_view user_key_b64,
                                               ByteView nonce, ByteView body);

/// A parsed x-syncml-hmac header value.
struct HmacHeader {
  std::string algorithm = "MD5";  ///< as received; "MD5" when the parameter is omitted
  std::string username;           ///< unquoted (quoted-pairs resolved)
  std::string mac;                ///< the base64 text as received (quotes removed)
};

/// Parses an x-syncml-hmac header value (DM_Security 1.2 §5.1.4.3: `#syncml-hmac-param`, a
/// comma-separated list of algorithm / username / mac in any order).
/// Tolerated: whitespace (including CR LF folding) around names, '=' and commas; empty list
/// elements; parameter names in any case; a leading "x-syncml-hmac:" header name; token or
/// quoted-string for every value; unknown parameters (ignored, for extensibility).
/// Refused with errc::bad_header: a missing username or mac, a parameter given twice, an
/// unterminated quoted string, a parameter without '=', or an empty value.
Result<HmacHeader> parse_hmac_header(std::string_view value);

/// True when @p header carries a valid MAC of @p body for @p password and @p nonce. The header's
/// username is the one used in the computation (the caller looked up the password by it).
/// False for an algorithm other than MD5 (case-insensitive). The mac is compared as decoded
/// bytes in constant time; missing base64 padding is tolerated.
bool verify_hmac(const HmacHeader& header, std::string_view password, ByteView nonce, ByteView body);
/// verify_hmac() from the stored user key of header.username.
bool verify_hmac_from_key(const HmacHeader& header, std::string_view user_key_b64, ByteView nonce,
                          ByteView body);

// ---------------------------------------------------------------------------------------------
// Nonces and challenges
// ---------------------------------------------------------------------------------------------

/// Default nonce length: 16 octets, the RECOMMENDED minimum (DM_Security 1.2 §5.1.3.3).
inline constexpr std::size_t kDefaultNonceSize = 16;

/// @p size bytes from the OpenSSL CSPRNG (RAND_bytes). Fails with errc::invalid_value for
/// size 0 or above 1024, errc::crypto_failed when the RNG fails.
Result<Bytes> generate_nonce(std::size_t size = kDefaultNonceSize);

/// The content of a Chal element (DM_RepPro 1.2): Meta Type, Format and NextNonce.
struct Challenge {
  AuthType type = AuthType::md5;
  Bytes next_nonce;  ///< raw nonce bytes; empty for basic (which uses no nonce)

  /// Meta Type, e.g. "syncml:auth-md5".
  std::string_view type_string() const noexcept { return auth_type_string(type); }
  /// Meta Format: always "b64" (credentials and NextNonce are base64 in DM).
  static constexpr std::string_view format_string() noexcept { return kFormatB64; }
  /// Meta NextNonce text: B64(next_nonce); empty when there is no nonce.
  std::string next_nonce_b64() const { return next_nonce.empty() ? std::string{} : base64_encode(next_nonce); }
};

/// A fresh challenge of @p type: md5 and hmac get a new random nonce of @p nonce_size bytes,
/// basic gets none.
Result<Challenge> make_challenge(AuthType type, std::size_t nonce_size = kDefaultNonceSize);

/// Builds a Challenge from received Meta values. @p format "b64" (case-insensitive) decodes
/// @p next_nonce_text as base64; an empty @p format takes the text's bytes literally; any other
/// format fails with errc::invalid_value. A md5/hmac challenge without NextNonce is accepted
/// (next_nonce empty): the caller keeps its previous nonce (DM_Security 1.2 §5.1.3.3).
Result<Challenge> parse_challenge(std::string_view type, std::string_view format, std::string_view next_nonce_text);

/// The Cred Data for @p type: basic or md5 credential. syncml:auth-MAC MUST NOT be carried in
/// Cred (DM_Security 1.2 §5.1.4.1): errc::invalid_value.
Result<std::string> make_credential(AuthType type, std::string_view user, std::string_view password, ByteView nonce);

/// Verifies received Cred Data of @p type (basic ignores @p nonce; hmac is always false here).
bool verify_credential(AuthType type, std::string_view credential_b64, std::string_view user,
                       std::string_view password, ByteView nonce);

}  // namespace m2mdm::syncml
