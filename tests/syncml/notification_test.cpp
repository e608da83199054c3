// Tests of m2mdm/syncml/notification.hpp (package 0, DM_Notification 1.2 §6.2). Expected bytes
// are derived by hand from the §6.2.1 bit layout; expected digests were computed independently
// with Python hashlib/base64 from the §6.2.2.2 formula.
#include "m2mdm/syncml/error.hpp"
#include "m2mdm/syncml/notification.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace m2mdm::syncml {
namespace {

Bytes hex(std::string_view h) { return hex_decode(h).value(); }

Notification sample() {
  Notification n;
  n.ui_mode = UiMode::background;
  n.initiator = Initiator::server;
  n.session_id = 0x1234;
  n.server_id = "m2mdm";
  return n;
}

TEST(Pkg0, TriggerBitLayoutByHand) {
  // version 11 = 0b0000001011 -> byte16 = 0000_0010 (0x02), byte17 = 11 (version low bits)
  // 01 (background) 1 (server) 000 (future use) = 0xD8; bytes 18-20 future use = 00 00 00;
  // session 0x1234; length 5; "m2mdm".
  auto t = encode_trigger(sample());
  ASSERT_TRUE(t);
  EXPECT_EQ(hex_encode(*t), "02d80000001234056d326d646d");

  Notification n2;
  n2.ui_mode = UiMode::user_interaction;  // 11
  n2.initiator = Initiator::client;       // 0   -> byte17 = 11 11 0 000 = 0xF0
  n2.session_id = 0x00ff;
  n2.server_id = "srv";
  n2.vendor_specific = {0xca, 0xfe};
  EXPECT_EQ(hex_encode(encode_trigger(n2).value()), "02f000000000ff03737276cafe");

  Notification n3 = sample();
  n3.ui_mode = UiMode::not_specified;
  n3.initiator = Initiator::client;  // 11 00 0 000 = 0xC0
  EXPECT_EQ(hex_encode(encode_trigger(n3).value()).substr(0, 4), "02c0");
  n3.ui_mode = UiMode::informative;  // 11 10 0 000 = 0xE0
  EXPECT_EQ(hex_encode(encode_trigger(n3).value()).substr(0, 4), "02e0");
}

TEST(Pkg0, DigestKnownAnswers) {
  const Bytes trigger = hex("02d80000001234056d326d646d");
  EXPECT_EQ(hex_encode(notification_digest("m2mdm", "secret", kNotificationResetNonce, trigger).value()),
            "5314bb74f9650369c4d55a274cb25067");
  EXPECT_EQ(hex_encode(notification_digest("m2mdm", "secret", as_bytes("Nonce"), trigger).value()),
            "93eda112405e8e4b856fcf3f6dd4622c");
  Bytes nonce16(16);
  for (std::size_t i = 0; i < 16; ++i) nonce16[i] = static_cast<std::uint8_t>(i);
  EXPECT_EQ(hex_encode(notification_digest("srv", "pw", nonce16, hex("02f000000000ff03737276cafe")).value()),
            "a7165ca8a6024e8ac362bbd392db00e9");
}

TEST(Pkg0, EncodeIsDigestThenTrigger) {
  auto pkg = encode_notification(sample(), "secret", as_bytes("Nonce"));
  ASSERT_TRUE(pkg);
  EXPECT_EQ(hex_encode(*pkg), "93eda112405e8e4b856fcf3f6dd4622c02d80000001234056d326d646d");
}

TEST(Pkg0, RoundTrip) {
  for (auto ui : {UiMode::not_specified, UiMode::background, UiMode::informative, UiMode::user_interaction}) {
    for (auto init : {Initiator::client, Initiator::server}) {
      for (std::uint16_t sid : {std::uint16_t{1}, std::uint16_t{0xABCD}, std::uint16_t{0xFFFF}}) {
        Notification n;
        n.ui_mode = ui;
        n.initiator = init;
        n.session_id = sid;
        n.server_id = std::string(sid == 0xFFFF ? 255 : 7, 'S');
        n.vendor_specific = sid == 1 ? Bytes{} : Bytes{0x00, 0x01, 0xff};
        auto pkg = encode_notification(n, "pw", as_bytes("nonce"));
        ASSERT_TRUE(pkg);
        std::string why;
        auto d = decode_notification(*pkg, &why);
        ASSERT_TRUE(d) << why;
        EXPECT_EQ(d->fields, n);
        EXPECT_EQ(d->reserved, 0u);
        EXPECT_EQ(d->trigger, Bytes(pkg->begin() + 16, pkg->end()));
        EXPECT_TRUE(verify_notification_digest(*d, n.server_id, "pw", as_bytes("nonce")));
        EXPECT_FALSE(verify_notification_digest(*d, n.server_id, "pw", as_bytes("nonc3")));
      }
    }
  }
}

TEST(Pkg0, DecodeHandBytes) {
  const Bytes pkg = hex("a7165ca8a6024e8ac362bbd392db00e9" "02f000000000ff03737276cafe");
  auto d = decode_notification(pkg);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->fields.version, 11);
  EXPECT_EQ(d->fields.ui_mode, UiMode::user_interaction);
  EXPECT_EQ(d->fields.initiator, Initiator::client);
  EXPECT_EQ(d->fields.session_id, 0x00ff);
  EXPECT_EQ(d->fields.server_id, "srv");
  EXPECT_EQ(d->fields.vendor_specific, hex("cafe"));
  EXPECT_EQ(hex_encode(d->digest), "a7165ca8a6024e8ac362bbd392db00e9");
  Bytes nonce16(16);
  for (std::size_t i = 0; i < 16; ++i) nonce16[i] = static_cast<std::uint8_t>(i);
  EXPECT_TRUE(verify_notification_digest(*d, "srv", "pw", nonce16));
  EXPECT_FALSE(verify_notification_digest(*d, "srv", "pw", kNotificationResetNonce));
  EXPECT_FALSE(verify_notification_digest(*d, "srv2", "pw", nonce16));
}

TEST(Pkg0, ReservedBitsAreReportedNotRefused) {
  Bytes pkg = encode_notification(sample(), "secret", kNotificationResetNonce).value();
  pkg[17] |= 0x05;  // two of the top future-use bits
  pkg[20] = 0x01;   // the lowest
  auto d = decode_notification(pkg);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->reserved, (5u << 24) | 1u);
  EXPECT_EQ(d->fields.ui_mode, UiMode::background);
  EXPECT_EQ(d->fields.initiator, Initiator::server);
  // The digest covers the trigger as received, so it no longer verifies.
  EXPECT_FALSE(verify_notification_digest(*d, "m2mdm", "secret", kNotificationResetNonce));
}

TEST(Pkg0, DecodeErrorsSayWhatAndWhere) {
  const Bytes good = encode_notification(sample(), "secret", kNotificationResetNonce).value();
  struct Case {
    Bytes bytes;
    errc code;
    std::string_view where;
  };
  Bytes bad_version = good;
  bad_version[16] = 0x03;  // version 15
  Bytes v12 = good;        // 12 = 0b0000001100: byte16 = 0x03, byte17 top bits 00
  v12[16] = 0x03;
  v12[17] = static_cast<std::uint8_t>(v12[17] & 0x3f);
  Bytes sid0 = good;
  sid0[21] = sid0[22] = 0;
  Bytes len0 = good;
  len0[23] = 0;
  Bytes long_len = good;
  long_len[23] = 6;
  Bytes non_ascii = good;
  non_ascii[26] = 0x80;
  Bytes nul = good;
  nul[24] = 0x00;
  const Case cases[] = {
      {{}, errc::truncated, "digest"},
      {Bytes(good.begin(), good.begin() + 15), errc::truncated, "digest"},
      {Bytes(good.begin(), good.begin() + 16), errc::truncated, "bytes 16-23"},
      {Bytes(good.begin(), good.begin() + 23), errc::truncated, "bytes 16-23"},
      {Bytes(good.begin(), good.begin() + 28), errc::truncated, "ends at byte 29, input has 28"},
      {bad_version, errc::unsupported_version, "is 15"},
      {v12, errc::unsupported_version, "is 12"},
      {sid0, errc::invalid_value, "byte 21"},
      {len0, errc::invalid_value, "byte 23"},
      {long_len, errc::truncated, "ends at byte 30, input has 29"},
      {non_ascii, errc::invalid_value, "offset 26 is 0x80"},
      {nul, errc::invalid_value, "offset 24 is 0x00"},
  };
  for (const auto& c : cases) {
    std::string why;
    auto d = decode_notification(c.bytes, &why);
    ASSERT_FALSE(d) << hex_encode(c.bytes);
    EXPECT_EQ(d.error(), c.code) << why;
    EXPECT_NE(why.find(c.where), std::string::npos) << why;
  }
  // Minimal valid package: 1-byte server id, nothing after.
  Notification one = sample();
  one.server_id = "x";
  auto min = encode_notification(one, "p", {}).value();
  EXPECT_EQ(min.size(), 25u);
  EXPECT_TRUE(decode_notification(min));
}

TEST(Pkg0, EncodeRefusesOutOfRangeFields) {
  auto bad = [](auto mutate) {
    Notification n = sample();
    mutate(n);
    return encode_notification(n, "p", {});
  };
  EXPECT_EQ(bad([](Notification& n) { n.session_id = 0; }).error(), errc::invalid_value);
  EXPECT_EQ(bad([](Notification& n) { n.server_id.clear(); }).error(), errc::invalid_value);
  EXPECT_EQ(bad([](Notification& n) { n.server_id = std::string(256, 'a'); }).error(), errc::invalid_value);
  EXPECT_EQ(bad([](Notification& n) { n.server_id = "caf\xc3\xa9"; }).error(), errc::invalid_value);
  EXPECT_EQ(bad([](Notification& n) { n.version = 1024; }).error(), errc::invalid_value);
  EXPECT_EQ(bad([](Notification& n) { n.ui_mode = static_cast<UiMode>(4); }).error(), errc::invalid_value);
  EXPECT_EQ(bad([](Notification& n) { n.initiator = static_cast<Initiator>(2); }).error(), errc::invalid_value);
  EXPECT_TRUE(bad([](Notification& n) { n.version = 1023; }));  // encodable (decode refuses it)
}

TEST(Pkg0, NonceResetRetry) {
  const Notification n = sample();
  const Bytes session_nonce = {0xde, 0xad, 0xbe, 0xef, 0x01};
  auto check = [&](ByteView signing_nonce, std::optional<ByteView> client_nonce) {
    auto d = decode_notification(encode_notification(n, "secret", signing_nonce).value()).value();
    return verify_notification_with_reset(d, "m2mdm", "secret", client_nonce);
  };
  EXPECT_EQ(check(session_nonce, session_nonce), NotificationNonce::session);
  // Server reset its nonce: the client's stored nonce fails, the retry succeeds.
  EXPECT_EQ(check(kNotificationResetNonce, session_nonce), NotificationNonce::reset_binary);
  EXPECT_EQ(check(as_bytes("0x00000000"), session_nonce), NotificationNonce::reset_text_hex);
  EXPECT_EQ(check(as_bytes("00000000"), std::nullopt), NotificationNonce::reset_text_digits);
  EXPECT_EQ(check(kNotificationResetNonce, std::nullopt), NotificationNonce::reset_binary);
  // Neither the stored nonce nor a reset form: ignore the notification.
  EXPECT_EQ(check(as_bytes("other"), session_nonce), std::nullopt);
  auto d = decode_notification(encode_notification(n, "secret", kNotificationResetNonce).value()).value();
  EXPECT_EQ(verify_notification_with_reset(d, "m2mdm", "wrong", session_nonce), std::nullopt);
  // The matched form gives the bytes the client uses for its package 1 credentials.
  EXPECT_EQ(hex_encode(notification_reset_nonce(NotificationNonce::reset_binary)), "00000000");
  EXPECT_EQ(as_chars(notification_reset_nonce(NotificationNonce::reset_text_hex)), "0x00000000");
  EXPECT_EQ(as_chars(notification_reset_nonce(NotificationNonce::reset_text_digits)), "00000000");
  EXPECT_TRUE(notification_reset_nonce(NotificationNonce::session).empty());
}

TEST(Pkg0, SessionIdHex) {  // §6.2.2.10: upper-case, no leading zeros
  EXPECT_EQ(session_id_hex(1), "1");
  EXPECT_EQ(session_id_hex(0x00ab), "AB");
  EXPECT_EQ(session_id_hex(0x0f00), "F00");
  EXPECT_EQ(session_id_hex(0xffff), "FFFF");
  EXPECT_EQ(parse_session_id_hex("AB").value(), 0xab);
  EXPECT_EQ(parse_session_id_hex("00ab").value(), 0xab);
  EXPECT_EQ(parse_session_id_hex("FfFf").value(), 0xffff);
  for (std::string_view bad : {"", "0", "0000", "10000", "xyz", "-1", "0x1"}) {
    EXPECT_EQ(parse_session_id_hex(bad).error(), errc::invalid_value) << bad;
  }
  for (unsigned v = 1; v <= 0xffff; v += 0x111) {
    EXPECT_EQ(parse_session_id_hex(session_id_hex(static_cast<std::uint16_t>(v))).value(), v);
  }
}

TEST(Pkg0, RandomSessionIdsAreNeverZeroAndParseBack) {  // the client's and the DRF's one source
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 64; ++i) {
    const auto sid = random_session_id();
    ASSERT_TRUE(sid);
    EXPECT_NE(*sid, 0);
    EXPECT_EQ(parse_session_id_hex(session_id_hex(*sid)), *sid);
    seen.insert(*sid);
  }
  EXPECT_GT(seen.size(), 32u);  // random, not a fixed value (64 draws of 65535 collide rarely)
}

TEST(Pkg0, EnumNames) {
  for (int v = 0; v <= 3; ++v) {
    const auto m = static_cast<UiMode>(v);
    EXPECT_EQ(parse_ui_mode(ui_mode_name(m)).value(), m);
    EXPECT_EQ(parse_ui_mode(std::string(1, static_cast<char>('0' + v))).value(), m);
  }
  EXPECT_EQ(ui_mode_name(UiMode::user_interaction), "user-interaction");
  EXPECT_EQ(parse_ui_mode("foreground").error(), errc::invalid_value);
  EXPECT_EQ(parse_initiator("server").value(), Initiator::server);
  EXPECT_EQ(parse_initiator("0").value(), Initiator::client);
  EXPECT_EQ(parse_initiator("user").error(), errc::invalid_value);
}

}  // namespace
}  // namespace m2mdm::syncml
