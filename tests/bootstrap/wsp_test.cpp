// WSP connectionless push: hand-derived byte vectors (WAP-230-WSP §8.2.4.1, §8.4.2.24, OMA
// ProvBoot 1.1 §5.3), round trips, parameter order, text content types, truncation, uintvar.
#include "m2mdm/bootstrap/wsp.hpp"
#include "m2mdm/test/files.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <initializer_list>
#include <iterator>
#include <optional>

namespace m2mdm::bootstrap::wsp {
namespace {

constexpr std::string_view kChtMac = "AA2DC41FC48AEEF3FED7351B1EE704461A8894D4";

Bytes hex(std::string_view h) {
  auto b = hex_decode(h);
  EXPECT_TRUE(b.has_value()) << h;
  return b.value_or(Bytes{});
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes cht_body() {
  Bytes b = m2mdm::test::slurp_bytes(m2mdm::test::cp_vectors_dir() / "cht-userpin-0000.wbxml");
  EXPECT_EQ(b.size(), 501u);
  return b;
}

Bytes ascii(std::string_view s) { return Bytes(s.begin(), s.end()); }

// ---------------------------------------------------------------------------------------------
// Exact bytes
// ---------------------------------------------------------------------------------------------

TEST(WspPush, NetwpinVectorExactBytes) {
  // TID 00, Push 06, HeadersLen 0x2F (47) = Content-Type: 1F (Length-quote) 2D (45 octets)
  // B6 (well-known 0x36 connectivity-wbxml) 91 80 (SEC = 0 NETWPIN) 92 "1AF5..E146" 00 (MAC),
  // then the body 03 0B 6A 00 45 01.
  const Bytes expected = hex(
      "00062F1F2DB6918092"
      "31414635343546453238323344433933343730363434353046393046463142424639353745313436"
      "00"
      "030B6A004501");
  auto pdu = make_cp_push(0x00, hex("030B6A004501"), kSecNetwpin, "1AF545FE2823DC9347064450F90FF1BBF957E146");
  auto enc = encode_push(pdu);
  ASSERT_TRUE(enc) << enc.error().message();
  EXPECT_EQ(hex_encode(*enc, true), hex_encode(expected, true));
}

TEST(WspPush, ChtUserpinContentTypeExactBytes) {
  const Bytes body = cht_body();
  auto enc = encode_push(make_cp_push(0x01, body, kSecUserpin, std::string(kChtMac)));
  ASSERT_TRUE(enc);
  const Bytes expected = cat({hex("01062F1F2DB6918192"),
                              hex("41413244433431464334384145454633464544373335314231454537303434363141383839344434"),
                              hex("00"), body});
  EXPECT_EQ(enc->size(), 3u + 47u + 501u);
  EXPECT_EQ(*enc, expected);
}

TEST(WspPush, DecodeChtUserpin) {
  const Bytes body = cht_body();
  const Bytes wire = cat({hex("7F062F1F2DB6918192"), ascii(kChtMac), hex("00"), body});
  DecodeDetail d;
  auto pdu = decode_push(wire, &d);
  ASSERT_TRUE(pdu) << to_string(d);
  EXPECT_EQ(pdu->tid, 0x7F);
  ASSERT_TRUE(pdu->content_type.code);
  EXPECT_EQ(*pdu->content_type.code, kCtConnectivityWbxml);
  EXPECT_EQ(pdu->content_type.media, "application/vnd.wap.connectivity-wbxml");
  ASSERT_EQ(pdu->content_type.params.size(), 2u);
  EXPECT_EQ(pdu->content_type.params[0].name, "SEC");
  EXPECT_EQ(pdu->content_type.sec(), Value::num(kSecUserpin));
  EXPECT_EQ(pdu->content_type.mac(), std::string(kChtMac));
  EXPECT_FALSE(pdu->app_id);
  EXPECT_TRUE(pdu->other_headers.empty());
  EXPECT_EQ(pdu->body, body);
  // and back
  auto again = encode_push(*pdu);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, wire);
}

TEST(WspPush, MacBeforeSecIsAccepted) {
  // Parameters in the other order: 92 <mac> 00 91 83 (the value 3 only checks decoding; the
  // order is what matters here).
  const Bytes wire = cat({hex("05062F1F2DB692"), ascii(kChtMac), hex("009183"), hex("030B6A004501")});
  auto pdu = decode_push(wire);
  ASSERT_TRUE(pdu);
  ASSERT_EQ(pdu->content_type.params.size(), 2u);
  EXPECT_EQ(pdu->content_type.params[0].code, kParamMac);
  EXPECT_EQ(pdu->content_type.params[1].code, kParamSec);
  EXPECT_EQ(pdu->content_type.sec(), Value::num(3));
  EXPECT_EQ(pdu->content_type.mac(), std::string(kChtMac));
  auto again = encode_push(*pdu);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, wire);  // order preserved
}

TEST(WspPush, ContentTypeAsTextString) {
  const std::string media = "application/vnd.wap.connectivity-wbxml";
  // Constrained-media as Extension-media: the text and End-of-string; HeadersLen = 39 = 0x27.
  const Bytes wire = cat({hex("010627"), ascii(media), hex("00"), hex("030B6A004501")});
  auto pdu = decode_push(wire);
  ASSERT_TRUE(pdu);
  EXPECT_FALSE(pdu->content_type.code);
  EXPECT_EQ(pdu->content_type.media, media);
  EXPECT_TRUE(pdu->content_type.params.empty());
  EXPECT_EQ(encode_push(*pdu).value_or(Bytes{}), wire);
  EXPECT_EQ(content_type_code(pdu->content_type.media), kCtConnectivityWbxml);
}

TEST(WspPush, TextMediaTypeWithParameters) {
  const std::string media = "application/vnd.wap.connectivity-wbxml";
  // General form: 1F <39 + 2 + 1 + 41 = 83 = 0x53> text 00 91 81 92 mac 00; HeadersLen 85 = 0x55.
  const Bytes wire = cat({hex("0A06551F53"), ascii(media), hex("00918192"), ascii(kChtMac), hex("00")});
  auto pdu = decode_push(wire);
  ASSERT_TRUE(pdu);
  EXPECT_EQ(pdu->content_type.media, media);
  EXPECT_EQ(pdu->content_type.sec(), Value::num(1));
  EXPECT_EQ(pdu->content_type.mac(), std::string(kChtMac));
  EXPECT_TRUE(pdu->body.empty());
  EXPECT_EQ(encode_push(*pdu).value_or(Bytes{}), wire);
}

TEST(WspPush, DmNotificationPush) {
  // Package 0: content type C4 (application/vnd.syncml.notification), X-Wap-Application-Id
  // AF 87 (syncml.dm); HeadersLen 3.
  const Bytes pkg0 = hex("00112233445566778899AABBCCDDEEFF02C00000000001020304");
  auto enc = encode_push(make_dm_notification_push(0x42, pkg0));
  ASSERT_TRUE(enc);
  EXPECT_EQ(*enc, cat({hex("420603C4AF87"), pkg0}));
  auto dec = decode_push(*enc);
  ASSERT_TRUE(dec);
  EXPECT_EQ(dec->content_type.media, "application/vnd.syncml.notification");
  ASSERT_TRUE(dec->app_id);
  EXPECT_EQ(dec->app_id->code, kAppIdSyncmlDm);
  EXPECT_EQ(app_id_name(*dec->app_id->code), "x-wap-application:syncml.dm");
  EXPECT_EQ(dec->body, pkg0);
}

TEST(WspPush, DmBootstrapPushWithTextualSec) {
  auto enc = encode_push(make_dm_bootstrap_push(0x03, hex("030B6A00"), "USERPIN", std::string(kChtMac)));
  ASSERT_TRUE(enc);
  // C2 "SEC"00 "USERPIN"00 "MAC"00 <mac>00 = 1 + 4 + 8 + 4 + 41 = 58 (0x3A) -> 1F 3A ...;
  // + AF 87 -> HeadersLen 2 + 58 + 2 = 62 (0x3E).
  const Bytes expected = cat({hex("03063E1F3AC2"), ascii("SEC"), hex("00"), ascii("USERPIN"), hex("00"), ascii("MAC"),
                              hex("00"), ascii(kChtMac), hex("00AF87030B6A00")});
  EXPECT_EQ(*enc, expected);
  auto dec = decode_push(*enc);
  ASSERT_TRUE(dec);
  EXPECT_EQ(dec->content_type.sec(), Value::str("USERPIN"));
  EXPECT_EQ(dec->content_type.mac(), std::string(kChtMac));
  EXPECT_FALSE(dec->content_type.params[0].code);
}

TEST(WspPush, AppIdAsUriAndOtherHeadersKeptRaw) {
  PushPdu p;
  p.tid = 9;
  p.content_type.code = kCtSyncmlDmWbxml;
  p.content_type.media = "application/vnd.syncml.dm+wbxml";
  p.app_id = AppId::of(std::string("x-wap-application:syncml.dm"));
  p.other_headers = {
      hex("8D8A"),                                // Content-Length: 10 (0x0D, Short-integer)
      cat({ascii("X-Test"), hex("00"), ascii("yes"), hex("00")}),  // application header
      hex("7F02"),                                // shift to code page 2
      hex("AF87"),                                // 0x2F on page 2: not an application id
  };
  p.body = hex("0102");
  auto enc = encode_push(p);
  ASSERT_TRUE(enc);
  DecodeDetail d;
  auto dec = decode_push(*enc, &d);
  ASSERT_TRUE(dec) << to_string(d);
  EXPECT_EQ(*dec, p);
  EXPECT_EQ(dec->app_id->uri, "x-wap-application:syncml.dm");
  EXPECT_EQ(dec->other_headers.size(), 4u);
}

// @p ct through encode_content_type: the octets @p expected_hex (upper case), which
// decode_content_type reads back in full. Returns what it read (nothing after a failure).
std::optional<ContentType> round_trip(const ContentType& ct, std::string_view expected_hex) {
  auto enc = encode_content_type(ct);
  EXPECT_TRUE(enc);
  if (!enc) return std::nullopt;
  EXPECT_EQ(hex_encode(*enc, true), expected_hex);
  std::size_t pos = 0;
  auto dec = decode_content_type(*enc, pos);
  EXPECT_TRUE(dec);
  if (!dec) return std::nullopt;
  EXPECT_EQ(pos, enc->size());
  return *dec;
}

TEST(WspPush, TypedParametersGeneric) {
  // text/plain (0x83) with Charset (0x81) = utf-8 (106 -> EA) and Q (0x80) = uintvar 0x64.
  ContentType ct;
  ct.code = 0x03;
  ct.media = "text/plain";
  ct.params = {Parameter{0x01, "Charset", Value::num(106)}, Parameter{0x00, "Q", Value::num(0x64)}};
  auto dec = round_trip(ct, "058381EA8064");
  ASSERT_TRUE(dec);
  EXPECT_EQ(*dec, ct);
}

TEST(WspPush, LongIntegerMediaCode) {
  ContentType ct;
  ct.code = 0x0201;  // beyond Short-integer: Long-integer 02 02 01 in the general form
  auto dec = round_trip(ct, "03020201");
  ASSERT_TRUE(dec);
  EXPECT_EQ(dec->code, 0x0201u);
}

TEST(WspPush, TextStartingWithHighOctetIsQuoted) {
  ContentType ct;
  ct.code = kCtConnectivityWbxml;
  ct.params = {Parameter{std::nullopt, "X", Value::str("\xC3\xA9t\xC3\xA9")}};
  auto dec = round_trip(ct, "0AB658007FC3A974C3A900");
  ASSERT_TRUE(dec);
  EXPECT_EQ(dec->params.at(0).value.text, "\xC3\xA9t\xC3\xA9");
}

// ---------------------------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------------------------

TEST(WspPush, TruncatedAtEveryLength) {
  const Bytes body = hex("030B6A004501");
  const Bytes wire = *encode_push(make_cp_push(0x01, body, kSecUserpin, std::string(kChtMac)));
  const std::size_t header_end = wire.size() - body.size();  // 3 + 47
  for (std::size_t n = 0; n < wire.size(); ++n) {
    DecodeDetail d;
    auto r = decode_push(ByteView(wire).first(n), &d);
    if (n < header_end) {
      ASSERT_FALSE(r) << n;
      EXPECT_EQ(r.error(), make_error_code(errc::wsp_truncated)) << n << ": " << to_string(d);
      EXPECT_LE(d.offset, n);
      EXPECT_FALSE(d.what.empty());
    } else {
      // WSP carries no body length: a cut inside the body is a shorter body.
      ASSERT_TRUE(r) << n;
      EXPECT_EQ(r->body.size(), n - header_end);
    }
  }
}

// One malformed push: what is wrong with it, its bytes (hex), the error decode_push must give and,
// where the case pins it, the offset DecodeDetail must name.
struct Refusal {
  const char* why;
  const char* pdu;
  errc code;
  std::optional<std::size_t> offset;
};

// Each case is refused with its error (and its offset where given).
void expect_refused(std::initializer_list<Refusal> cases) {
  for (const Refusal& c : cases) {
    SCOPED_TRACE(c.why);
    DecodeDetail d;
    auto r = decode_push(hex(c.pdu), &d);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(c.code));
    if (c.offset) {
      EXPECT_EQ(d.offset, *c.offset);
    }
  }
}

TEST(WspPush, BadPduType) {
  expect_refused({{"PDU type 0x07", "010701B6", errc::wsp_bad_pdu_type, 1}});
}

TEST(WspPush, MalformedContentTypes) {
  // Each case by hand, with the reason spelled out:
  expect_refused({
      {"HeadersLen 0: no content type", "010600", errc::wsp_bad_content_type, 3},
      {"general form claims 45 octets, the headers hold 3", "0106031F2DB6", errc::wsp_bad_content_type, 3},
      {"general form of length 0", "01060200B6", errc::wsp_bad_content_type, std::nullopt},
      {"media type octet 0x1F inside the general form", "010602011F", errc::wsp_bad_content_type, 4},
      {"well-known media as a Long-integer of 9 octets", "01060B0A09010203040506070809", errc::wsp_bad_content_type,
       4},
      {"MAC text without End-of-string inside the general form", "01060504B6924142", errc::wsp_bad_content_type, 6},
      {"a parameter starting with 0x1F", "01060302B61F", errc::wsp_bad_content_type, 5},
  });
}

TEST(WspPush, MalformedHeaders) {
  expect_refused({
      {"a header starting with 0x00", "010602B600", errc::wsp_bad_header, 4},
      {"a header value length running past HeadersLen", "010604B68D05AA", errc::wsp_bad_header, std::nullopt},
      {"X-Wap-Application-Id with a Value-length", "010604B6AF1F01", errc::wsp_bad_header, 5},
      {"application header name without End-of-string", "010604B6414243", errc::wsp_bad_header, 4},
  });
}

TEST(WspPush, EncodeRefusesInvalidModels) {
  auto p = make_cp_push(1, {}, kSecUserpin, std::string("AB\0CD", 5));
  EXPECT_EQ(encode_push(p).error(), make_error_code(errc::invalid_argument));
  PushPdu q;
  EXPECT_EQ(encode_push(q).error(), make_error_code(errc::invalid_argument));  // no media at all
  q.content_type.code = kCtConnectivityWbxml;
  q.other_headers = {hex("8D05")};  // a Value-length of 5 with no data
  EXPECT_EQ(encode_push(q).error(), make_error_code(errc::invalid_argument));
  q.other_headers = {hex("8D8A8D8A")};  // two headers in one entry
  EXPECT_EQ(encode_push(q).error(), make_error_code(errc::invalid_argument));
  q.other_headers.clear();
  q.app_id = AppId::of(std::string());
  EXPECT_EQ(encode_push(q).error(), make_error_code(errc::invalid_argument));
}

// ---------------------------------------------------------------------------------------------
// uintvar (WAP-230-WSP §8.1.2)
// ---------------------------------------------------------------------------------------------

TEST(WspUintvar, EncodeDecodeEdges) {
  const std::pair<std::uint32_t, const char*> cases[] = {
      {0, "00"},           {0x7F, "7F"},           {0x80, "8100"},         {0x3FFF, "FF7F"},
      {0x4000, "818000"},  {0x1FFFFF, "FFFF7F"},   {0x200000, "81808000"}, {0x0FFFFFFF, "FFFFFF7F"},
      {0x10000000, "8180808000"}, {0xFFFFFFFF, "8FFFFFFF7F"},
  };
  for (const auto& [v, h] : cases) {
    Bytes out;
    append_uintvar(out, v);
    EXPECT_EQ(hex_encode(out, true), h) << v;
    std::size_t pos = 0;
    auto back = read_uintvar(out, pos);
    ASSERT_TRUE(back) << h;
    EXPECT_EQ(*back, v);
    EXPECT_EQ(pos, out.size());
  }
}

TEST(WspUintvar, RejectsBadEncodings) {
  DecodeDetail d;
  std::size_t pos = 0;
  EXPECT_EQ(read_uintvar(hex("8000"), pos, &d).error(), make_error_code(errc::wsp_bad_uintvar));  // overlong
  pos = 0;
  EXPECT_EQ(read_uintvar(hex("9080808000"), pos, &d).error(), make_error_code(errc::wsp_bad_uintvar));  // > 32 bits
  pos = 0;
  EXPECT_EQ(read_uintvar(hex("818181818100"), pos, &d).error(), make_error_code(errc::wsp_bad_uintvar));  // 6 octets
  EXPECT_EQ(pos, 0u);
  pos = 0;
  EXPECT_EQ(read_uintvar(hex("8181"), pos, &d).error(), make_error_code(errc::wsp_truncated));
  pos = 0;
  EXPECT_EQ(read_uintvar(Bytes{}, pos, &d).error(), make_error_code(errc::wsp_truncated));
  // In a push, a bad HeadersLen is reported at its offset.
  auto r = decode_push(hex("01068000B6"), &d);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::wsp_bad_uintvar));
  EXPECT_EQ(d.offset, 2u);
}

TEST(WspTables, NamesAndCodes) {
  EXPECT_EQ(content_type_name(0x36), "application/vnd.wap.connectivity-wbxml");
  EXPECT_EQ(content_type_name(0x42), "application/vnd.syncml.dm+wbxml");
  EXPECT_EQ(content_type_name(0x43), "application/vnd.syncml.dm+xml");
  EXPECT_EQ(content_type_name(0x44), "application/vnd.syncml.notification");
  EXPECT_EQ(content_type_code("Application/VND.syncml.notification"), 0x44u);
  EXPECT_EQ(content_type_name(0x7000), "");
  EXPECT_EQ(sec_method_name(kSecUserpinmac), "USERPINMAC");
  EXPECT_EQ(sec_method_code("usernetwpin"), kSecUsernetwpin);
  EXPECT_FALSE(sec_method_code("NETWORKID"));
}

}  // namespace
}  // namespace m2mdm::bootstrap::wsp
