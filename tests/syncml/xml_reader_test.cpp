// The tree's one hardened XML reader (m2mdm/syncml/xml_reader.hpp) and the SyncML XML decoder on
// top of it: every attack of m2mdm/test/hostile_xml.hpp is refused, before anything is expanded or
// fetched, without a word on stderr; a secret file an attack points at never shows up.
#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/syncml/error.hpp"
#include "m2mdm/syncml/xml_reader.hpp"
#include "m2mdm/test/hostile_xml.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace m2mdm::syncml {
namespace {

std::string plain_doc(std::string_view payload) {
  return "<r a=\"" + std::string(payload) + "\"><t>" + std::string(payload) + "</t></r>";
}

// Elements, text, attributes and namespaces, with what the readers pass over: an external DTD
// that is never fetched, a comment, a processing instruction, CDATA, entity and character
// references.
constexpr std::string_view kRichDocument =
    "<?xml version=\"1.0\"?>\n<!DOCTYPE r PUBLIC \"-//X//DTD R//EN\" \"http://127.0.0.1:9/r.dtd\">\n"
    "<r xmlns=\"urn:a\" xmlns:b=\"urn:b\" k=\"v &amp; &lt;w&gt;\" b:k=\"w\"><!-- c --><?pi data?>"
    "<x>one <![CDATA[<two>]]> &#65;</x><b:y>  <z>deep</z> </b:y></r>";

TEST(XmlReader, ReadsElementsTextAttributesAndNamespaces) {
  auto r = read_xml(kRichDocument);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->name, "r");
  EXPECT_EQ(r->ns, "urn:a");
  ASSERT_EQ(r->attributes.size(), 2u);
  EXPECT_EQ(r->attributes[0].name, "k");
  EXPECT_EQ(r->attributes[0].value, "v & <w>");
  EXPECT_EQ(r->attributes[1].ns, "urn:b");
  EXPECT_EQ(r->attribute("k")->value, "v & <w>");  // the first one of that local name
  ASSERT_EQ(r->children.size(), 4u);
  EXPECT_EQ(r->children[0].kind, XmlNode::Kind::comment);
  EXPECT_EQ(r->children[1].kind, XmlNode::Kind::processing_instruction);
  EXPECT_EQ(r->children[1].name, "pi");
  const XmlNode* x = r->child("x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->direct_text(), "one <two> A");
  const XmlNode* y = r->child("y");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->ns, "urn:b");
  EXPECT_EQ(y->first_element()->name, "z");
  EXPECT_EQ(y->direct_text(), "   ");
  EXPECT_EQ(y->text_content(), "  deep ");
  EXPECT_EQ(r->child("none"), nullptr);
}

TEST(XmlReader, RefusesEveryAttackWithoutTouchingTheSecretOrStderr) {
  test::expect_every_attack_refused(
      "r", plain_doc,
      [](const std::string& d) {
        DecodeError err;
        auto r = read_xml(d, {}, &err);
        if (!r) {
          EXPECT_EQ(err.code, r.error());
          EXPECT_FALSE(err.what.empty());
        }
        EXPECT_EQ(err.what.find(test::kSecret), std::string::npos);
        return r;
      },
      make_error_code(errc::malformed_xml));
}

TEST(XmlReader, SaysWhichConstructItRefused) {
  DecodeError err;
  EXPECT_FALSE(read_xml("<!DOCTYPE r [<!ENTITY e \"x\">]><r>&e;</r>", {}, &err));
  EXPECT_NE(err.what.find("entity declarations are not allowed"), std::string::npos) << err.what;
  EXPECT_FALSE(read_xml("<r>&e;</r>", {}, &err));
  EXPECT_NE(err.what.find("&e;"), std::string::npos) << err.what;
  EXPECT_FALSE(read_xml("<!DOCTYPE r [<!ATTLIST r a CDATA \"x\">]><r/>", {}, &err));
  EXPECT_NE(err.what.find("attribute declarations"), std::string::npos) << err.what;
  EXPECT_FALSE(read_xml("<!DOCTYPE r [<!-- c -->]><r/>", {}, &err));
  EXPECT_EQ(err.what, "DOCTYPE declarations are not allowed");
  EXPECT_EQ(err.where, "DOCTYPE");
}

TEST(XmlReader, XIncludeIsNeverProcessed) {
  test::SecretFile secret;
  auto r = read_xml("<r xmlns:xi=\"http://www.w3.org/2001/XInclude\"><xi:include href=\"" + secret.path() +
                    "\" parse=\"text\"/></r>");
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_NE(r->child("include"), nullptr);  // an element like any other
  EXPECT_EQ(r->child("include")->ns, "http://www.w3.org/2001/XInclude");
  EXPECT_EQ(r->text_content(), "");
}

TEST(XmlReader, BoundsSizeAndDepth) {
  DecodeError err;
  auto big = read_xml("<r>" + std::string(100, 'x') + "</r>", XmlLimits{64, 256}, &err);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error(), make_error_code(errc::too_large));
  EXPECT_EQ(err.where, "byte 64");

  EXPECT_TRUE(read_xml(test::nested("a", 10), XmlLimits{1024, 10}));
  auto deep = read_xml(test::nested("a", 11), XmlLimits{1024, 10}, &err);
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error(), make_error_code(errc::too_deep));
  EXPECT_EQ(err.what, "elements nested deeper than 10");

  // The default bound (libxml2's own, 256) holds for a document of 100 000 nested elements.
  auto very_deep = read_xml(test::nested("a", 100000), XmlLimits{8u * 1024u * 1024u, 256});
  ASSERT_FALSE(very_deep);
  EXPECT_EQ(very_deep.error(), make_error_code(errc::too_deep));
}

TEST(XmlReader, MalformedInputIsAValueWithAPosition) {
  for (std::string_view bad : {"", "<r>", "<r></s>", "text", "<r a='1' a='2'/>", "<r/><r/>"}) {
    SCOPED_TRACE(std::string(bad));
    ::testing::internal::CaptureStderr();
    DecodeError err;
    auto r = read_xml(bad, {}, &err);
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(errc::malformed_xml));
    EXPECT_FALSE(err.what.empty());
    EXPECT_FALSE(err.where.empty());
  }
}

// read_xml_events: the same parse without a tree (the SyncML decoder's path). A recorder renders
// the events as text: "<ns|name>" for a start, "</>" for an end, the text as it came.
struct Recorder final : XmlEvents {
  std::string log;
  void start_element(std::string_view local, std::string_view ns) override {
    log += "<" + std::string(ns) + "|" + std::string(local) + ">";
  }
  void end_element() override { log += "</>"; }
  void text(std::string_view chars) override { log += chars; }
};

Result<std::string> read_events(const std::string& d, const XmlLimits& limits = {}, DecodeError* err = nullptr) {
  Recorder rec;
  auto r = read_xml_events(d, limits, rec, err);
  if (!r) return std::unexpected(r.error());
  return rec.log;
}

TEST(XmlReaderEvents, ReportsElementsAndTextInDocumentOrder) {
  auto r = read_events(std::string(kRichDocument) + "<!-- after -->");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "<urn:a|r><urn:a|x>one <two> A</><urn:b|y>  <urn:a|z>deep</> </></>");
}

TEST(XmlReaderEvents, RefusesEveryAttackLikeTheTreeReader) {
  test::expect_every_attack_refused(
      "r", plain_doc,
      [](const std::string& d) -> Result<std::string> {
        DecodeError err;
        auto r = read_events(d, {}, &err);
        auto tree = read_xml(d);
        EXPECT_EQ(static_cast<bool>(r), static_cast<bool>(tree)) << "the two paths disagree";
        if (!r) {
          EXPECT_EQ(err.code, r.error());
          EXPECT_FALSE(err.what.empty());
        }
        EXPECT_EQ(err.what.find(test::kSecret), std::string::npos);
        if (r) {
          EXPECT_EQ(r->find(test::kSecret), std::string::npos);
        }
        return r;
      },
      make_error_code(errc::malformed_xml));
  DecodeError err;
  EXPECT_FALSE(read_events("<!DOCTYPE r [<!-- c -->]><r/>", {}, &err));
  EXPECT_EQ(err.what, "DOCTYPE declarations are not allowed");
  EXPECT_FALSE(read_events("<!DOCTYPE r [<?pi x?>]><r/>", {}, &err));
  EXPECT_EQ(err.what, "DOCTYPE declarations are not allowed");
  EXPECT_FALSE(read_events("<r>&e;</r>", {}, &err));
  EXPECT_NE(err.what.find("&e;"), std::string::npos) << err.what;
  EXPECT_FALSE(read_events("<r a=\"&e;\"/>", {}, &err));
  EXPECT_NE(err.what.find("&e;"), std::string::npos) << err.what;
}

TEST(XmlReaderEvents, BoundsSizeDepthAndWhatFollowsTheRoot) {
  DecodeError err;
  auto big = read_events("<r>" + std::string(100, 'x') + "</r>", XmlLimits{64, 256}, &err);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error(), make_error_code(errc::too_large));
  EXPECT_TRUE(read_events(test::nested("a", 10), XmlLimits{1024, 10}));
  auto deep = read_events(test::nested("a", 100000), XmlLimits{8u * 1024u * 1024u, 256}, &err);
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error(), make_error_code(errc::too_deep));
  for (std::string_view bad : {"", "<r>", "<r></s>", "text", "<r/><r/>", "<r/>garbage"}) {
    SCOPED_TRACE(std::string(bad));
    ::testing::internal::CaptureStderr();
    auto r = read_events(std::string(bad), {}, &err);
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(errc::malformed_xml));
  }
  ASSERT_FALSE(read_events(std::string("<r>a\0b</r>", 10), {}, &err));
  EXPECT_EQ(err.where, "byte 4");
}

// The SyncML XML decoder through its public entry point.
std::string syncml_doc(std::string_view payload) {
  return "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"
         "<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>srv</LocURI></Target>"
         "<Source><LocURI>IMEI:1</LocURI><LocName>" +
         std::string(payload) + "</LocName></Source></SyncHdr><SyncBody><Final/></SyncBody></SyncML>";
}

TEST(XmlReader, SyncmlDecoderRefusesEveryAttack) {
  auto plain = test::expect_every_attack_refused(
      "SyncML", syncml_doc,
      [](const std::string& d) {
        DecodeError err;
        auto m = decode_xml(as_bytes(d), {}, &err);
        EXPECT_EQ(err.what.find(test::kSecret), std::string::npos);
        return m;
      },
      make_error_code(errc::malformed_xml));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->hdr.source.loc_name, std::optional<std::string>("plain"));
  auto deep = decode_xml(as_bytes(syncml_doc(test::nested("x", 100))));
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error(), make_error_code(errc::too_deep));
}

// Hardening finding 6: nothing may follow the root element unseen. Text after it is refused by
// the parser; a NUL byte (where libxml2 would stop reading) is refused wherever it stands.
TEST(XmlReader, NothingAfterTheRootElementIsAcceptedUnseen) {
  const std::string doc = "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr/></SyncML>";
  EXPECT_TRUE(read_xml(doc + "<!-- a comment -->\n"));  // Misc after the root is XML (§2.8)
  for (const std::string& tail : {std::string("garbage"), std::string("<x/>"), std::string("\0", 1),
                                  std::string("\0<x/>", 5), std::string("\0\0garbage", 9)}) {
    DecodeError err;
    auto r = read_xml(doc + tail, {}, &err);
    EXPECT_FALSE(r) << "accepted a document followed by " << tail.size() << " bytes";
    if (!r) {
      EXPECT_EQ(r.error(), make_error_code(errc::malformed_xml));
    }
  }
  DecodeError err;
  ASSERT_FALSE(read_xml(std::string("<r>a\0b</r>", 10), {}, &err));
  EXPECT_EQ(err.where, "byte 4");
}

}  // namespace
}  // namespace m2mdm::syncml
