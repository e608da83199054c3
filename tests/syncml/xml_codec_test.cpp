// XML codec: decoding into the model, canonical encoding, strictness and hardening.
#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/syncml/error.hpp"
#include "m2mdm/test/refused.hpp"
#include "m2mdm/test/syncml_samples.hpp"

#include <gtest/gtest.h>

#include <string>

namespace m2mdm::syncml {
namespace {

Result<Message> dec(std::string_view xml, DecodeError* err = nullptr, const DecodeLimits& lim = {}) {
  return decode_xml(as_bytes(xml), lim, err);
}

std::string enc(const Message& m, bool pretty = false) {
  auto r = encode_xml(m, pretty);
  EXPECT_TRUE(r.has_value());
  return r ? std::string(as_chars(*r)) : std::string();
}

// DM_Protocol 1.2 package 1 shape: Alert 1201 + Replace of ./DevInfo + Final.
constexpr std::string_view kPackage1 = R"(<?xml version="1.0" encoding="UTF-8"?>
<SyncML xmlns='SYNCML:SYNCML1.2'>
  <SyncHdr>
    <VerDTD>1.2</VerDTD>
    <VerProto>DM/1.2</VerProto>
    <SessionID>1</SessionID>
    <MsgID>1</MsgID>
    <Target><LocURI>http://www.syncml.org/mgmt-server</LocURI></Target>
    <Source><LocURI>IMEI:493005100592800</LocURI><LocName>Bruce2</LocName></Source>
    <Cred>
      <Meta><Type xmlns='syncml:metinf'>syncml:auth-basic</Type><Format xmlns='syncml:metinf'>b64</Format></Meta>
      <Data>QnJ1Y2UyOk9oQmVoYXZl</Data>
    </Cred>
    <Meta><MaxMsgSize xmlns='syncml:metinf'>5000</MaxMsgSize></Meta>
  </SyncHdr>
  <SyncBody>
    <Alert><CmdID>1</CmdID><Data>1201</Data></Alert>
    <Replace>
      <CmdID>3</CmdID>
      <Item><Source><LocURI>./DevInfo/DevId</LocURI></Source><Data>IMEI:493005100592800</Data></Item>
      <Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data>Device Factory, Inc.</Data></Item>
    </Replace>
    <Final/>
  </SyncBody>
</SyncML>
)";

TEST(XmlCodec, DecodesPackage1) {
  DecodeError err;
  auto m = dec(kPackage1, &err);
  ASSERT_TRUE(m) << err.what << " at " << err.where;
  EXPECT_EQ(m->hdr.ver_dtd, "1.2");
  EXPECT_EQ(m->hdr.ver_proto, "DM/1.2");
  EXPECT_EQ(m->hdr.session_id, "1");
  EXPECT_EQ(m->hdr.msg_id, 1u);
  EXPECT_EQ(m->hdr.target.loc_uri, "http://www.syncml.org/mgmt-server");
  EXPECT_EQ(m->hdr.source.loc_name, "Bruce2");
  ASSERT_TRUE(m->hdr.cred);
  EXPECT_EQ(m->hdr.cred->meta.type, "syncml:auth-basic");
  EXPECT_EQ(m->hdr.cred->meta.format, "b64");
  EXPECT_EQ(m->hdr.cred->data, "QnJ1Y2UyOk9oQmVoYXZl");
  ASSERT_TRUE(m->hdr.meta);
  EXPECT_EQ(m->hdr.meta->max_msg_size, 5000u);
  ASSERT_EQ(m->body.size(), 2u);
  const auto& alert = std::get<Alert>(m->body[0].value);
  EXPECT_EQ(alert.cmd_id, 1u);
  EXPECT_EQ(alert.data, 1201);
  const auto& rep = std::get<ItemCommand>(m->body[1].value);
  EXPECT_EQ(rep.kind, CommandKind::Replace);
  ASSERT_EQ(rep.items.size(), 2u);
  EXPECT_EQ(rep.items[1].source->loc_uri, "./DevInfo/Man");
  EXPECT_EQ(rep.items[1].data, "Device Factory, Inc.");
  EXPECT_TRUE(m->final);
}

TEST(XmlCodec, CanonicalOutputIsDtdOrderedWithMetinfNamespace) {
  auto m = dec(kPackage1);
  ASSERT_TRUE(m);
  const std::string out = enc(*m);
  EXPECT_EQ(out.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?><SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr>", 0), 0u)
      << out;
  // Format precedes Type in MetInf order although the input had them the other way round.
  EXPECT_NE(out.find("<Cred><Meta><Format xmlns=\"syncml:metinf\">b64</Format><Type xmlns=\"syncml:metinf\">"
                     "syncml:auth-basic</Type></Meta><Data>QnJ1Y2UyOk9oQmVoYXZl</Data></Cred>"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("<Final/></SyncBody></SyncML>"), std::string::npos);
  // Canonical output is a fixed point.
  auto again = dec(out);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *m);
  EXPECT_EQ(enc(*again), out);
}

TEST(XmlCodec, PrettyOutputDecodesToTheSameModel) {
  auto m = dec(kPackage1);
  ASSERT_TRUE(m);
  const std::string pretty = enc(*m, true);
  EXPECT_NE(pretty.find("\n  <SyncHdr>\n    <VerDTD>1.2</VerDTD>\n"), std::string::npos) << pretty;
  auto back = dec(pretty);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, *m);
}

TEST(XmlCodec, MetaChildrenWithoutNamespaceOrWithPrefixAreAccepted) {
  std::string doc(kPackage1);
  auto pos = doc.find("<MaxMsgSize xmlns='syncml:metinf'>");
  doc.replace(pos, std::string_view("<MaxMsgSize xmlns='syncml:metinf'>").size(), "<MaxMsgSize>");
  auto m = dec(doc);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->hdr.meta->max_msg_size, 5000u);
  pos = doc.find("<MaxMsgSize>");
  doc.replace(pos, std::string_view("<MaxMsgSize>5000</MaxMsgSize>").size(),
              "<mi:MaxMsgSize xmlns:mi='syncml:metinf'>6000</mi:MaxMsgSize>");
  m = dec(doc);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->hdr.meta->max_msg_size, 6000u);
}

std::string with(std::string_view from, std::string_view to) {
  std::string doc(kPackage1);
  auto pos = doc.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  doc.replace(pos, from.size(), to);
  return doc;
}

TEST(XmlCodec, UnknownElementReportsItsPath) {
  DecodeError err;
  ASSERT_TRUE(
      test::refused_with(dec(with("<Final/>", "<Sync><CmdID>9</CmdID></Sync><Final/>"), &err), errc::unknown_element));
  EXPECT_EQ(err.where, "SyncML/SyncBody/Sync");
  err = {};
  auto m = dec(with("<Data>Device Factory, Inc.</Data>", "<Data>x</Data><Bogus/>"), &err);
  ASSERT_FALSE(m);
  EXPECT_EQ(err.code, make_error_code(errc::unknown_element));
  EXPECT_EQ(err.where, "SyncML/SyncBody/Replace[1]/Item[2]/Bogus");
}

TEST(XmlCodec, MissingMandatoryElement) {
  DecodeError err;
  ASSERT_TRUE(test::refused_with(dec(with("<MsgID>1</MsgID>", ""), &err), errc::missing_element));
  EXPECT_EQ(err.where, "SyncML/SyncHdr");
  EXPECT_NE(err.what.find("MsgID"), std::string::npos);
  err = {};
  const std::string empty_source = with("<Source><LocURI>./DevInfo/Man</LocURI></Source>", "<Source></Source>");
  ASSERT_TRUE(test::refused_with(dec(empty_source, &err), errc::missing_element));
  EXPECT_EQ(err.where, "SyncML/SyncBody/Replace[1]/Item[2]/Source");
}

TEST(XmlCodec, BadNumbersAreInvalidValues) {
  for (auto [from, to] : {std::pair<std::string_view, std::string_view>{"<CmdID>1</CmdID>", "<CmdID>one</CmdID>"},
                          {"<Data>1201</Data>", "<Data>99999</Data>"},
                          {"<MsgID>1</MsgID>", "<MsgID>-1</MsgID>"},
                          {"<MsgID>1</MsgID>", "<MsgID>4294967296</MsgID>"},
                          {"5000</MaxMsgSize>", "5k</MaxMsgSize>"}}) {
    DecodeError err;
    ASSERT_TRUE(test::refused_with(dec(with(from, to), &err), errc::invalid_value)) << to;
    EXPECT_FALSE(err.where.empty());
  }
}

TEST(XmlCodec, DuplicateSingularElementIsRefused) {
  DecodeError err;
  const std::string twice = with("<MsgID>1</MsgID>", "<MsgID>1</MsgID><MsgID>2</MsgID>");
  ASSERT_TRUE(test::refused_with(dec(twice, &err), errc::invalid_value));
  EXPECT_EQ(err.where, "SyncML/SyncHdr/MsgID");
}

TEST(XmlCodec, OtherSyncmlVersionIsUnsupported) {
  EXPECT_TRUE(test::refused_with(dec(with("SYNCML:SYNCML1.2", "SYNCML:SYNCML1.1")), errc::unsupported_version));
}

TEST(XmlCodec, ForeignNamespaceElementIsUnknown) {
  EXPECT_TRUE(test::refused_with(dec(with("<Final/>", "<x:Final xmlns:x='urn:other'/>")), errc::unknown_element));
}

TEST(XmlCodec, RejectsExternalEntities) {
  constexpr std::string_view xxe = R"(<?xml version="1.0"?>
<!DOCTYPE SyncML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>&xxe;</VerDTD></SyncHdr></SyncML>)";
  DecodeError err;
  ASSERT_TRUE(test::refused_with(dec(xxe, &err), errc::malformed_xml));
  EXPECT_NE(err.what.find("entity"), std::string::npos) << err.what;
  EXPECT_EQ(err.what.find("root:"), std::string::npos);
}

TEST(XmlCodec, RejectsBillionLaughs) {
  std::string doc = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 \"lol\">\n";
  for (int i = 1; i < 10; ++i)
    doc += "<!ENTITY lol" + std::to_string(i) + " \"" + [&] {
      std::string s;
      for (int k = 0; k < 10; ++k) s += "&lol" + std::to_string(i - 1) + ";";
      return s;
    }() + "\">\n";
  doc += "]>\n<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><SessionID>&lol9;</SessionID></SyncHdr></SyncML>";
  DecodeError err;
  ASSERT_TRUE(test::refused_with(dec(doc, &err), errc::malformed_xml));
  EXPECT_NE(err.what.find("entity"), std::string::npos) << err.what;
}

TEST(XmlCodec, RejectsUndeclaredEntityReference) {
  auto m = dec(with("<SessionID>1</SessionID>", "<SessionID>&foo;</SessionID>"));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), make_error_code(errc::malformed_xml));
}

TEST(XmlCodec, PredefinedEntitiesAndCdataAreText) {
  auto m = dec(with("<Data>Device Factory, Inc.</Data>", "<Data>a &amp; b &lt;c&gt; <![CDATA[<x/>]]></Data>"));
  ASSERT_TRUE(m);
  EXPECT_EQ(std::get<ItemCommand>(m->body[1].value).items[1].data, "a & b <c> <x/>");
  const std::string out = enc(*m);
  EXPECT_NE(out.find("<Data>a &amp; b &lt;c&gt; &lt;x/&gt;</Data>"), std::string::npos);
}

TEST(XmlCodec, DoctypeWithoutDeclarationsIsTolerated) {
  std::string doc(kPackage1);
  doc.insert(doc.find("<SyncML"),
             "<!DOCTYPE SyncML PUBLIC \"-//SYNCML//DTD SyncML 1.2//EN\" \"http://www.openmobilealliance.org/tech/DTD/"
             "OMA-TS-SyncML_RepPro_DTD-V1_2.dtd\">\n");
  auto m = dec(doc);
  ASSERT_TRUE(m);
}

TEST(XmlCodec, DeepNestingIsTooDeep) {
  std::string doc = "<SyncML xmlns=\"SYNCML:SYNCML1.2\">";
  for (int i = 0; i < 5000; ++i) doc += "<a>";
  for (int i = 0; i < 5000; ++i) doc += "</a>";
  doc += "</SyncML>";
  EXPECT_TRUE(test::refused_with(dec(doc), errc::too_deep));
}

TEST(XmlCodec, HugeInputIsTooLargeBeforeParsing) {
  DecodeLimits lim;
  lim.max_bytes = 1000;
  std::string doc(kPackage1);
  doc.append(2000, ' ');
  DecodeError err;
  EXPECT_TRUE(test::refused_with(dec(doc, &err, lim), errc::too_large));
}

TEST(XmlCodec, TooManyCommands) {
  DecodeLimits lim;
  lim.max_commands = 1;
  EXPECT_TRUE(test::refused_with(dec(kPackage1, nullptr, lim), errc::too_large));
}

TEST(XmlCodec, NotWellFormedSaysWhere) {
  DecodeError err;
  const std::string_view doc = "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr>\n<VerDTD>1.2</VerProto>";
  ASSERT_TRUE(test::refused_with(dec(doc, &err), errc::malformed_xml));
  EXPECT_EQ(err.where.rfind("line 2", 0), 0u) << err.where;
}

TEST(XmlCodec, ContainersEnforceWhatTheyMayHold) {
  DecodeError err;
  const std::string get_in_atomic = with("<Final/>", "<Atomic><CmdID>7</CmdID><Get><CmdID>8</CmdID><Item><Target>"
                                                    "<LocURI>./a</LocURI></Target></Item></Get></Atomic><Final/>");
  ASSERT_TRUE(test::refused_with(dec(get_in_atomic, &err), errc::unknown_element));
  EXPECT_EQ(err.where, "SyncML/SyncBody/Atomic[1]/Get");
  auto m = dec(with("<Final/>", "<Sequence><CmdID>7</CmdID><Get><CmdID>8</CmdID><Item><Target><LocURI>./a</LocURI>"
                                "</Target></Item></Get><Atomic><CmdID>9</CmdID><Delete><CmdID>10</CmdID><Item><Target>"
                                "<LocURI>./b</LocURI></Target></Item></Delete></Atomic></Sequence><Final/>"));
  ASSERT_TRUE(m);
  const auto& seq = std::get<Container>(m->body[2].value);
  EXPECT_EQ(seq.kind, CommandKind::Sequence);
  ASSERT_EQ(seq.commands.size(), 2u);
  EXPECT_EQ(std::get<Container>(seq.commands[1].value).commands[0].kind(), CommandKind::Delete);
}

Message binary_message(std::string data) {
  Message m;
  m.hdr.session_id = "1";
  m.hdr.target.loc_uri = "http://s";
  m.hdr.source.loc_uri = "IMEI:1";
  m.body.push_back(Command{test::replace_one(1, "./a", "bin", std::move(data))});
  return m;
}

TEST(XmlCodec, BinaryDataCannotBeWrittenAsXml) {
  ASSERT_TRUE(test::refused_with(encode_xml(binary_message(std::string("\x00\x01\xff", 3))), errc::encode_failed));
  EXPECT_FALSE(encode_xml(binary_message("\xc3\x28")));  // invalid UTF-8
}

TEST(XmlCodec, CarriageReturnAndUnicodeSurvive) {
  const Message m = binary_message("line1\r\nline2\t\xc3\xa9\xe2\x82\xac");
  auto x = encode_xml(m);
  ASSERT_TRUE(x);
  auto back = decode_xml(*x);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, m);
}

TEST(XmlCodec, DetectsEncodings) {
  EXPECT_EQ(detect_encoding(as_bytes("<SyncML/>")), Encoding::Xml);
  EXPECT_EQ(detect_encoding(as_bytes("\xEF\xBB\xBF <?xml")), Encoding::Xml);
  const std::uint8_t w[] = {0x02, 0xA4, 0x01, 0x6A, 0x00};
  EXPECT_EQ(detect_encoding(w), Encoding::Wbxml);
  EXPECT_EQ(detect_encoding(as_bytes("hello")), std::nullopt);
  EXPECT_EQ(encoding_from_content_type("application/vnd.syncml.dm+WBXML; charset=utf-8"), Encoding::Wbxml);
  EXPECT_EQ(encoding_from_content_type(" application/vnd.syncml.dm+xml"), Encoding::Xml);
  EXPECT_EQ(encoding_from_content_type("text/xml"), std::nullopt);
  EXPECT_STREQ(content_type(Encoding::Wbxml), "application/vnd.syncml.dm+wbxml");
}

}  // namespace
}  // namespace m2mdm::syncml
