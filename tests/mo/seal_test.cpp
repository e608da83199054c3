// Sealing and opening the MCIM with real OpenSSL keys from the test PKI: round trips for EC and
// RSA PfCs, and every refusal with its own error.
#include "mcim_test_util.hpp"

#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/seal.hpp"
#include "m2mdm/test/refused.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace m2mdm::mo {
namespace {

using test::TestPki;

std::error_code code(errc e) { return make_error_code(e); }

Result<OpenedMcim> open_as(const test::Device& dev, ByteView sealed, const OpenPolicy& pol) {
  return open_sealed(sealed, dev.key, dev.pfc, TestPki::instance().anchors(), pol);
}

Bytes seal_for(const test::Device& dev, const McimProfile& p) {
  auto& pki = TestPki::instance();
  auto s = seal_profile(p, pki.sho_cert, pki.sho_key, dev.pfc);
  if (!s) throw std::runtime_error("seal failed: " + s.error().message());
  return *s;
}

TEST(Seal, EcRoundTrip) {
  const auto& dev = TestPki::instance().device("seal-ec");
  const McimProfile p = test::bound_profile(dev.id, 3, &dev.pfc);
  const Bytes sealed = seal_for(dev, p);
  auto opened = open_as(dev, sealed, test::policy_for(dev.id));
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  EXPECT_TRUE(serialize_profile(opened->profile) == serialize_profile(p));
  EXPECT_EQ(opened->signer.subject_cn(), "sho.example");
  // No secret appears in clear in the package.
  const std::string hay(sealed.begin(), sealed.end());
  EXPECT_EQ(hay.find("465b5ce8b199b49faa5f0a2ee238a6bc"), std::string::npos);
  EXPECT_EQ(hay.find("001010000000001"), std::string::npos);
}

TEST(Seal, RsaRoundTripUsesOaep) {
  const auto& dev = TestPki::instance().device("seal-rsa", KeyType::rsa);
  const McimProfile p = test::bound_profile(dev.id, 1, &dev.pfc);
  const Bytes sealed = seal_for(dev, p);
  auto opened = open_as(dev, sealed, test::policy_for(dev.id));
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  EXPECT_EQ(opened->profile.imsi, p.imsi);
  // The rsaesOaep OID 1.2.840.113549.1.1.7 is in the key transport recipient info.
  const Bytes oaep_oid = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x07};
  EXPECT_NE(std::search(sealed.begin(), sealed.end(), oaep_oid.begin(), oaep_oid.end()), sealed.end());
}

TEST(Seal, SealingIsRandomizedButBothOpen) {
  const auto& dev = TestPki::instance().device("seal-ec");
  const McimProfile p = test::bound_profile(dev.id, 4);
  const Bytes a = seal_for(dev, p);
  const Bytes b = seal_for(dev, p);
  EXPECT_NE(a, b);  // fresh ephemeral key and content key each time
  EXPECT_TRUE(open_as(dev, a, test::policy_for(dev.id)).has_value());
  EXPECT_TRUE(open_as(dev, b, test::policy_for(dev.id)).has_value());
}

TEST(Seal, UnboundProfileIsNotSealed) {
  const auto& dev = TestPki::instance().device("seal-ec");
  auto& pki = TestPki::instance();
  auto r = seal_profile(test::example_profile(), pki.sho_cert, pki.sho_key, dev.pfc);
  EXPECT_TRUE(test::refused_with(r, errc::profile_unbound));
}

TEST(Seal, WrongRecipient) {
  const auto& a = TestPki::instance().device("seal-ec");
  const auto& b = TestPki::instance().device("seal-other");
  const Bytes sealed = seal_for(a, test::bound_profile(a.id, 1));
  ASSERT_TRUE(test::refused_with(open_as(b, sealed, test::policy_for(b.id)), errc::seal_wrong_recipient));
  // The right certificate but another key (a stolen PfC without the platform key).
  auto r2 = open_sealed(sealed, b.key, a.pfc, TestPki::instance().anchors(), test::policy_for(a.id));
  EXPECT_TRUE(test::refused_with(r2, errc::seal_key_unwrap_failed));
}

TEST(Seal, TamperedTagAndCiphertext) {
  const auto& dev = TestPki::instance().device("seal-ec");
  const Bytes sealed = seal_for(dev, test::bound_profile(dev.id, 1));
  for (std::size_t back : {1u, 8u, 16u, 30u, 100u, 400u}) {  // the tag is last, ciphertext before it
    Bytes t = sealed;
    t[t.size() - back] ^= 0x01;
    EXPECT_TRUE(test::refused_with(open_as(dev, t, test::policy_for(dev.id)), errc::seal_tag_mismatch)) << back;
  }
}

// Every single-byte change anywhere in the package is refused, and only with the errors that
// belong to the outer envelope's regions.
TEST(Seal, EveryByteOfTheEnvelopeIsProtected) {
  for (auto type : {KeyType::ec_p256, KeyType::rsa}) {
    const auto& dev = TestPki::instance().device(type == KeyType::rsa ? "seal-rsa" : "seal-ec", type);
    const Bytes sealed = seal_for(dev, test::bound_profile(dev.id, 1));
    const std::set<std::error_code> allowed = {code(errc::seal_malformed), code(errc::seal_unsupported_algorithm),
                                               code(errc::seal_wrong_recipient), code(errc::seal_key_unwrap_failed),
                                               code(errc::seal_tag_mismatch)};
    std::set<std::error_code> seen;
    for (std::size_t i = 0; i < sealed.size(); ++i) {
      Bytes t = sealed;
      t[i] ^= 0x04;
      auto r = open_as(dev, t, test::policy_for(dev.id));
      ASSERT_FALSE(r.has_value()) << "byte " << i << " of " << sealed.size() << " changed and still opened";
      EXPECT_TRUE(allowed.count(r.error()) == 1) << "byte " << i << ": " << r.error().message();
      seen.insert(r.error());
    }
    EXPECT_TRUE(seen.count(code(errc::seal_malformed)));
    EXPECT_TRUE(seen.count(code(errc::seal_wrong_recipient)));
    EXPECT_TRUE(seen.count(code(errc::seal_key_unwrap_failed)));
    EXPECT_TRUE(seen.count(code(errc::seal_tag_mismatch)));
  }
}

// Issue 14: a key agreement recipient info naming AES key wrap *with padding* (RFC 5649) is
// refused before OpenSSL unwraps it. OpenSSL 3.0's failing id-aes*-wrap-pad unwrap writes 8 bytes
// past its output buffer (see seal.cpp); before the fix this package reached that unwrap and came
// back as seal_key_unwrap_failed. The change is the fuzzer's: one byte of the key wrap OID.
TEST(Seal, KeyWrapWithPaddingIsRefusedBeforeUnwrap) {
  const auto& dev = TestPki::instance().device("seal-ec");
  const Bytes sealed = seal_for(dev, test::bound_profile(dev.id, 1));
  // id-aes256-wrap 2.16.840.1.101.3.4.1.45 (RFC 3565), what cms_encrypt uses for AES-256-GCM.
  const Bytes wrap_oid = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2d};
  const auto at = std::search(sealed.begin(), sealed.end(), wrap_oid.begin(), wrap_oid.end());
  ASSERT_NE(at, sealed.end());
  for (std::uint8_t arc : {0x08, 0x1c, 0x30}) {  // id-aes128/192/256-wrap-pad (RFC 5649 §6)
    Bytes t = sealed;
    t[static_cast<std::size_t>(at - sealed.begin()) + wrap_oid.size() - 1] = arc;
    auto r = open_as(dev, t, test::policy_for(dev.id));
    EXPECT_TRUE(test::refused_with(r, errc::seal_unsupported_algorithm)) << int{arc};
  }
  // The untouched package still opens (the allow-list keeps the RFC 3394 wrap).
  EXPECT_TRUE(open_as(dev, sealed, test::policy_for(dev.id)).has_value());
}

TEST(Seal, MalformedInput) {
  const auto& dev = TestPki::instance().device("seal-ec");
  const Bytes sealed = seal_for(dev, test::bound_profile(dev.id, 1));
  for (const Bytes& junk : {Bytes{}, Bytes{0x30}, Bytes{0x30, 0x80, 0x00, 0x00}, Bytes(100, 0xff),
                            Bytes(sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(sealed.size() / 2))}) {
    EXPECT_TRUE(test::refused_with(open_as(dev, junk, test::policy_for(dev.id)), errc::seal_malformed));
  }
  Bytes trailing = sealed;
  trailing.push_back(0);
  EXPECT_TRUE(test::refused_with(open_as(dev, trailing, test::policy_for(dev.id)), errc::seal_malformed));
}

// Inner layer: a SignedData altered before encryption (what a compromised transport key could
// do) is refused by the signature check.
TEST(Seal, EveryProfileFieldIsCoveredByTheSignature) {
  auto& pki = TestPki::instance();
  const auto& dev = pki.device("seal-ec");
  const McimProfile p = test::bound_profile(dev.id, 9, &dev.pfc);
  const SecretBytes canon = serialize_profile(p);
  const std::string text(as_chars(canon.view()));
  auto signed_der = cms_sign(canon.view(), pki.sho_cert, pki.sho_key);
  ASSERT_TRUE(signed_der.has_value());
  const auto pos_in_der = std::search(signed_der->begin(), signed_der->end(), text.begin(), text.end());
  ASSERT_NE(pos_in_der, signed_der->end());
  const auto base = static_cast<std::size_t>(pos_in_der - signed_der->begin());
  // One value character of each field (the value starts after `"key":` and an optional quote).
  for (const char* field : {"\"amf\":", "\"iccid\":", "\"imsi\":", "\"k\":", "\"opc\":", "\"plmn_id\":", "\"sho_id\":",
                            "\"sqn\":", "\"kic\":", "\"kid\":", "\"kvn\":", "\"kic_algorithm\":", "\"device\":",
                            "\"transaction_id\":", "\"issued\":", "\"expires\":", "\"counter\":",
                            "\"pfc_spki_sha256\":", "\"version\":"}) {
    const auto at = text.find(field);
    ASSERT_NE(at, std::string::npos) << field;
    std::size_t v = at + std::strlen(field);
    if (text[v] == '"') ++v;
    Bytes t = *signed_der;
    t[base + v] = t[base + v] == '1' ? '2' : '1';
    auto sealed = cms_encrypt(t, dev.pfc);
    ASSERT_TRUE(sealed.has_value());
    EXPECT_TRUE(test::refused_with(open_as(dev, *sealed, test::policy_for(dev.id)), errc::seal_bad_signature)) << field;
  }
  // Every byte of the SignedData: refused, with signer-side errors only.
  const std::set<std::error_code> allowed = {code(errc::seal_malformed), code(errc::seal_bad_signature),
                                             code(errc::seal_untrusted_signer), code(errc::seal_unsupported_algorithm)};
  for (std::size_t i = 0; i < signed_der->size(); i += 3) {
    Bytes t = *signed_der;
    t[i] ^= 0x02;
    auto r = verify_signed_profile(t, dev.pfc, pki.anchors(), test::policy_for(dev.id));
    ASSERT_FALSE(r.has_value()) << "SignedData byte " << i << " changed and still verified";
    EXPECT_TRUE(allowed.count(r.error()) == 1) << "byte " << i << ": " << r.error().message();
  }
}

TEST(Seal, UntrustedSigner) {
  auto& pki = TestPki::instance();
  const auto& dev = pki.device("seal-ec");
  // A self-made "SHO" with the right name but outside the anchors.
  auto rogue_key = PrivateKey::generate(KeyType::ec_p256);
  ASSERT_TRUE(rogue_key.has_value());
  CertSpec spec;
  spec.common_name = "sho.example";
  spec.key_usage = "critical,digitalSignature";
  spec.not_before = pki.now - 100;
  spec.not_after = pki.now + 86400;
  auto rogue = issue_certificate(spec, *rogue_key, nullptr, *rogue_key);
  ASSERT_TRUE(rogue.has_value());
  auto sealed = seal_profile(test::bound_profile(dev.id, 1), *rogue, *rogue_key, dev.pfc);
  ASSERT_TRUE(sealed.has_value());
  ASSERT_TRUE(test::refused_with(open_as(dev, *sealed, test::policy_for(dev.id)), errc::seal_untrusted_signer));
  // A device trusting the manufacturer CA only (wrong anchors) refuses the genuine SHO too.
  TrustAnchors wrong(AnchorKind::test);
  ASSERT_TRUE(wrong.add(pki.manufacturer_ca).has_value());
  auto r2 = open_sealed(seal_for(dev, test::bound_profile(dev.id, 1)), dev.key, dev.pfc, wrong, test::policy_for(dev.id));
  EXPECT_TRUE(test::refused_with(r2, errc::seal_untrusted_signer));
}

TEST(Seal, SignerMustBeTheProfilesSho) {
  auto& pki = TestPki::instance();
  const auto& dev = pki.device("seal-ec");
  McimProfile p = test::bound_profile(dev.id, 1);
  p.sho_id = "other.sho";
  auto r = open_as(dev, seal_for(dev, p), test::policy_for(dev.id));
  EXPECT_TRUE(test::refused_with(r, errc::seal_signer_sho_mismatch));
}

TEST(Seal, TestAndProductionAnchorsNeverMix) {
  auto& pki = TestPki::instance();
  // A production CA (no test-PKI policy).
  auto key = PrivateKey::generate(KeyType::ec_p256);
  ASSERT_TRUE(key.has_value());
  CertSpec spec;
  spec.common_name = "production SHO CA";
  spec.is_ca = true;
  spec.key_usage = "critical,keyCertSign,cRLSign";
  spec.not_before = pki.now - 100;
  spec.not_after = pki.now + 86400;
  spec.test_policy = false;
  auto prod_ca = issue_certificate(spec, *key, nullptr, *key);
  ASSERT_TRUE(prod_ca.has_value());
  EXPECT_FALSE(prod_ca->is_test_certificate());
  EXPECT_TRUE(pki.sho_ca.is_test_certificate());

  TrustAnchors production(AnchorKind::production);
  ASSERT_TRUE(test::refused_with(production.add(pki.sho_ca), errc::trust_anchor_kind_mismatch));
  TrustAnchors testset(AnchorKind::test);
  ASSERT_TRUE(test::refused_with(testset.add(*prod_ca), errc::trust_anchor_kind_mismatch));
  ASSERT_TRUE(production.add(*prod_ca).has_value());
  auto both = TrustAnchors::from_pem(pki.sho_ca.to_pem() + prod_ca->to_pem(), AnchorKind::production);
  ASSERT_TRUE(test::refused_with(both, errc::trust_anchor_kind_mismatch));

  // A package signed under the test root, opened by a production device.
  const auto& dev = pki.device("seal-ec");
  auto r = open_sealed(seal_for(dev, test::bound_profile(dev.id, 1)), dev.key, dev.pfc, production,
                       test::policy_for(dev.id));
  EXPECT_TRUE(test::refused_with(r, errc::seal_test_signer_in_production));
}

TEST(Seal, WrongDevice) {
  auto& pki = TestPki::instance();
  const auto& dev = pki.device("seal-ec");
  const auto& other = pki.device("seal-other");
  // Bound to another DevId, encrypted to this device.
  auto r = open_as(dev, seal_for(dev, test::bound_profile(other.id, 1)), test::policy_for(dev.id));
  ASSERT_TRUE(test::refused_with(r, errc::seal_wrong_device));
  // Right DevId but the other device's key hash.
  auto r2 = open_as(dev, seal_for(dev, test::bound_profile(dev.id, 1, &other.pfc)), test::policy_for(dev.id));
  EXPECT_TRUE(test::refused_with(r2, errc::seal_wrong_device));
}

TEST(Seal, ExpiryAndIssueTime) {
  auto& pki = TestPki::instance();
  const auto& dev = pki.device("seal-ec");
  const Bytes sealed = seal_for(dev, test::bound_profile(dev.id, 1));
  OpenPolicy late = test::policy_for(dev.id);
  late.now = pki.now + 86400;  // == expires
  ASSERT_TRUE(test::refused_with(open_as(dev, sealed, late), errc::seal_expired));
  OpenPolicy early = test::policy_for(dev.id);
  early.now = pki.now - 60 - 301;  // issued is more than the skew ahead
  EXPECT_TRUE(test::refused_with(open_as(dev, sealed, early), errc::seal_not_yet_valid));
}

TEST(Seal, CounterReplayAndRollback) {
  auto& pki = TestPki::instance();
  const auto& dev = pki.device("seal-ec");
  const Bytes sealed = seal_for(dev, test::bound_profile(dev.id, 10));
  OpenPolicy pol = test::policy_for(dev.id);
  pol.last_counter = [](std::string_view sho) -> std::optional<std::uint64_t> {
    if (sho == "sho.example") return 10;
    return std::nullopt;
  };
  ASSERT_TRUE(test::refused_with(open_as(dev, sealed, pol), errc::seal_replayed));
  pol.last_counter = [](std::string_view) -> std::optional<std::uint64_t> { return 11; };
  ASSERT_TRUE(test::refused_with(open_as(dev, sealed, pol), errc::seal_rolled_back));
  pol.last_counter = [](std::string_view) -> std::optional<std::uint64_t> { return 9; };
  EXPECT_TRUE(open_as(dev, sealed, pol).has_value());
  // The floor applies on top of the per-SHO value.
  pol.counter_floor = 10;
  EXPECT_TRUE(test::refused_with(open_as(dev, sealed, pol), errc::seal_replayed));
}

TEST(Seal, SignAndVerifyWithPlatformKeys) {
  for (auto type : {KeyType::ec_p256, KeyType::rsa}) {
    const auto& dev = TestPki::instance().device(type == KeyType::rsa ? "seal-rsa" : "seal-ec", type);
    const Bytes msg = {1, 2, 3};
    auto sig = dev.key.sign(msg);
    ASSERT_TRUE(sig.has_value());
    auto pub = dev.pfc.public_key();
    ASSERT_TRUE(pub.has_value());
    EXPECT_TRUE(*pub->verify(msg, *sig));
    EXPECT_FALSE(*pub->verify(Bytes{1, 2, 4}, *sig));
  }
}

}  // namespace
}  // namespace m2mdm::mo
