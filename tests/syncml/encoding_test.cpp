#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/error.hpp"

#include <gtest/gtest.h>

namespace m2mdm {
namespace {

TEST(Base64, Rfc4648TestVectors) {  // RFC 4648 §10
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, b64] : cases) {
    EXPECT_EQ(base64_encode(as_bytes(plain)), b64);
    auto back = base64_decode(b64);
    ASSERT_TRUE(back) << b64;
    EXPECT_EQ(as_chars(*back), plain);
  }
}

TEST(Base64, SkipsWhitespaceAndRejectsGarbage) {
  auto ok = base64_decode("Zm9v\r\nYmFy");
  ASSERT_TRUE(ok);
  EXPECT_EQ(as_chars(*ok), "foobar");
  for (std::string_view bad : {"Zm9", "Zm9v!", "Zg=a", "Zh==", "Z===", "=Zm9"}) {
    auto r = base64_decode(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), syncml::errc::bad_base64) << bad;
  }
}

TEST(Hex, RoundTripBothCases) {
  const Bytes b{0x00, 0x1A, 0xF5, 0xFF};
  EXPECT_EQ(hex_encode(b), "001af5ff");
  EXPECT_EQ(hex_encode(b, true), "001AF5FF");
  EXPECT_EQ(*hex_decode("001AF5ff"), b);
  EXPECT_EQ(hex_decode("0g").error(), syncml::errc::bad_hex);
  EXPECT_EQ(hex_decode("abc").error(), syncml::errc::bad_hex);
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  const Bytes a{1, 2, 3}, b{1, 2, 3}, c{1, 2, 4}, d{1, 2};
  EXPECT_TRUE(constant_time_equal(a, b));
  EXPECT_FALSE(constant_time_equal(a, c));
  EXPECT_FALSE(constant_time_equal(a, d));
  EXPECT_TRUE(constant_time_equal(Bytes{}, Bytes{}));
}

TEST(ErrorCategory, NamesTheLayer) {
  std::error_code ec = syncml::errc::bad_hex;
  EXPECT_STREQ(ec.category().name(), "m2mdm.syncml");
  EXPECT_EQ(ec.message(), "invalid hex");
}

}  // namespace
}  // namespace m2mdm
