/// @file seal.hpp
/// @brief Sealing and opening the MCIM (TR 33.812 §5.1.3.7.1 steps 16 and 19).
///
/// Seal = CMS SignedData (RFC 5652 §5; signer = the SHO, content type id-data, the canonical
/// profile as encapsulated content) inside CMS AuthEnvelopedData (RFC 5083) with AES-256-GCM
/// (RFC 5084) to the PfC public key: ephemeral-static ECDH (KeyAgreeRecipientInfo, RFC 5753,
/// X9.63 KDF with SHA-256, AES-256 key wrap) for EC P-256 PfCs, RSA-OAEP (KeyTransRecipientInfo,
/// RFC 8017 / RFC 4055, SHA-256 + MGF1-SHA-256) for RSA PfCs. The result is plain DER that
/// `openssl cms -decrypt` and `openssl cms -verify` open.
///
/// Open = decrypt with the platform private key, verify the SignedData and the signer's chain to
/// the trust anchors, then check the binding (device, expiry, counter). Every failure has its own
/// error code (see the errc values seal_*). OpenSSL is used only inside this adapter.
#pragma once

#include "m2mdm/mo/crypto_handles.hpp"
#include "m2mdm/mo/mcim_profile.hpp"
#include "m2mdm/mo/trust.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace m2mdm::mo {

/// CMS SignedData (DER, content attached, binary) of @p content, signed by @p signer_key with
/// @p signer_cert included, plus @p extra_certs (intermediates) if any.
Result<Bytes> cms_sign(ByteView content, const Certificate& signer_cert, const PrivateKey& signer_key,
                       std::span<const Certificate> extra_certs = {});

/// CMS AuthEnvelopedData (DER, AES-256-GCM) of @p content to @p recipient's public key
/// (ECDH ephemeral-static for EC keys, RSA-OAEP for RSA keys).
Result<Bytes> cms_encrypt(ByteView content, const Certificate& recipient);

/// Seals a bound profile: validates it, serializes it canonically, signs, encrypts to the PfC.
/// Fails with errc::profile_unbound if the profile has no binding.
Result<Bytes> seal_profile(const McimProfile& bound_profile, const Certificate& signer_cert,
                           const PrivateKey& signer_key, const Certificate& recipient_pfc,
                           std::span<const Certificate> extra_certs = {});

/// Decrypts an AuthEnvelopedData with the platform key. Errors: seal_malformed,
/// seal_unsupported_algorithm (not AuthEnvelopedData, RSA without OAEP), seal_wrong_recipient,
/// seal_key_unwrap_failed, seal_tag_mismatch. @p pfc selects the recipient info.
Result<SecretBytes> cms_decrypt(ByteView sealed, const PrivateKey& platform_key, const Certificate& pfc);

/// What the device checks besides the signature.
struct OpenPolicy {
  std::string device_id;                        ///< this device's DevId (binding.device must equal it)
  std::int64_t now = 0;                         ///< current time, seconds since the epoch
  std::int64_t max_clock_skew = 300;            ///< tolerated "issued in the future", seconds
  /// Last installed counter for an SHO (nullopt = nothing installed from that SHO yet).
  std::function<std::optional<std::uint64_t>(std::string_view sho_id)> last_counter;
  /// A floor applied to every SHO (e.g. `m2mdm tre open --counter-floor`).
  std::optional<std::uint64_t> counter_floor;
  /// Require the signer certificate's CN to equal the profile's sho_id (so one SHO cannot
  /// advance another SHO's counter).
  bool require_signer_is_sho = true;
};

/// An opened, verified MCIM.
struct OpenedMcim {
  McimProfile profile;   ///< with binding
  Certificate signer;    ///< the SHO signing certificate that verified
};

/// A CMS SignedData whose signature and signer chain verified.
struct VerifiedSignedData {
  SecretBytes content;   ///< the encapsulated content (id-data)
  Certificate signer;    ///< the one signer's certificate
};

/// Verifies a SignedData (DER, exactly one signer, attached id-data content, SHA-2 digests):
/// the signature over the content (RFC 5652 §5.6), the test/production rule of @p anchors, and
/// the signer's chain to @p anchors at time @p now (RFC 5280 §6). Errors: seal_malformed,
/// seal_unsupported_algorithm, seal_bad_signature, seal_untrusted_signer,
/// seal_test_signer_in_production. What the content means is the caller's to check.
Result<VerifiedSignedData> verify_signed_data(ByteView signed_der, const TrustAnchors& anchors, std::int64_t now);

/// Verifies a SignedData (DER) and checks the profile inside against @p policy. Errors:
/// seal_malformed, seal_bad_signature, seal_untrusted_signer, seal_test_signer_in_production,
/// profile_* (the signed content is not a valid profile), profile_unbound,
/// seal_signer_sho_mismatch, seal_wrong_device, seal_expired, seal_not_yet_valid, seal_replayed,
/// seal_rolled_back.
Result<OpenedMcim> verify_signed_profile(ByteView signed_der, const Certificate& pfc, const TrustAnchors& anchors,
                                         const OpenPolicy& policy);

/// cms_decrypt() then verify_signed_profile(): the whole device-side open. A TRE calls this with
/// its platform key (a software key, or a provider-backed EVP_PKEY of a TPM or PKCS#11 token).
Result<OpenedMcim> open_sealed(ByteView sealed, const PrivateKey& platform_key, const Certificate& pfc,
                               const TrustAnchors& anchors, const OpenPolicy& policy);

}  // namespace m2mdm::mo
