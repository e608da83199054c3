// WBXML codec: header and tokens, binary Data, public ids, hardening against hostile input.
#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/syncml/error.hpp"
#include "m2mdm/test/syncml_samples.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace m2mdm::syncml {
namespace {

Message sample() {
  Message m;
  m.hdr.session_id = "1";
  m.hdr.msg_id = 2;
  m.hdr.target.loc_uri = "http://www.syncml.org/mgmt-server";
  m.hdr.source.loc_uri = "IMEI:493005100592800";
  m.hdr.meta = Meta{};
  m.hdr.meta->max_msg_size = 5000;
  m.body.push_back(Command{
      test::synchdr_challenge(1, "IMEI:493005100592800", "http://www.syncml.org/mgmt-server", "Tm9uY2U=", 401)});
  ItemCommand get;
  get.kind = CommandKind::Get;
  get.cmd_id = 2;
  get.items.push_back(Item{Location{"./DevInfo/Mod", std::nullopt}, std::nullopt, std::nullopt, std::nullopt, false});
  m.body.push_back(Command{get});
  m.final = true;
  return m;
}

Bytes enc(const Message& m) {
  auto r = encode_wbxml(m);
  EXPECT_TRUE(r);
  return r ? *r : Bytes{};
}

TEST(WbxmlCodec, HeaderIsWbxml12Syncml12Utf8) {
  const Bytes w = enc(sample());
  ASSERT_GE(w.size(), 10u);
  const Bytes head(w.begin(), w.begin() + 8);
  // version 1.2, public id 0x1201, UTF-8, no string table, <SyncML><SyncHdr><VerDTD> STR_I
  EXPECT_EQ(head, (Bytes{0x02, 0xA4, 0x01, 0x6A, 0x00, 0x6D, 0x6C, 0x71}));
  EXPECT_EQ(w.back(), 0x01);
}

TEST(WbxmlCodec, RoundTripsTheModel) {
  const Message m = sample();
  const Bytes w = enc(m);
  DecodeError err;
  auto back = decode_wbxml(w, {}, &err);
  ASSERT_TRUE(back) << err.what << " at " << err.where;
  EXPECT_EQ(*back, m);
  EXPECT_EQ(enc(*back), w);  // WBXML → model → WBXML is stable
  ASSERT_TRUE(back->hdr.meta);
  EXPECT_EQ(back->hdr.meta->max_msg_size, 5000u);  // MetInf on code page 1 survived
}

Message with_data(std::string data, std::optional<std::string> format) {
  Message m = sample();
  ItemCommand rep;
  rep.kind = CommandKind::Replace;
  rep.cmd_id = 3;
  Item it;
  it.target = Location{"./Vendor/Blob", std::nullopt};
  if (format) {
    it.meta = Meta{};
    it.meta->format = format;
  }
  it.data = std::move(data);
  rep.items.push_back(std::move(it));
  m.body.push_back(Command{rep});
  return m;
}

TEST(WbxmlCodec, BinaryDataSurvivesByteExactAsOpaque) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (auto fmt : {std::optional<std::string>("bin"), std::optional<std::string>()}) {
    const Message m = with_data(all, fmt);
    const Bytes w = enc(m);
    // OPAQUE, length 256 as mb_u_int32 (82 00), then the bytes.
    const Bytes marker{0xC3, 0x82, 0x00, 0x00, 0x01, 0x02};
    EXPECT_NE(std::search(w.begin(), w.end(), marker.begin(), marker.end()), w.end());
    auto back = decode_wbxml(w);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
  }
}

TEST(WbxmlCodec, FormatBinTextIsStillOpaque) {
  const Message m = with_data("plain", "bin");
  const Bytes w = enc(m);
  const Bytes opaque{0xC3, 0x05, 'p', 'l', 'a', 'i', 'n'};
  EXPECT_NE(std::search(w.begin(), w.end(), opaque.begin(), opaque.end()), w.end());
  auto back = decode_wbxml(w);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, m);
}

TEST(WbxmlCodec, BinaryDataCannotGoToXmlButCanToWbxml) {
  const Message m = with_data(std::string("\x00\xff\x10", 3), "bin");
  EXPECT_TRUE(encode_wbxml(m));
  auto x = encode_xml(m);
  ASSERT_FALSE(x);
  EXPECT_EQ(x.error(), make_error_code(errc::encode_failed));
}

// <SyncML><SyncHdr>...minimal...</SyncHdr><SyncBody><Final/></SyncBody></SyncML> after a header.
Bytes minimal_body() {
  Bytes b{0x6D, 0x6C};
  auto str = [&](std::uint8_t tok, std::string_view s) {
    b.push_back(tok);
    b.push_back(0x03);
    b.insert(b.end(), s.begin(), s.end());
    b.push_back(0x00);
    b.push_back(0x01);
  };
  str(0x71, "1.2");
  str(0x72, "DM/1.2");
  str(0x65, "1");
  str(0x5B, "1");
  b.push_back(0x6E);
  str(0x57, "http://s");
  b.push_back(0x01);
  b.push_back(0x67);
  str(0x57, "IMEI:1");
  b.push_back(0x01);
  b.push_back(0x01);  // </SyncHdr>
  b.insert(b.end(), {0x6B, 0x12, 0x01, 0x01});
  return b;
}

Bytes with_header(Bytes header) {
  const Bytes body = minimal_body();
  header.insert(header.end(), body.begin(), body.end());
  return header;
}

TEST(WbxmlCodec, AcceptsUnknownPublicIdAndLiteralPublicId) {
  auto a = decode_wbxml(with_header({0x02, 0xA4, 0x01, 0x6A, 0x00}));
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->final);
  auto b = decode_wbxml(with_header({0x02, 0x01, 0x6A, 0x00}));
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, *a);
  const std::string id = "-//SYNCML//DTD SyncML 1.2//EN";
  Bytes h{0x03, 0x00, 0x00, 0x6A, static_cast<std::uint8_t>(id.size() + 1)};
  h.insert(h.end(), id.begin(), id.end());
  h.push_back(0x00);
  DecodeError err;
  auto c = decode_wbxml(with_header(h), {}, &err);
  ASSERT_TRUE(c) << err.what;
  EXPECT_EQ(*c, *a);
  // charset 0 ("unknown") means UTF-8.
  EXPECT_TRUE(decode_wbxml(with_header({0x02, 0xA4, 0x01, 0x00, 0x00})));
}

TEST(WbxmlCodec, RefusesWrongPublicIds) {
  DecodeError err;
  auto prov = decode_wbxml(with_header({0x03, 0x0B, 0x6A, 0x00}), {}, &err);
  ASSERT_FALSE(prov);
  EXPECT_EQ(prov.error(), make_error_code(errc::malformed_wbxml));
  EXPECT_NE(err.what.find("0xB"), std::string::npos) << err.what;
  auto syncml11 = decode_wbxml(with_header({0x02, 0x9F, 0x53, 0x6A, 0x00}));
  ASSERT_FALSE(syncml11);
  EXPECT_EQ(syncml11.error(), make_error_code(errc::unsupported_version));
  const std::string id = "-//SYNCML//DTD SyncML 1.1//EN";
  Bytes h{0x03, 0x00, 0x00, 0x6A, static_cast<std::uint8_t>(id.size() + 1)};
  h.insert(h.end(), id.begin(), id.end());
  h.push_back(0x00);
  EXPECT_FALSE(decode_wbxml(with_header(h)));
  // charset other than UTF-8
  EXPECT_FALSE(decode_wbxml(with_header({0x02, 0xA4, 0x01, 0x04, 0x00})));
}

TEST(WbxmlCodec, TruncatedAtEveryLengthFailsCleanly) {
  const Bytes w = enc(with_data(std::string("\x01\x02\x03", 3), "bin"));
  for (std::size_t n = 0; n < w.size(); ++n) {
    DecodeError err;
    auto r = decode_wbxml(ByteView(w.data(), n), {}, &err);
    ASSERT_FALSE(r) << "length " << n;
    EXPECT_TRUE(r.error() == make_error_code(errc::truncated) || r.error() == make_error_code(errc::malformed_wbxml))
        << n << ": " << err.what;
    EXPECT_FALSE(err.where.empty());
  }
  EXPECT_TRUE(decode_wbxml(w));
}

TEST(WbxmlCodec, DeepNestingIsRefusedBeforeLibwbxmlRecurses) {
  Bytes w{0x02, 0xA4, 0x01, 0x6A, 0x00};
  w.insert(w.end(), 200000, 0x6D);
  w.insert(w.end(), 200000, 0x01);
  DecodeError err;
  auto r = decode_wbxml(w, {}, &err);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::too_deep));
  EXPECT_EQ(err.where.rfind("byte ", 0), 0u);
}

TEST(WbxmlCodec, HugeInputIsTooLarge) {
  DecodeLimits lim;
  lim.max_bytes = 64;
  auto r = decode_wbxml(enc(sample()), lim);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::too_large));
}

TEST(WbxmlCodec, UnknownTokenSaysWhichByte) {
  Bytes w = with_header({0x02, 0xA4, 0x01, 0x6A, 0x00});
  // Replace <Final/> (0x12) with token 0x07 (Archive, not used by DM).
  auto it = std::find(w.end() - 4, w.end(), 0x12);
  ASSERT_NE(it, w.end());
  *it = 0x07;
  DecodeError err;
  auto r = decode_wbxml(w, {}, &err);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::unknown_element));
  EXPECT_EQ(err.where, "byte " + std::to_string(it - w.begin()) + " (SyncML/SyncBody)");
}

TEST(WbxmlCodec, RefusesAttributesLiteralsAndMixedContent) {
  Bytes w = with_header({0x02, 0xA4, 0x01, 0x6A, 0x00});
  Bytes attr = w;
  attr[5] = 0xED;  // SyncML with attributes
  EXPECT_EQ(decode_wbxml(attr).error(), make_error_code(errc::malformed_wbxml));
  Bytes lit = w;
  lit[5] = 0x44;  // LITERAL_C
  EXPECT_FALSE(decode_wbxml(lit));
  // Text directly inside SyncHdr after VerDTD: mixed content.
  Bytes mixed{0x02, 0xA4, 0x01, 0x6A, 0x00, 0x6D, 0x6C, 0x71, 0x03, '1', 0x00, 0x01, 0xC3, 0x01, 'A', 0x01, 0x01};
  EXPECT_EQ(decode_wbxml(mixed).error(), make_error_code(errc::malformed_wbxml));
  // Trailing bytes after the root element.
  Bytes trailing = w;
  trailing.push_back(0x12);
  EXPECT_FALSE(decode_wbxml(trailing));
}

TEST(WbxmlCodec, EntityTokensMustBeXmlCharacters) {
  // <SyncML><SyncHdr><VerDTD> ENTITY c </VerDTD>... : libwbxml aborts on codes >= 2^31.
  auto with_entity = [](std::initializer_list<std::uint8_t> code) {
    Bytes w{0x02, 0xA4, 0x01, 0x6A, 0x00, 0x6D, 0x6C, 0x71, 0x02};
    w.insert(w.end(), code);
    w.insert(w.end(), {0x01, 0x01, 0x01});
    return w;
  };
  for (auto code : {std::initializer_list<std::uint8_t>{0x88, 0x80, 0x80, 0x80, 0x00},  // 2^31
                    {0x8F, 0xFF, 0xFF, 0xFF, 0x7F},                                   // 2^32-1
                    {0x00},                                                           // NUL
                    {0x83, 0xFF, 0x7F}}) {                                            // U+FFFF
    DecodeError err;
    auto r = decode_wbxml(with_entity(code), {}, &err);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(errc::malformed_wbxml)) << err.what;
  }
  // A valid character entity is accepted by the scan (the message then lacks mandatory parts).
  auto ok = decode_wbxml(with_entity({0x41}));
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error(), make_error_code(errc::malformed_wbxml));
}

TEST(WbxmlCodec, OpaqueNextNonceBecomesBase64Text) {
  // A device may send the nonce as OPAQUE bytes; the model holds its base64 text.
  Message m = sample();
  Bytes w = enc(m);
  const std::string b64 = "Tm9uY2U=";
  auto pos = std::search(w.begin(), w.end(), b64.begin(), b64.end());
  ASSERT_NE(pos, w.end());
  // STR_I "Tm9uY2U=" 00  ->  OPAQUE 05 "Nonce"
  const auto start = pos - 1;
  Bytes opaque{0xC3, 0x05, 'N', 'o', 'n', 'c', 'e'};
  w.erase(start, pos + static_cast<std::ptrdiff_t>(b64.size()) + 1);
  w.insert(start, opaque.begin(), opaque.end());
  auto back = decode_wbxml(w);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, m);
}

TEST(WbxmlCodec, DecodeDetectsWbxml) {
  auto r = decode(enc(sample()));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, sample());
}

// What both session engines call on a message off HTTP: the Content-Type says the encoding; only
// when it names neither are the first bytes asked.
TEST(DecodeReceived, TheContentTypeChoosesTheEncoding) {
  const Bytes wbxml = enc(sample());
  auto xml = encode_xml(sample());
  ASSERT_TRUE(xml);

  Encoding used = Encoding::Xml;
  auto r = decode_received(wbxml, "application/vnd.syncml.dm+wbxml", {}, nullptr, &used);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, sample());
  EXPECT_EQ(used, Encoding::Wbxml);

  r = decode_received(*xml, "Application/VND.SyncML.DM+XML; charset=utf-8", {}, nullptr, &used);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, sample());
  EXPECT_EQ(used, Encoding::Xml);

  // The declared encoding is not second-guessed: XML bytes declared WBXML are refused as WBXML.
  DecodeError err;
  EXPECT_FALSE(decode_received(*xml, "application/vnd.syncml.dm+wbxml", {}, &err));
  EXPECT_EQ(err.code, make_error_code(errc::malformed_wbxml));
}

TEST(DecodeReceived, AnotherContentTypeFallsBackToTheFirstBytes) {
  Encoding used = Encoding::Xml;
  auto r = decode_received(enc(sample()), "application/octet-stream", {}, nullptr, &used);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, sample());
  EXPECT_EQ(used, Encoding::Wbxml);

  DecodeError err;
  used = Encoding::Wbxml;
  const Bytes junk{0x7f, 0x00, 0x01};
  auto bad = decode_received(junk, "", {}, &err, &used);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), make_error_code(errc::malformed_xml));
  EXPECT_EQ(err.where, "byte 0");
  EXPECT_EQ(used, Encoding::Wbxml);  // untouched when no encoding was found
}

}  // namespace
}  // namespace m2mdm::syncml
