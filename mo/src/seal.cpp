#include "m2mdm/mo/seal.hpp"

#include "crypto_der_check.hpp"
#include "crypto_raii.hpp"
#include "m2mdm/mo/error.hpp"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include <algorithm>

namespace m2mdm::mo {

using namespace detail;

namespace {

std::unexpected<std::error_code> openssl_fail(errc e) {
  ERR_clear_error();
  return fail(e);
}

Result<Bytes> to_der(CMS_ContentInfo* cms) {
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || i2d_CMS_bio(out.get(), cms) != 1) return openssl_fail(errc::crypto_failure);
  return bio_bytes(out.get());
}

Result<CmsPtr> parse_cms(ByteView der) {
  // d2i on the exact buffer; trailing bytes are refused.
  const unsigned char* p = der.data();
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (!cms || p != der.data() + der.size()) return openssl_fail(errc::seal_malformed);
  return cms;
}

// The key wrap algorithm of a key agreement recipient info: RFC 5753 §7.2 puts a
// KeyWrapAlgorithm AlgorithmIdentifier in the parameters of the keyEncryptionAlgorithm.
// Returns its NID, or NID_undef when the parameter is absent or not exactly one AlgorithmIdentifier.
int kari_key_wrap_nid(CMS_RecipientInfo* ri) {
  X509_ALGOR* kea = nullptr;
  ASN1_OCTET_STRING* ukm = nullptr;
  if (CMS_RecipientInfo_kari_get0_alg(ri, &kea, &ukm) != 1 || kea == nullptr || kea->parameter == nullptr ||
      kea->parameter->type != V_ASN1_SEQUENCE || kea->parameter->value.sequence == nullptr)
    return NID_undef;
  const ASN1_STRING* params = kea->parameter->value.sequence;
  const unsigned char* p = params->data;
  AlgorPtr wrap(d2i_X509_ALGOR(nullptr, &p, params->length));
  if (!wrap || p != params->data + params->length) return NID_undef;
  return OBJ_obj2nid(wrap->algorithm);
}

}  // namespace

Result<Bytes> cms_sign(ByteView content, const Certificate& signer_cert, const PrivateKey& signer_key,
                       std::span<const Certificate> extra_certs) {
  if (!signer_cert.valid() || !signer_key.valid() || !signer_key.matches(signer_cert)) return fail(errc::bad_key);
  X509StackPtr chain(sk_X509_new_null());
  if (!chain) return openssl_fail(errc::crypto_failure);
  for (const auto& c : extra_certs) {
    if (!c.valid() || X509_up_ref(c.native()) != 1) return openssl_fail(errc::bad_key);
    if (sk_X509_push(chain.get(), c.native()) <= 0) {
      X509_free(c.native());
      return openssl_fail(errc::crypto_failure);
    }
  }
  BioPtr in = mem_bio(content);
  // RFC 5652 §5: SignedData, encapsulated content attached (no CMS_DETACHED), id-data.
  CmsPtr cms(CMS_sign(signer_cert.native(), signer_key.native(), chain.get(), in.get(), CMS_BINARY));
  if (!cms) return openssl_fail(errc::crypto_failure);
  return to_der(cms.get());
}

Result<Bytes> cms_encrypt(ByteView content, const Certificate& recipient) {
  if (!recipient.valid()) return fail(errc::bad_key);
  auto pub = recipient.public_key();
  if (!pub) return fail(pub.error());
  const auto type = pub->type();
  if (!type) return fail(errc::bad_key);
  // RFC 5083 AuthEnvelopedData: CMS_encrypt picks it for an AEAD cipher (OpenSSL >= 3.0).
  CmsPtr cms(CMS_encrypt(nullptr, nullptr, EVP_aes_256_gcm(), CMS_BINARY | CMS_PARTIAL));
  if (!cms) return openssl_fail(errc::crypto_failure);
  CMS_RecipientInfo* ri = CMS_add1_recipient_cert(cms.get(), recipient.native(), CMS_KEY_PARAM);
  if (ri == nullptr) return openssl_fail(errc::bad_key);
  EVP_PKEY_CTX* pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
  if (pctx == nullptr) return openssl_fail(errc::crypto_failure);
  if (*type == KeyType::rsa) {
    // RFC 8017 RSAES-OAEP with SHA-256 and MGF1-SHA-256 (RFC 4055 parameters in the ktri).
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0)
      return openssl_fail(errc::crypto_failure);
  } else {
    // RFC 5753 §3.1: dhSinglePass-stdDH-sha256kdf-scheme (X9.63 KDF with SHA-256).
    if (EVP_PKEY_CTX_set_ecdh_kdf_md(pctx, EVP_sha256()) <= 0) return openssl_fail(errc::crypto_failure);
  }
  BioPtr in = mem_bio(content);
  if (CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY) != 1) return openssl_fail(errc::crypto_failure);
  return to_der(cms.get());
}

Result<Bytes> seal_profile(const McimProfile& bound_profile, const Certificate& signer_cert,
                           const PrivateKey& signer_key, const Certificate& recipient_pfc,
                           std::span<const Certificate> extra_certs) {
  if (!bound_profile.binding) return fail(errc::profile_unbound);
  if (auto v = validate_profile(bound_profile); !v) return fail(v.error());
  const SecretBytes content = serialize_profile(bound_profile);
  auto signed_der = cms_sign(content.view(), signer_cert, signer_key, extra_certs);
  if (!signed_der) return fail(signed_der.error());
  return cms_encrypt(*signed_der, recipient_pfc);
}

Result<SecretBytes> cms_decrypt(ByteView sealed, const PrivateKey& platform_key, const Certificate& pfc) {
  if (!platform_key.valid() || !pfc.valid()) return fail(errc::bad_key);
  auto parsed = parse_cms(sealed);
  if (!parsed) return fail(parsed.error());
  CMS_ContentInfo* cms = parsed->get();
  const int type = OBJ_obj2nid(CMS_get0_type(cms));
  if (type == NID_pkcs7_enveloped) return fail(errc::seal_unsupported_algorithm);  // no integrity
  if (type != NID_id_smime_ct_authEnvelopedData) return fail(errc::seal_malformed);
  // Fields OpenSSL accepts without authenticating them (versions, content type, GCM parameters).
  if (const errc e = check_auth_enveloped_der(sealed); e != errc::ok) return fail(e);

  STACK_OF(CMS_RecipientInfo)* ris = CMS_get0_RecipientInfos(cms);
  if (ris == nullptr) return openssl_fail(errc::seal_malformed);
  // Find the recipient info addressed to our PfC (issuer+serial or subject key id).
  CMS_RecipientInfo* match = nullptr;
  CMS_RecipientEncryptedKey* match_rek = nullptr;
  for (int i = 0; i < sk_CMS_RecipientInfo_num(ris) && match == nullptr; ++i) {
    CMS_RecipientInfo* ri = sk_CMS_RecipientInfo_value(ris, i);
    const int ri_type = CMS_RecipientInfo_type(ri);
    if (ri_type == CMS_RECIPINFO_TRANS) {
      if (CMS_RecipientInfo_ktri_cert_cmp(ri, pfc.native()) == 0) match = ri;
    } else if (ri_type == CMS_RECIPINFO_AGREE) {
      STACK_OF(CMS_RecipientEncryptedKey)* reks = CMS_RecipientInfo_kari_get0_reks(ri);
      for (int j = 0; j < sk_CMS_RecipientEncryptedKey_num(reks); ++j) {
        CMS_RecipientEncryptedKey* rek = sk_CMS_RecipientEncryptedKey_value(reks, j);
        if (CMS_RecipientEncryptedKey_cert_cmp(rek, pfc.native()) == 0) {
          match = ri;
          match_rek = rek;
          break;
        }
      }
    }
  }
  ERR_clear_error();
  if (match == nullptr) return fail(errc::seal_wrong_recipient);

  if (match_rek == nullptr) {
    // RSA: only RSAES-OAEP is accepted (PKCS#1 v1.5 key transport invites padding oracles).
    X509_ALGOR* alg = nullptr;
    if (CMS_RecipientInfo_ktri_get0_algs(match, nullptr, nullptr, &alg) != 1 || alg == nullptr)
      return openssl_fail(errc::seal_malformed);
    if (OBJ_obj2nid(alg->algorithm) != NID_rsaesOaep) return fail(errc::seal_unsupported_algorithm);
    // set0 takes ownership of one reference, and set0(nullptr) releases it: lend it one of its own.
    if (EVP_PKEY_up_ref(platform_key.native()) != 1) return openssl_fail(errc::crypto_failure);
    if (CMS_RecipientInfo_set0_pkey(match, platform_key.native()) != 1) {
      EVP_PKEY_free(platform_key.native());
      return openssl_fail(errc::crypto_failure);
    }
    const int ok = CMS_RecipientInfo_decrypt(cms, match);
    CMS_RecipientInfo_set0_pkey(match, nullptr);  // frees the lent reference
    if (ok != 1) return openssl_fail(errc::seal_key_unwrap_failed);
  } else {
    // The originator's ephemeral key: an ECPoint is an octet string, so its BIT STRING has no
    // unused bits (RFC 5480 §2.2); OpenSSL would take one with padding bits that happen to be
    // zero as the same point, leaving an unauthenticated byte of the envelope malleable.
    ASN1_BIT_STRING* orig_key = nullptr;
    if (CMS_RecipientInfo_kari_get0_orig_id(match, nullptr, &orig_key, nullptr, nullptr, nullptr) != 1 ||
        orig_key == nullptr || (orig_key->flags & 0x07) != 0)
      return openssl_fail(errc::seal_malformed);
    // Only the RFC 3394 AES key wraps (RFC 3565 §2.3.2; what cms_encrypt and `openssl cms` use),
    // checked before OpenSSL unwraps anything. AES key wrap *with padding* (RFC 5649,
    // id-aes*-wrap-pad) must never reach OpenSSL 3.0: when its unwrap fails (wrong key, bad AIV or
    // length), CRYPTO_128_unwrap_pad wipes `inlen` bytes of an output buffer that CMS allocated with
    // `inlen - 8` bytes, writing 8 zero bytes past the heap block (upstream: openssl/openssl PR
    // #30663). Issue 14: fuzz_cms_open's ASan "CHECK failed ... CHUNK_QUARANTINE" was those 8 bytes
    // landing on the next chunk's allocator header; valgrind showed the write (OPENSSL_cleanse <-
    // CRYPTO_128_unwrap_pad <- CMS_RecipientInfo_kari_decrypt, 0 bytes after a block of 32) for
    // tests/fuzz/corpus/cms_open/regress-kari-aes-wrap-pad-overflow (see docs/reliability.md).
    switch (kari_key_wrap_nid(match)) {
      case NID_id_aes128_wrap:
      case NID_id_aes192_wrap:
      case NID_id_aes256_wrap:
        break;
      case NID_undef:
        return openssl_fail(errc::seal_malformed);
      default:
        return openssl_fail(errc::seal_unsupported_algorithm);
    }
    if (CMS_RecipientInfo_kari_set0_pkey(match, platform_key.native()) != 1)
      return openssl_fail(errc::seal_key_unwrap_failed);  // key type does not fit the recipient info
    const int ok = CMS_RecipientInfo_kari_decrypt(cms, match, match_rek);
    CMS_RecipientInfo_kari_set0_pkey(match, nullptr);
    if (ok != 1) return openssl_fail(errc::seal_key_unwrap_failed);
  }

  // The content key is set; decrypting the content checks the GCM tag (RFC 5083 §2.1).
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out) return openssl_fail(errc::crypto_failure);
  const int ok = CMS_decrypt(cms, nullptr, nullptr, nullptr, out.get(), CMS_BINARY);
  Bytes plain = bio_bytes(out.get());
  SecretBytes result(plain);
  std::fill(plain.begin(), plain.end(), std::uint8_t{0});
  if (ok != 1) return openssl_fail(errc::seal_tag_mismatch);
  return result;
}

Result<VerifiedSignedData> verify_signed_data(ByteView signed_der, const TrustAnchors& anchors, std::int64_t now) {
  auto parsed = parse_cms(signed_der);
  if (!parsed) return fail(parsed.error());
  CMS_ContentInfo* cms = parsed->get();
  if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) return fail(errc::seal_malformed);
  if (OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data) return fail(errc::seal_malformed);
  STACK_OF(CMS_SignerInfo)* sis = CMS_get0_SignerInfos(cms);
  if (sis == nullptr || sk_CMS_SignerInfo_num(sis) != 1) return openssl_fail(errc::seal_malformed);
  const ASN1_OCTET_STRING* const* econtent = CMS_get0_content(cms);
  if (econtent == nullptr || *econtent == nullptr) return openssl_fail(errc::seal_malformed);  // detached
  if (const errc e = check_signed_data_der(signed_der); e != errc::ok) return fail(e);
  {
    // Only the algorithms a SHO uses; an altered (unsigned) algorithm identifier is refused.
    X509_ALGOR* dig = nullptr;
    X509_ALGOR* sig = nullptr;
    CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(sis, 0), nullptr, nullptr, &dig, &sig);
    const int dn = dig != nullptr ? OBJ_obj2nid(dig->algorithm) : NID_undef;
    const int sn = sig != nullptr ? OBJ_obj2nid(sig->algorithm) : NID_undef;
    const bool dig_ok = dn == NID_sha256 || dn == NID_sha384 || dn == NID_sha512;
    const bool sig_ok = sn == NID_ecdsa_with_SHA256 || sn == NID_ecdsa_with_SHA384 || sn == NID_ecdsa_with_SHA512 ||
                        sn == NID_X9_62_id_ecPublicKey || sn == NID_rsaEncryption || sn == NID_sha256WithRSAEncryption ||
                        sn == NID_sha384WithRSAEncryption || sn == NID_sha512WithRSAEncryption || sn == NID_rsassaPss;
    if (!dig_ok || !sig_ok) return fail(errc::seal_unsupported_algorithm);
  }

  // 1. The signature over the content (RFC 5652 §5.6), signer chain checked separately below so
  //    that "bad signature" and "untrusted signer" stay distinct.
  BioPtr out(BIO_new(BIO_s_mem()));
  if (CMS_verify(cms, nullptr, nullptr, nullptr, out.get(), CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
    const unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    if (ERR_GET_LIB(e) == ERR_LIB_CMS && ERR_GET_REASON(e) == CMS_R_SIGNER_CERTIFICATE_NOT_FOUND)
      return fail(errc::seal_untrusted_signer);
    return fail(errc::seal_bad_signature);
  }
  Bytes content = bio_bytes(out.get());
  SecretBytes content_secret(content);
  std::fill(content.begin(), content.end(), std::uint8_t{0});

  // 2. The signer and the certificates that came with it.
  X509StackPtr all_certs(CMS_get1_certs(cms));
  STACK_OF(X509)* signers = CMS_get0_signers(cms);
  if (signers == nullptr || sk_X509_num(signers) != 1) {
    sk_X509_free(signers);
    return openssl_fail(errc::seal_malformed);
  }
  X509* signer_x = sk_X509_value(signers, 0);
  X509_up_ref(signer_x);
  sk_X509_free(signers);
  Certificate signer(signer_x);

  // 3. Test and production PKIs never mix: a device with production anchors refuses any
  //    package whose signer or accompanying certificates carry the test-PKI marker.
  if (anchors.kind() == AnchorKind::production) {
    bool test = signer.is_test_certificate();
    for (int i = 0; all_certs && i < sk_X509_num(all_certs.get()); ++i) {
      X509* c = sk_X509_value(all_certs.get(), i);
      X509_up_ref(c);
      if (Certificate(c).is_test_certificate()) test = true;
    }
    if (test) return fail(errc::seal_test_signer_in_production);
  }

  // 4. The signer chains to one of the anchors (RFC 5280 §6), at the caller's `now`.
  StorePtr store(X509_STORE_new());
  if (!store) return openssl_fail(errc::crypto_failure);
  for (const auto& a : anchors.certificates()) {
    if (X509_STORE_add_cert(store.get(), a.native()) != 1) return openssl_fail(errc::crypto_failure);
  }
  StoreCtxPtr sctx(X509_STORE_CTX_new());
  if (!sctx || X509_STORE_CTX_init(sctx.get(), store.get(), signer.native(), all_certs.get()) != 1)
    return openssl_fail(errc::crypto_failure);
  X509_STORE_CTX_set_purpose(sctx.get(), X509_PURPOSE_SMIME_SIGN);
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(sctx.get()), static_cast<time_t>(now));
  if (anchors.empty() || X509_verify_cert(sctx.get()) != 1) return openssl_fail(errc::seal_untrusted_signer);

  return VerifiedSignedData{std::move(content_secret), std::move(signer)};
}

Result<OpenedMcim> verify_signed_profile(ByteView signed_der, const Certificate& pfc, const TrustAnchors& anchors,
                                         const OpenPolicy& policy) {
  auto verified = verify_signed_data(signed_der, anchors, policy.now);
  if (!verified) return fail(verified.error());
  SecretBytes& content_secret = verified->content;
  Certificate& signer = verified->signer;

  // 5. The content is a bound profile.
  auto profile = parse_profile(content_secret.view());
  if (!profile) return fail(profile.error());
  if (!profile->binding) return fail(errc::profile_unbound);
  const McimBinding& b = *profile->binding;

  if (policy.require_signer_is_sho && signer.subject_cn() != profile->sho_id)
    return fail(errc::seal_signer_sho_mismatch);

  // 6. Binding to this device (TR 33.812 §5.1.1.1.4: MIDs installed only in the intended M2ME).
  if (b.device_id != policy.device_id) return fail(errc::seal_wrong_device);
  if (b.pfc_spki_sha256 && !constant_time_equal(*b.pfc_spki_sha256, pfc.spki_sha256()))
    return fail(errc::seal_wrong_device);

  // 7. Freshness.
  if (policy.now >= b.expires) return fail(errc::seal_expired);
  if (b.issued > policy.now + policy.max_clock_skew) return fail(errc::seal_not_yet_valid);

  // 8. Monotonic counter per SHO: replay (equal) and rollback (lower) are refused.
  std::optional<std::uint64_t> last = policy.counter_floor;
  if (policy.last_counter) {
    if (auto l = policy.last_counter(profile->sho_id)) last = last ? std::max(*last, *l) : *l;
  }
  if (last) {
    if (b.counter == *last) return fail(errc::seal_replayed);
    if (b.counter < *last) return fail(errc::seal_rolled_back);
  }
  return OpenedMcim{std::move(*profile), std::move(signer)};
}

Result<OpenedMcim> open_sealed(ByteView sealed, const PrivateKey& platform_key, const Certificate& pfc,
                               const TrustAnchors& anchors, const OpenPolicy& policy) {
  auto signed_der = cms_decrypt(sealed, platform_key, pfc);
  if (!signed_der) return fail(signed_der.error());
  return verify_signed_profile(signed_der->view(), pfc, anchors, policy);
}

}  // namespace m2mdm::mo
