// SEC methods: key derivation, public vectors, and per method good MAC / wrong PIN / wrong IMSI /
// flipped body bit / MAC case (ProvBoot 1.1 §5.4).
#include "cp_test_support.hpp"
#include "m2mdm/bootstrap/apply.hpp"
#include "m2mdm/bootstrap/security.hpp"

#include <gtest/gtest.h>

#include <cctype>

namespace m2mdm::bootstrap {
namespace {

using namespace testing;

const std::string kImsi = "466923103145252";

TEST(CpSecurity, ImsiKeyIsSemiOctets) {
  auto k = imsi_key(kImsi);
  ASSERT_TRUE(k);
  EXPECT_EQ(hex_encode(*k, true), "4966291330412525");
  auto even = imsi_key("12345678901234");  // even: "1" prefix, "F" pad
  ASSERT_TRUE(even);
  EXPECT_EQ(hex_encode(*even, true), "11325476981032F4");
  EXPECT_EQ(imsi_key("").error(), make_error_code(errc::sec_missing_imsi));
  EXPECT_EQ(imsi_key("46692310314525X").error(), make_error_code(errc::sec_bad_imsi));
  EXPECT_EQ(imsi_key("4669231031452521").error(), make_error_code(errc::sec_bad_imsi));  // 16 digits
}

TEST(CpSecurity, PublicVectorNetwpin) {
  const Bytes body{0x03, 0x0B, 0x6A, 0x00, 0x45, 0x01};
  auto mac = compute_mac(SecMethod::netwpin, {std::nullopt, kImsi}, body);
  ASSERT_TRUE(mac);
  EXPECT_EQ(*mac, "1AF545FE2823DC9347064450F90FF1BBF957E146");
}

TEST(CpSecurity, PublicVectorUserpinOverTheChunghwaDocument) {
  const Bytes body = slurp_bytes(vectors_dir() / "cht-userpin-0000.wbxml");
  auto mac = compute_mac(SecMethod::userpin, {std::string("0000"), std::nullopt}, body);
  ASSERT_TRUE(mac);
  EXPECT_EQ(*mac, "AA2DC41FC48AEEF3FED7351B1EE704461A8894D4");
  EXPECT_TRUE(verify_mac(SecMethod::userpin, {std::string("0000"), std::nullopt}, body,
                         "aa2dc41fc48aeef3fed7351b1ee704461a8894d4"));
}

TEST(CpSecurity, MethodNames) {
  EXPECT_EQ(parse_sec_method("netwpin"), SecMethod::netwpin);
  EXPECT_EQ(parse_sec_method("UserPin"), SecMethod::userpin);
  EXPECT_EQ(parse_sec_method("USERNETWPIN"), SecMethod::usernetwpin);
  EXPECT_EQ(parse_sec_method("userpinmac"), SecMethod::userpinmac);
  EXPECT_EQ(parse_sec_method("3"), SecMethod::userpinmac);
  EXPECT_EQ(parse_sec_method("NETWORKID"), SecMethod::netwpin);
  EXPECT_EQ(parse_sec_method("userpin_networkid"), SecMethod::usernetwpin);
  EXPECT_EQ(parse_sec_method("PIN").error(), make_error_code(errc::sec_unknown_method));
}

TEST(CpSecurity, UsernetwpinKeyIsNetwpinKeyThenPin) {
  auto k = derive_key(SecMethod::usernetwpin, {std::string("1234"), kImsi});
  ASSERT_TRUE(k);
  EXPECT_EQ(hex_encode(*k, true), "496629133041252531323334");
  auto dm = derive_key(SecMethod::usernetwpin, {std::string("1234"), kImsi}, SecProfile::dm);
  ASSERT_TRUE(dm);
  EXPECT_EQ(hex_encode(*dm, true), "49662913304125253A31323334");  // "IMSI-key:PIN"
}

class EverySecMethod : public ::testing::TestWithParam<SecMethod> {
 protected:
  Bytes body() const {
    auto doc = build_bootstrap_doc(sample_spec());
    auto w = encode_cp_wbxml(*doc);
    return *w;
  }
  SecCredentials good() const {
    switch (GetParam()) {
      case SecMethod::netwpin: return {std::nullopt, kImsi};
      case SecMethod::userpin: return {std::string("8372"), std::nullopt};
      case SecMethod::usernetwpin: return {std::string("8372"), kImsi};
      case SecMethod::userpinmac: return {std::string("83720191"), std::nullopt};  // K; K||m computed below
    }
    return {};
  }
};

TEST_P(EverySecMethod, GoodWrongPinWrongImsiFlippedBitAndCase) {
  const SecMethod m = GetParam();
  const Bytes b = body();
  SecCredentials creds = good();
  auto mac = compute_mac(m, creds, b);
  ASSERT_TRUE(mac) << mac.error().message();
  std::optional<std::string> wire_mac = *mac;
  if (m == SecMethod::userpinmac) {
    // No MAC travels: the user enters K||m.
    EXPECT_EQ(mac->size(), 16u);
    EXPECT_EQ(mac->substr(0, 8), "83720191");
    for (char c : mac->substr(8)) EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(c)));
    creds.pin = *mac;
    wire_mac.reset();
  } else {
    EXPECT_EQ(mac->size(), 40u);
    for (char c : *mac) EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(c)) || (c >= 'A' && c <= 'F'));
  }
  // good
  EXPECT_TRUE(verify_mac(m, creds, b, wire_mac)) << sec_method_name(m);
  // end to end: verify + decode + interpret
  auto vb = verify_cp_bootstrap(b, m, creds, wire_mac);
  ASSERT_TRUE(vb) << vb.error().message();
  EXPECT_EQ(vb->result().contexts.size(), 2u);
  // MAC case does not matter
  if (wire_mac) {
    std::string lower = *wire_mac;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_TRUE(verify_mac(m, creds, b, lower));
  }
  // wrong PIN
  if (m != SecMethod::netwpin) {
    SecCredentials w = creds;
    w.pin = m == SecMethod::userpinmac ? std::string("9372019100000000") : std::string("8373");
    EXPECT_EQ(verify_mac(m, w, b, wire_mac).error(), make_error_code(errc::sec_mac_mismatch));
    SecCredentials none = creds;
    none.pin.reset();
    EXPECT_EQ(verify_mac(m, none, b, wire_mac).error(), make_error_code(errc::sec_missing_pin));
  }
  // wrong IMSI
  if (m == SecMethod::netwpin || m == SecMethod::usernetwpin) {
    SecCredentials w = creds;
    w.imsi = "466923103145253";
    EXPECT_EQ(verify_mac(m, w, b, wire_mac).error(), make_error_code(errc::sec_mac_mismatch));
    w.imsi.reset();
    EXPECT_EQ(verify_mac(m, w, b, wire_mac).error(), make_error_code(errc::sec_missing_imsi));
    w.imsi = "46692310314525a";
    EXPECT_EQ(verify_mac(m, w, b, wire_mac).error(), make_error_code(errc::sec_bad_imsi));
  }
  // every flipped bit in the first 64 bytes (and the last one) breaks the MAC
  std::vector<std::size_t> positions;
  for (std::size_t i = 0; i < 64 && i < b.size(); ++i) positions.push_back(i);
  positions.push_back(b.size() - 1);
  for (std::size_t i : positions) {
    Bytes flipped = b;
    flipped[i] ^= 0x01;
    EXPECT_EQ(verify_mac(m, creds, flipped, wire_mac).error(), make_error_code(errc::sec_mac_mismatch)) << i;
    EXPECT_FALSE(verify_cp_bootstrap(flipped, m, creds, wire_mac));
  }
  if (wire_mac) {
    // missing and malformed MAC
    EXPECT_EQ(verify_mac(m, creds, b, std::nullopt).error(), make_error_code(errc::sec_missing_mac));
    EXPECT_EQ(verify_mac(m, creds, b, wire_mac->substr(0, 39)).error(), make_error_code(errc::sec_malformed_mac));
    EXPECT_EQ(verify_mac(m, creds, b, "G" + wire_mac->substr(1)).error(), make_error_code(errc::sec_malformed_mac));
  }
}

INSTANTIATE_TEST_SUITE_P(Methods, EverySecMethod,
                         ::testing::Values(SecMethod::netwpin, SecMethod::userpin, SecMethod::usernetwpin,
                                           SecMethod::userpinmac),
                         [](const auto& p) { return std::string(sec_method_name(p.param)); });

}  // namespace
}  // namespace m2mdm::bootstrap
