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
/// Who signs (the "by" field):
/// - "old-sho": the **old SHO's** signing certificate — the same certificate kind that signs that
///   SHO's sealed MCIMs, so a device verifies it with the SHO trust anchors it already holds —
///   whose subject CN equals "from";
/// - "subscriber": the device's owner (seed 004 "M2ME U/S", who alone may authorise a change of
///   SHO when the device has one); the token then carries one more field, "subscriber", equal to
///   the signer's subject CN, and is verified with the owner's trust anchors (the device's
///   configured owner CA; the RO's subscriber CA set).
/// Which kind a verifier accepts is the verifier's policy (ChangeTokenCheck::by), never the
/// token's. The RO and the device both check it (verify_change_token) before anything changes;
/// each keeps the nonces it has accepted, so a token works once.
/// `openssl cms -verify -binary -CAfile <ca.pem>` checks the signature.
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

/// Who authorises a change (the token's "by" field).
enum class ChangeAuthoriser : std::uint8_t {
  old_sho,     ///< "old-sho": the SHO the device leaves (seed 000 §5.2.2 step 1)
  subscriber,  ///< "subscriber": the device's owner (seed 004 §5.2.5.8 design principles)
};
/// "old-sho" or "subscriber".
std::string_view to_string(ChangeAuthoriser by) noexcept;

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
  ChangeAuthoriser by = ChangeAuthoriser::old_sho;  ///< "by"
  /// "subscriber": the owner's id (= its signer CN); present exactly when by == subscriber.
  std::string subscriber;
  friend bool operator==(const ChangeToken&, const ChangeToken&) = default;
};

/// The canonical JSON of @p token (what is signed). Fails with invalid_argument when a field
/// breaks the rules parse_change_token() applies.
Result<std::string> serialize_change_token(const ChangeToken& token);
/// Parses the JSON strictly (fixed field set, no duplicates, "type", "version", "by" fixed).
/// Errors: token_malformed.
Result<ChangeToken> parse_change_token(ByteView json);

/// Signs @p token with the authoriser's signer: its CN must equal token.from_sho (by old_sho) or
/// token.subscriber (by subscriber), else token_signer_mismatch. Returns the CMS SignedData (DER).
Result<Bytes> sign_change_token(const ChangeToken& token, const Certificate& signer_cert, const PrivateKey& signer_key);

/// What the verifier of a token expects.
struct ChangeTokenCheck {
  std::string device_id;                  ///< must equal "dev"
  std::optional<ChangeVariant> variant;   ///< must equal "variant" when set
  std::string from_sho;                   ///< must equal "from" when not empty
  std::string to_sho;                     ///< must equal "to" when not empty
  /// Who may authorise here: a token "by" anyone else is token_wrong_authoriser. The anchors
  /// given to verify_change_token are this authoriser's (SHO CAs, or the owner's CAs).
  ChangeAuthoriser by = ChangeAuthoriser::old_sho;
  std::string subscriber;                 ///< must equal "subscriber" when not empty (by subscriber)
  std::int64_t now = 0;                   ///< seconds since the epoch
  std::int64_t max_clock_skew = 300;      ///< tolerated "issued in the future"
  /// True when the nonce was already accepted (a replay). Unset = not checked.
  std::function<bool(std::string_view nonce)> nonce_used;
};

/// Verifies a token: the SignedData and its signer's chain to @p anchors (at check.now), the
/// authoriser (check.by), the signer CN against "from" (old SHO) or "subscriber", then the
/// content against @p check. Errors: token_malformed, token_bad_signature,
/// token_untrusted_signer, token_wrong_authoriser, token_signer_mismatch, token_wrong_device,
/// token_wrong_variant, token_wrong_sho, token_expired, token_replayed. Consuming the nonce is
/// the caller's (in the same durable write as the change it authorises).
Result<ChangeToken> verify_change_token(ByteView signed_der, const TrustAnchors& anchors,
                                        const ChangeTokenCheck& check);

/// A fresh 128-bit nonce as 32 lower-case hex digits.
Result<std::string> new_change_nonce();

}  // namespace m2mdm::mo
