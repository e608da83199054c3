/// @file change_token.hpp
/// @brief The operator-change authorisation token (docs/operator-change.md): a signed,
///        device-bound, single-use permission to move one M2ME from one SHO to another
///        (seed 000 §5.2.2 step 1, seed 004 §5.2.5.8.3, seed 001 §5.4.4 step 4).
///
/// The token is CMS SignedData (RFC 5652, DER, content attached, id-data) over a canonical JSON
/// document (keys sorted, no white space):
///
/// ```
/// {"by":"old-sho","dev":"IMEI:...","from":"sho-a.example","issued":1700000000,
///  "nonce":"<32 lower-case hex>","not_after":1700003600,"to":"sho-b.example",
///  "type":"m2mdm-operator-change","variant":"A","version":1}
/// ```
///
/// Rule (every variant): the token is signed by the **old SHO's** signing certificate — the
/// same certificate kind that signs that SHO's sealed MCIMs, so a device verifies it with the
/// SHO trust anchors it already holds — and the signer's subject CN equals "from". The RO and
/// the device both check it (verify_change_token) before anything changes; each keeps the
/// nonces it has accepted, so a token works once. `openssl cms -verify -binary -CAfile sho-ca.pem`
/// checks the signature.
#pragma once

#include "m2mdm/mo/crypto_handles.hpp"
#include "m2mdm/mo/trust.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace m2mdm::mo {

/// The operator-change variants (docs/operator-change.md).
enum class ChangeVariant : std::uint8_t {
  via_old_sho,  ///< "A": the new SHO's MCIM over the old SHO's connectivity (seed 004 §5.2.5.8.3.1)
  pristine,     ///< "B": back to the pristine state, re-bootstrap (seed 004 §5.2.5.8.3.2)
  usim_update,  ///< "C": new IMSI, K, OTA keys on the active USIM (seed 001 §5.4.4, Alt 3d)
};
/// "A", "B" or "C".
std::string_view to_string(ChangeVariant v) noexcept;
/// From "A", "B" or "C".
std::optional<ChangeVariant> parse_change_variant(std::string_view letter) noexcept;

/// The content of a token.
struct ChangeToken {
  static constexpr int kVersion = 1;
  std::string device_id;   ///< "dev": the M2ME's DevId
  ChangeVariant variant = ChangeVariant::via_old_sho;
  std::string from_sho;    ///< "from": the old SHO (its signer CN = the sho_id of its MCIMs)
  std::string to_sho;      ///< "to": the new SHO (the sho_id of the MCIM that will replace it)
  std::int64_t issued = 0;     ///< seconds since the epoch
  std::int64_t not_after = 0;  ///< seconds since the epoch, > issued
  std::string nonce;       ///< 32 lower-case hex digits (128 random bits): what makes it single-use
  friend bool operator==(const ChangeToken&, const ChangeToken&) = default;
};

/// The canonical JSON of @p token (what is signed). Fails with invalid_argument when a field
/// breaks the rules parse_change_token() applies.
Result<std::string> serialize_change_token(const ChangeToken& token);
/// Parses the JSON strictly (fixed field set, no duplicates, "type", "version", "by" fixed).
/// Errors: token_malformed.
Result<ChangeToken> parse_change_token(ByteView json);

/// Signs @p token with the old SHO's signer (its CN must equal token.from_sho, else
/// token_signer_mismatch). Returns the CMS SignedData (DER).
Result<Bytes> sign_change_token(const ChangeToken& token, const Certificate& signer_cert, const PrivateKey& signer_key);

/// What the verifier of a token expects.
struct ChangeTokenCheck {
  std::string device_id;                  ///< must equal "dev"
  std::optional<ChangeVariant> variant;   ///< must equal "variant" when set
  std::string from_sho;                   ///< must equal "from" when not empty
  std::string to_sho;                     ///< must equal "to" when not empty
  std::int64_t now = 0;                   ///< seconds since the epoch
  std::int64_t max_clock_skew = 300;      ///< tolerated "issued in the future"
  /// True when the nonce was already accepted (a replay). Unset = not checked.
  std::function<bool(std::string_view nonce)> nonce_used;
};

/// Verifies a token: the SignedData and its signer's chain to @p anchors (at check.now), the
/// signer CN against "from", then the content against @p check. Errors: token_malformed,
/// token_bad_signature, token_untrusted_signer, token_signer_mismatch, token_wrong_device,
/// token_wrong_variant, token_wrong_sho, token_expired, token_replayed. Consuming the nonce is
/// the caller's (in the same durable write as the change it authorises).
Result<ChangeToken> verify_change_token(ByteView signed_der, const TrustAnchors& anchors,
                                        const ChangeTokenCheck& check);

/// A fresh 128-bit nonce as 32 lower-case hex digits.
Result<std::string> new_change_nonce();

}  // namespace m2mdm::mo
