// Tests of m2mdm/syncml/auth.hpp against the OMA DM 1.2 spec examples and against vectors
// computed independently (Python hashlib/base64, formulas of DM_Security 1.2 §5.1.3.2/§5.1.4.2).
#include "m2mdm/syncml/auth.hpp"
#include "m2mdm/syncml/error.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace m2mdm::syncml {
namespace {

// ----- MD5 primitive (RFC 1321 §A.5 test suite) -----

TEST(Md5, Rfc1321Vectors) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"}};
  for (const auto& [in, hex] : cases) {
    auto d = md5(as_bytes(in));
    ASSERT_TRUE(d);
    EXPECT_EQ(hex_encode(*d), hex) << in;
  }
}

// ----- auth types -----

TEST(AuthType, MetaTypeStringsRoundTrip) {
  EXPECT_EQ(auth_type_string(AuthType::basic), "syncml:auth-basic");
  EXPECT_EQ(auth_type_string(AuthType::md5), "syncml:auth-md5");
  EXPECT_EQ(auth_type_string(AuthType::hmac), "syncml:auth-MAC");
  for (auto t : {AuthType::basic, AuthType::md5, AuthType::hmac}) {
    auto back = parse_auth_type(auth_type_string(t));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, t);
  }
  EXPECT_EQ(parse_auth_type(" syncml:auth-mac\n").value(), AuthType::hmac);
  EXPECT_EQ(parse_auth_type("SYNCML:AUTH-MD5").value(), AuthType::md5);
  EXPECT_EQ(parse_auth_type("syncml:auth-X509").error(), errc::invalid_value);
  EXPECT_EQ(parse_auth_type("").error(), errc::invalid_value);
}

// ----- basic -----

TEST(Basic, DmProtocolExample) {  // DM_Protocol 1.2 §9.4.1, Pkg #1 with credentials
  EXPECT_EQ(basic_credential("Bruce2", "OhBehave"), "QnJ1Y2UyOk9oQmVoYXZl");
  auto parsed = parse_basic_credential("QnJ1Y2UyOk9oQmVoYXZl");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->user, "Bruce2");
  EXPECT_EQ(parsed->password, "OhBehave");
  EXPECT_TRUE(verify_basic_credential("QnJ1Y2UyOk9oQmVoYXZl", "Bruce2", "OhBehave"));
  EXPECT_TRUE(verify_basic_credential("QnJ1Y2Uy\r\n Ok9oQmVoYXZl", "Bruce2", "OhBehave"));
  EXPECT_FALSE(verify_basic_credential("QnJ1Y2UyOk9oQmVoYXZl", "Bruce2", "OhBehav"));
  EXPECT_FALSE(verify_basic_credential("QnJ1Y2UyOk9oQmVoYXZl", "Bruce", "2:OhBehave"));  // split differs
  EXPECT_FALSE(verify_basic_credential("not base64!", "Bruce2", "OhBehave"));
}

TEST(Basic, PasswordMaySplitOnlyAtFirstColon) {
  const auto cred = basic_credential("dev", "a:b:c");
  auto parsed = parse_basic_credential(cred);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->user, "dev");
  EXPECT_EQ(parsed->password, "a:b:c");
  auto empty = parse_basic_credential(basic_credential("", ""));
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->user, "");
  EXPECT_EQ(empty->password, "");
}

TEST(Basic, ParseErrors) {
  EXPECT_EQ(parse_basic_credential(base64_encode(as_bytes("nocolon"))).error(), errc::invalid_value);
  EXPECT_EQ(parse_basic_credential("Zm9v!").error(), errc::bad_base64);
}

// ----- md5 -----

TEST(Md5Digest, SpecVectorBruce2) {  // DM_Protocol 1.2 §9.4.2, DM_RepPro 1.2 Cred example
  auto cred = md5_digest_credential("Bruce2", "OhBehave", as_bytes("Nonce"));
  ASSERT_TRUE(cred);
  EXPECT_EQ(*cred, "Zz6EivR3yeaaENcRN6lpAQ==");
  EXPECT_TRUE(verify_md5_digest_credential("Zz6EivR3yeaaENcRN6lpAQ==", "Bruce2", "OhBehave", as_bytes("Nonce")));
}

TEST(Md5Digest, IsTheComposedFormula) {
  // B64(H(B64(H(user:password)):nonce)) built step by step from md5() and base64_encode().
  const Bytes nonce = {0x00, 0xff, 0x10, 0x3a};
  auto inner = md5(as_bytes("dev-1:s3cret"));
  ASSERT_TRUE(inner);
  std::string outer_input = base64_encode(*inner) + ":";
  outer_input.append(as_chars(nonce));
  auto outer = md5(as_bytes(outer_input));
  ASSERT_TRUE(outer);
  EXPECT_EQ(md5_digest_credential("dev-1", "s3cret", nonce).value(), base64_encode(*outer));
  EXPECT_EQ(md5_user_key("dev-1", "s3cret").value(), base64_encode(*inner));
}

TEST(Md5Digest, UserKeyFormsAgree) {
  EXPECT_EQ(md5_user_key("Bruce2", "OhBehave").value(), "PtEdr8lBQ45IbT1bZIkrOQ==");  // hashlib
  EXPECT_EQ(md5_digest_credential_from_key("PtEdr8lBQ45IbT1bZIkrOQ==", as_bytes("Nonce")).value(),
            "Zz6EivR3yeaaENcRN6lpAQ==");
  EXPECT_TRUE(verify_md5_digest_credential_from_key("Zz6EivR3yeaaENcRN6lpAQ==", "PtEdr8lBQ45IbT1bZIkrOQ==",
                                                    as_bytes("Nonce")));
}

TEST(Md5Digest, VerifyRejectsEveryWrongInput) {
  const auto n = as_bytes("Nonce");
  EXPECT_TRUE(verify_md5_digest_credential(" Zz6EivR3yeaaENcRN6lpAQ==\n", "Bruce2", "OhBehave", n));
  EXPECT_FALSE(verify_md5_digest_credential("Zz6EivR3yeaaENcRN6lpAQ==", "Bruce2", "OhBehave", as_bytes("nonce")));
  EXPECT_FALSE(verify_md5_digest_credential("Zz6EivR3yeaaENcRN6lpAQ==", "bruce2", "OhBehave", n));
  EXPECT_FALSE(verify_md5_digest_credential("Zz6EivR3yeaaENcRN6lpAQ==", "Bruce2", "OhBehave!", n));
  EXPECT_FALSE(verify_md5_digest_credential("Zz6EivR3yeaaENcRN6lpAg==", "Bruce2", "OhBehave", n));  // 1 bit
  EXPECT_FALSE(verify_md5_digest_credential("Zz6EivR3yeaaENcRN6lp", "Bruce2", "OhBehave", n));  // short
  EXPECT_FALSE(verify_md5_digest_credential("", "Bruce2", "OhBehave", n));
  EXPECT_FALSE(verify_md5_digest_credential("%%%%", "Bruce2", "OhBehave", n));
}

// ----- auth-MAC -----

// Independently computed (Python hashlib): B64(H(B64(H(u:p)):nonce:B64(H(body)))).
TEST(Hmac, KnownAnswers) {
  EXPECT_EQ(hmac_mac("Bruce2", "OhBehave", as_bytes("Nonce"), as_bytes("<SyncML/>")).value(),
            "urdCeS3JUmjFgi8SX3webw==");
  Bytes nonce16(16);
  for (std::size_t i = 0; i < nonce16.size(); ++i) nonce16[i] = static_cast<std::uint8_t>(i);
  const Bytes wbxml_body = {0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d, 0x01};
  EXPECT_EQ(hmac_mac("Robert Jordan", "secret", nonce16, wbxml_body).value(), "W0l1uJr66ThUe0v0+KARrA==");
  EXPECT_EQ(hmac_mac("srv", "pw", {}, {}).value(), "YyVoCktN3MCFPQREuN+kow==");
}

TEST(Hmac, HeaderValueExactForm) {
  auto v = hmac_header_value("Bruce2", "OhBehave", as_bytes("Nonce"), as_bytes("<SyncML/>"));
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, "algorithm=MD5, username=\"Bruce2\", mac=urdCeS3JUmjFgi8SX3webw==");
  auto k = hmac_header_value_from_key("Bruce2", md5_user_key("Bruce2", "OhBehave").value(), as_bytes("Nonce"),
                                      as_bytes("<SyncML/>"));
  EXPECT_EQ(k.value(), *v);
}

TEST(Hmac, HeaderEscapesQuotesAndRefusesControlCharacters) {
  auto v = hmac_header_value("a\"b\\c", "p", as_bytes("n"), as_bytes("x"));
  ASSERT_TRUE(v);
  EXPECT_NE(v->find("username=\"a\\\"b\\\\c\""), std::string::npos) << *v;
  auto parsed = parse_hmac_header(*v);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->username, "a\"b\\c");
  EXPECT_TRUE(verify_hmac(*parsed, "p", as_bytes("n"), as_bytes("x")));
  EXPECT_EQ(hmac_header_value("evil\r\nX-Injected: 1", "p", {}, {}).error(), errc::invalid_value);
  EXPECT_EQ(hmac_header_value("", "p", {}, {}).error(), errc::invalid_value);
}

TEST(Hmac, ParseSpecExample) {  // DM_Security 1.2 §5.1.4.3 (header name, line break included)
  auto h = parse_hmac_header(
      "x-syncml-hmac: algorithm=MD5, username=\"Robert Jordan\",\r\n"
      " mac=NTI2OTJhMDAwNjYxODkwYmQ3NWUxN2RhN2ZmYmJlMzk");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->algorithm, "MD5");
  EXPECT_EQ(h->username, "Robert Jordan");
  EXPECT_EQ(h->mac, "NTI2OTJhMDAwNjYxODkwYmQ3NWUxN2RhN2ZmYmJlMzk");
}

TEST(Hmac, ParseToleratesOrderCaseWhitespaceAndDefaults) {
  const char* variants[] = {
      "algorithm=MD5, username=\"dev\", mac=urdCeS3JUmjFgi8SX3webw==",
      "mac=urdCeS3JUmjFgi8SX3webw==,username=\"dev\"",  // no algorithm: MD5 assumed
      "  USERNAME = dev ,\tMac= \"urdCeS3JUmjFgi8SX3webw==\" , Algorithm = md5 ",
      ",, username=\"dev\",,mac=urdCeS3JUmjFgi8SX3webw==,",
      "username=dev, mac=urdCeS3JUmjFgi8SX3webw==, realm=\"ignored\"",
  };
  for (const char* v : variants) {
    auto h = parse_hmac_header(v);
    ASSERT_TRUE(h) << v;
    EXPECT_EQ(h->username, "dev") << v;
    EXPECT_EQ(h->mac, "urdCeS3JUmjFgi8SX3webw==") << v;
    EXPECT_TRUE(h->algorithm == "MD5" || h->algorithm == "md5") << v;
  }
}

TEST(Hmac, ParseRejections) {
  const char* bad[] = {
      "",
      "algorithm=MD5",
      "username=\"dev\"",                                   // mac missing
      "mac=abcd",                                           // username missing
      "username=\"dev\", username=\"x\", mac=abcd",         // duplicate
      "username=\"dev, mac=abcd",                           // unterminated quote
      "username, mac=abcd",                                 // no '='
      "username=, mac=abcd",                                // empty value
      "username=\"\", mac=abcd",                            // empty user
      "username=\"dev\" junk, mac=abcd",                    // junk after value
      "username=\"dev\", mac=ab!cd",                        // not base64
      "username=\"dev\", mac=\"\"",                         // empty mac
      "username=\"dev\", mac=ab\x01",                       // control char
  };
  for (const char* v : bad) {
    auto h = parse_hmac_header(v);
    ASSERT_FALSE(h) << v;
    EXPECT_EQ(h.error(), errc::bad_header) << v;
  }
}

TEST(Hmac, VerifyOverExactBodyBytes) {
  const auto nonce = as_bytes("n0nce");
  const std::string body = "<SyncML><SyncHdr/></SyncML>";
  auto v = hmac_header_value("dev", "pw", nonce, as_bytes(body));
  ASSERT_TRUE(v);
  auto h = parse_hmac_header(*v);
  ASSERT_TRUE(h);
  EXPECT_TRUE(verify_hmac(*h, "pw", nonce, as_bytes(body)));
  EXPECT_TRUE(verify_hmac_from_key(*h, md5_user_key("dev", "pw").value(), nonce, as_bytes(body)));
  EXPECT_FALSE(verify_hmac(*h, "pw", nonce, as_bytes(body + "\n")));  // one byte more
  EXPECT_FALSE(verify_hmac(*h, "pw", as_bytes("n0ncf"), as_bytes(body)));
  EXPECT_FALSE(verify_hmac(*h, "pW", nonce, as_bytes(body)));
  auto other_user = *h;
  other_user.username = "dev2";
  EXPECT_FALSE(verify_hmac(other_user, "pw", nonce, as_bytes(body)));
  auto sha = *h;
  sha.algorithm = "SHA1";
  EXPECT_FALSE(verify_hmac(sha, "pw", nonce, as_bytes(body)));
  auto unpadded = *h;  // missing '=' padding is tolerated
  while (!unpadded.mac.empty() && unpadded.mac.back() == '=') unpadded.mac.pop_back();
  EXPECT_TRUE(verify_hmac(unpadded, "pw", nonce, as_bytes(body)));
  auto flipped = *h;
  flipped.mac[3] = flipped.mac[3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_hmac(flipped, "pw", nonce, as_bytes(body)));
}

// ----- nonces and challenges -----

TEST(Nonce, RandomAndSized) {
  std::set<Bytes> seen;
  for (int i = 0; i < 32; ++i) {
    auto n = generate_nonce();
    ASSERT_TRUE(n);
    EXPECT_EQ(n->size(), kDefaultNonceSize);
    seen.insert(*n);
  }
  EXPECT_EQ(seen.size(), 32u);  // 128-bit values: a collision means the RNG is broken
  EXPECT_EQ(generate_nonce(4).value().size(), 4u);
  EXPECT_EQ(generate_nonce(0).error(), errc::invalid_value);
  EXPECT_EQ(generate_nonce(4096).error(), errc::invalid_value);
}

TEST(Challenge, MakeAndMetaValues) {
  auto md5c = make_challenge(AuthType::md5);
  ASSERT_TRUE(md5c);
  EXPECT_EQ(md5c->type_string(), "syncml:auth-md5");
  EXPECT_EQ(Challenge::format_string(), "b64");
  EXPECT_EQ(md5c->next_nonce.size(), 16u);
  EXPECT_EQ(base64_decode(md5c->next_nonce_b64()).value(), md5c->next_nonce);
  auto basic = make_challenge(AuthType::basic);
  ASSERT_TRUE(basic);
  EXPECT_TRUE(basic->next_nonce.empty());
  EXPECT_EQ(basic->next_nonce_b64(), "");
  EXPECT_EQ(make_challenge(AuthType::hmac, 8).value().next_nonce.size(), 8u);
  EXPECT_EQ(make_challenge(AuthType::hmac).value().type_string(), "syncml:auth-MAC");
}

TEST(Challenge, ParseMetaValues) {
  auto c = parse_challenge("syncml:auth-md5", "b64", "Tm9uY2U=");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->type, AuthType::md5);
  EXPECT_EQ(as_chars(c->next_nonce), "Nonce");
  auto raw = parse_challenge("syncml:auth-MAC", "", "Nonce");
  ASSERT_TRUE(raw);
  EXPECT_EQ(as_chars(raw->next_nonce), "Nonce");
  EXPECT_EQ(parse_challenge("syncml:auth-md5", "hex", "00").error(), errc::invalid_value);
  EXPECT_EQ(parse_challenge("syncml:auth-md5", "b64", "###").error(), errc::bad_base64);
  EXPECT_EQ(parse_challenge("bogus", "b64", "").error(), errc::invalid_value);
  // A challenge without NextNonce is legal; the caller keeps its previous nonce.
  EXPECT_TRUE(parse_challenge("syncml:auth-md5", "b64", "").value().next_nonce.empty());
}

TEST(Credential, ByType) {
  const auto n = as_bytes("Nonce");
  EXPECT_EQ(make_credential(AuthType::basic, "Bruce2", "OhBehave", n).value(), "QnJ1Y2UyOk9oQmVoYXZl");
  EXPECT_EQ(make_credential(AuthType::md5, "Bruce2", "OhBehave", n).value(), "Zz6EivR3yeaaENcRN6lpAQ==");
  EXPECT_EQ(make_credential(AuthType::hmac, "Bruce2", "OhBehave", n).error(), errc::invalid_value);
  EXPECT_TRUE(verify_credential(AuthType::basic, "QnJ1Y2UyOk9oQmVoYXZl", "Bruce2", "OhBehave", {}));
  EXPECT_TRUE(verify_credential(AuthType::md5, "Zz6EivR3yeaaENcRN6lpAQ==", "Bruce2", "OhBehave", n));
  EXPECT_FALSE(verify_credential(AuthType::md5, "QnJ1Y2UyOk9oQmVoYXZl", "Bruce2", "OhBehave", n));
  EXPECT_FALSE(verify_credential(AuthType::hmac, "Zz6EivR3yeaaENcRN6lpAQ==", "Bruce2", "OhBehave", n));
}

}  // namespace
}  // namespace m2mdm::syncml
