// The operator-change token (mo/change_token.hpp) with real keys of the test PKI: the canonical
// form, signing and verifying, each refusal with its own error, and `openssl cms -verify`.
#include "mcim_test_util.hpp"

#include "m2mdm/mo/change_token.hpp"
#include "m2mdm/mo/error.hpp"

#include <gtest/gtest.h>

namespace m2mdm::mo {
namespace {

using test::TestPki;

constexpr std::string_view kNonce = "00112233445566778899aabbccddeeff";

ChangeToken token_for(const std::string& dev, ChangeVariant v = ChangeVariant::via_old_sho) {
  ChangeToken t;
  t.device_id = dev;
  t.variant = v;
  t.from_sho = "sho.example";  // the test PKI's first SHO signer
  t.to_sho = "sho-b.example";
  t.issued = TestPki::instance().now - 60;
  t.not_after = TestPki::instance().now + 3600;
  t.nonce = std::string(kNonce);
  return t;
}

ChangeTokenCheck check_for(const std::string& dev) {
  ChangeTokenCheck c;
  c.device_id = dev;
  c.variant = ChangeVariant::via_old_sho;
  c.from_sho = "sho.example";
  c.to_sho = "sho-b.example";
  c.now = TestPki::instance().now;
  return c;
}

Bytes signed_by_old_sho(const ChangeToken& t) {
  auto& pki = TestPki::instance();
  auto s = sign_change_token(t, pki.sho_cert, pki.sho_key);
  if (!s) throw std::runtime_error("sign: " + s.error().message());
  return *s;
}

std::error_code code(errc e) { return make_error_code(e); }

TEST(ChangeToken, CanonicalJsonRoundTrips) {
  const ChangeToken t = token_for("IMEI:351234567890123");
  auto text = serialize_change_token(t);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text,
            "{\"by\":\"old-sho\",\"dev\":\"IMEI:351234567890123\",\"from\":\"sho.example\",\"issued\":" +
                std::to_string(t.issued) + ",\"nonce\":\"" + std::string(kNonce) + "\",\"not_after\":" +
                std::to_string(t.not_after) +
                ",\"to\":\"sho-b.example\",\"type\":\"m2mdm-operator-change\",\"variant\":\"A\",\"version\":1}");
  auto back = parse_change_token(as_bytes(*text));
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, t);
}

TEST(ChangeToken, ParserRefusesWhatIsNotExactlyAToken) {
  auto text = *serialize_change_token(token_for("dev-1"));
  auto refused = [](const std::string& s) { return parse_change_token(as_bytes(s)).error() == code(errc::token_malformed); };
  EXPECT_TRUE(refused(""));
  EXPECT_TRUE(refused("[]"));
  EXPECT_TRUE(refused(text.substr(0, text.size() - 1)));
  // A repeated key (two readers could see two different tokens in the same bytes).
  EXPECT_TRUE(refused("{\"dev\":\"other\"," + text.substr(1)));
  // An unknown field, a missing field.
  EXPECT_TRUE(refused("{\"extra\":1," + text.substr(1)));
  std::string missing = text;
  missing.replace(missing.find("\"by\":\"old-sho\","), 15, "");
  EXPECT_TRUE(refused(missing));
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = text;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  EXPECT_TRUE(refused(with("\"variant\":\"A\"", "\"variant\":\"D\"")));
  EXPECT_TRUE(refused(with("\"version\":1", "\"version\":2")));
  EXPECT_TRUE(refused(with("\"type\":\"m2mdm-operator-change\"", "\"type\":\"other\"")));
  EXPECT_TRUE(refused(with("\"by\":\"old-sho\"", "\"by\":\"anyone\"")));
  EXPECT_TRUE(refused(with(std::string(kNonce), "00112233445566778899AABBCCDDEEFF")));
  EXPECT_TRUE(refused(with("\"to\":\"sho-b.example\"", "\"to\":\"sho.example\"")));  // from == to
  EXPECT_TRUE(refused(with("\"dev\":\"dev-1\"", "\"dev\":\"dev 1\"")));
}

TEST(ChangeToken, SerializeRefusesAnInvalidToken) {
  ChangeToken t = token_for("dev-1");
  t.not_after = t.issued;
  EXPECT_EQ(serialize_change_token(t).error(), code(errc::invalid_argument));
}

TEST(ChangeToken, SignedByTheOldShoVerifies) {
  const ChangeToken t = token_for("dev-ok");
  const Bytes der = signed_by_old_sho(t);
  auto v = verify_change_token(der, TestPki::instance().anchors(), check_for("dev-ok"));
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_EQ(*v, t);
}

TEST(ChangeToken, EachRefusalHasItsOwnError) {
  auto& pki = TestPki::instance();
  const Bytes der = signed_by_old_sho(token_for("dev-x"));
  auto verify = [&](ByteView token, const ChangeTokenCheck& c) {
    auto r = verify_change_token(token, pki.anchors(), c);
    return r ? std::error_code{} : r.error();
  };
  auto c = check_for("dev-x");
  c.device_id = "dev-y";
  EXPECT_EQ(verify(der, c), code(errc::token_wrong_device));
  c = check_for("dev-x");
  c.variant = ChangeVariant::usim_update;
  EXPECT_EQ(verify(der, c), code(errc::token_wrong_variant));
  c = check_for("dev-x");
  c.to_sho = "sho-c.example";
  EXPECT_EQ(verify(der, c), code(errc::token_wrong_sho));
  c = check_for("dev-x");
  c.from_sho = "sho-c.example";
  EXPECT_EQ(verify(der, c), code(errc::token_wrong_sho));
  c = check_for("dev-x");
  c.now = pki.now + 3600;  // not_after is exclusive
  EXPECT_EQ(verify(der, c), code(errc::token_expired));
  c = check_for("dev-x");
  c.now = pki.now - 60 - 301;  // issued more than the skew in the future
  EXPECT_EQ(verify(der, c), code(errc::token_expired));
  c = check_for("dev-x");
  c.nonce_used = [](std::string_view n) { return n == kNonce; };
  EXPECT_EQ(verify(der, c), code(errc::token_replayed));

  // Tampered: one byte of the signed JSON changed.
  Bytes tampered = der;
  const std::string needle = "dev-x";
  auto at = std::search(tampered.begin(), tampered.end(), needle.begin(), needle.end());
  ASSERT_NE(at, tampered.end());
  *(at + 4) = 'z';
  EXPECT_EQ(verify(tampered, check_for("dev-z")), code(errc::token_bad_signature));
  EXPECT_EQ(verify(Bytes{0x30, 0x03, 0x02, 0x01, 0x01}, check_for("dev-x")), code(errc::token_malformed));

  // Untrusted: the device trusts another CA.
  TrustAnchors other(AnchorKind::test);
  ASSERT_TRUE(other.add(pki.manufacturer_ca).has_value());
  auto r = verify_change_token(der, other, check_for("dev-x"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), code(errc::token_untrusted_signer));
}

TEST(ChangeToken, OnlyTheOldShoMaySign) {
  auto& pki = TestPki::instance();
  const auto& new_sho = pki.sho("sho-b.example");
  const ChangeToken t = token_for("dev-s");
  // The new SHO cannot authorise its own takeover: sign refuses, and a token it signs anyway
  // (plain CMS over the same JSON) fails verification.
  EXPECT_EQ(sign_change_token(t, new_sho.cert, new_sho.key).error(), code(errc::token_signer_mismatch));
  auto forged = cms_sign(as_bytes(*serialize_change_token(t)), new_sho.cert, new_sho.key);
  ASSERT_TRUE(forged.has_value());
  EXPECT_EQ(verify_change_token(*forged, pki.anchors(), check_for("dev-s")).error(), code(errc::token_signer_mismatch));
}

ChangeToken subscriber_token_for(const std::string& dev) {
  ChangeToken t = token_for(dev);
  t.by = ChangeAuthoriser::subscriber;
  t.subscriber = "owner.example";
  return t;
}

TEST(ChangeToken, ASubscriberTokenNamesTheSubscriberAndRoundTrips) {
  const ChangeToken t = subscriber_token_for("dev-u");
  auto text = serialize_change_token(t);
  ASSERT_TRUE(text.has_value());
  EXPECT_NE(text->find("\"by\":\"subscriber\""), std::string::npos);
  EXPECT_NE(text->find("\"subscriber\":\"owner.example\""), std::string::npos);
  auto back = parse_change_token(as_bytes(*text));
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, t);
  // "subscriber" exactly when "by" is "subscriber".
  ChangeToken no_name = t;
  no_name.subscriber.clear();
  EXPECT_FALSE(serialize_change_token(no_name).has_value());
  ChangeToken named_old_sho = token_for("dev-u");
  named_old_sho.subscriber = "owner.example";
  EXPECT_FALSE(serialize_change_token(named_old_sho).has_value());
  std::string swapped = *text;
  swapped.replace(swapped.find("\"by\":\"subscriber\""), 17, "\"by\":\"old-sho\"");
  EXPECT_EQ(parse_change_token(as_bytes(swapped)).error(), code(errc::token_malformed));
  std::string unnamed = *text;
  unnamed.replace(unnamed.find(",\"subscriber\":\"owner.example\""), 29, "");
  EXPECT_EQ(parse_change_token(as_bytes(unnamed)).error(), code(errc::token_malformed));
}

TEST(ChangeToken, TheVerifierDecidesWhoMayAuthorise) {
  auto& pki = TestPki::instance();
  const auto& owner = pki.subscriber("owner.example");
  const auto owner_anchors = pki.subscriber_anchors();
  const ChangeToken t = subscriber_token_for("dev-w");
  // Only the subscriber named in the token may sign it.
  EXPECT_EQ(sign_change_token(t, pki.sho_cert, pki.sho_key).error(), code(errc::token_signer_mismatch));
  auto der = sign_change_token(t, owner.cert, owner.key);
  ASSERT_TRUE(der.has_value()) << der.error().message();

  // A device with an owner: subscriber tokens, checked against the owner's CA.
  ChangeTokenCheck c = check_for("dev-w");
  c.by = ChangeAuthoriser::subscriber;
  auto ok = verify_change_token(*der, owner_anchors, c);
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(ok->subscriber, "owner.example");
  c.subscriber = "owner.example";
  EXPECT_TRUE(verify_change_token(*der, owner_anchors, c).has_value());
  c.subscriber = "someone-else";
  EXPECT_EQ(verify_change_token(*der, owner_anchors, c).error(), code(errc::token_wrong_authoriser));
  // ...so the old SHO's token no longer moves it, even when signed by a CA the verifier trusts.
  const Bytes by_old_sho = signed_by_old_sho(token_for("dev-w"));
  c = check_for("dev-w");
  c.by = ChangeAuthoriser::subscriber;
  EXPECT_EQ(verify_change_token(by_old_sho, owner_anchors, c).error(), code(errc::token_untrusted_signer));
  TrustAnchors both(AnchorKind::test);
  ASSERT_TRUE(both.add(pki.sho_ca).has_value());
  ASSERT_TRUE(both.add(*Certificate::from_pem(test::slurp(pki.dir / "subscriber-ca.pem"))).has_value());
  EXPECT_EQ(verify_change_token(by_old_sho, both, c).error(), code(errc::token_wrong_authoriser));
  // A device without an owner takes the old SHO's token, never a subscriber's.
  EXPECT_EQ(verify_change_token(*der, both, check_for("dev-w")).error(), code(errc::token_wrong_authoriser));
  EXPECT_TRUE(verify_change_token(by_old_sho, pki.anchors(), check_for("dev-w")).has_value());
  // The subscriber's CA is not an SHO CA: its token against the SHO anchors is untrusted.
  EXPECT_EQ(verify_change_token(*der, pki.anchors(), check_for("dev-w")).error(), code(errc::token_untrusted_signer));
}

TEST(ChangeToken, OpensslCmsVerifiesIt) {
  if (test::run("openssl version") != 0) GTEST_SKIP() << "openssl command not available";
  auto& pki = TestPki::instance();
  const auto dir = test::make_temp_dir("token");
  const Bytes der = signed_by_old_sho(token_for("dev-o"));
  test::write_file(dir / "token.der", der);
  EXPECT_EQ(test::run("openssl cms -verify -binary -inform DER -in " + (dir / "token.der").string() + " -CAfile " +
                      (pki.dir / "sho-ca.pem").string() + " -purpose any -out " + (dir / "token.json").string()),
            0);
  auto content = parse_change_token(as_bytes(test::slurp(dir / "token.json")));
  ASSERT_TRUE(content.has_value());
  EXPECT_EQ(content->device_id, "dev-o");
}

TEST(ChangeToken, NoncesAreFreshHex) {
  auto a = new_change_nonce(), b = new_change_nonce();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
}

}  // namespace
}  // namespace m2mdm::mo
