// The OMA CP XML parser and the DM-profile bootstrap reader, driven through their public entry
// points with the attacks of tests/support (m2mdm/test/hostile_xml.hpp): both read through the
// tree's one hardened reader (m2mdm/syncml/xml_reader.hpp) and refuse every one of them.
#include "m2mdm/bootstrap/cp_document.hpp"
#include "m2mdm/bootstrap/dm_profile.hpp"
#include "m2mdm/test/hostile_xml.hpp"

#include <gtest/gtest.h>

#include <string>

namespace m2mdm::bootstrap {
namespace {

// PROV content has no free text: the payload goes into a parm value.
std::string cp_doc(std::string_view payload) {
  return "<wap-provisioningdoc version=\"1.1\"><characteristic type=\"APPLICATION\">"
         "<parm name=\"NAME\" value=\"" +
         std::string(payload) + "\"/></characteristic></wap-provisioningdoc>";
}

TEST(XmlHardening, CpDocumentRefusesEveryAttack) {
  auto plain = test::expect_every_attack_refused(
      "wap-provisioningdoc", cp_doc, [](const std::string& d) { return parse_cp_xml(d); },
      make_error_code(errc::cp_bad_xml));
  ASSERT_TRUE(plain);
  ASSERT_EQ(plain->characteristics.size(), 1u);
  EXPECT_EQ(plain->characteristics[0].value_of("NAME"), std::optional<std::string>("plain"));
  // Nesting far past the reader's bound (256, libxml2's own) is refused before the walker runs.
  std::string very_deep = "<wap-provisioningdoc>";
  for (int i = 0; i < 1000; ++i) very_deep += "<characteristic type=\"X\">";
  for (int i = 0; i < 1000; ++i) very_deep += "</characteristic>";
  very_deep += "</wap-provisioningdoc>";
  auto r = parse_cp_xml(very_deep, CpLimits{1u << 20, 8, 4096});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::cp_bad_xml));
}

// A SyncML 1.2 WBXML DM-profile bootstrap whose one Add Item (./DMAcc/a/ServerID) carries
// @p opaque as OPAQUE Data. libwbxml hands OPAQUE Data to the XML reader as a CDATA section
// without splitting "]]>", so the payload can end the section and inject markup into the XML
// text the reader parses: that is how an attack reaches the reader through this entry point.
Bytes dm_message(std::string_view opaque, std::size_t extra_depth = 0) {
  Bytes b = {0x03, 0xA4, 0x01, 0x6A, 0x00, 0x6D, 0x6C, 0x71, 0x03, '1', '.', '2', 0x00, 0x01, 0x72, 0x03,
             'D', 'M', '/', '1', '.', '2', 0x00, 0x01, 0x65, 0x03, '1', 0x00, 0x01, 0x5B, 0x03, '1',
             0x00, 0x01, 0x6E, 0x57, 0x03, 'I', 'M', 'E', 'I', ':', '1', 0x00, 0x01, 0x01, 0x67, 0x57,
             0x03, 's', 'r', 'v', 0x00, 0x01, 0x01, 0x01, 0x6B, 0x45, 0x4B, 0x03, '1', 0x00, 0x01, 0x54,
             0x6E, 0x57, 0x03};
  for (char c : std::string_view("./DMAcc/a/ServerID")) b.push_back(static_cast<std::uint8_t>(c));
  b.insert(b.end(), {0x00, 0x01, 0x01, 0x4F, 0xC3});
  // OPAQUE length as mb_u_int32 (WAP-192-WBXML §5.1)
  if (opaque.size() >= 0x80) b.push_back(static_cast<std::uint8_t>(0x80 | (opaque.size() >> 7)));
  b.push_back(static_cast<std::uint8_t>(opaque.size() & 0x7F));
  for (char c : opaque) b.push_back(static_cast<std::uint8_t>(c));
  b.insert(b.end(), {0x01, 0x01, 0x01});  // </Data></Item></Add>
  for (std::size_t i = 0; i < extra_depth; ++i) b.push_back(0x54);  // <Item>
  for (std::size_t i = 0; i < extra_depth; ++i) b.push_back(0x01);  // </Item>
  b.insert(b.end(), {0x12, 0x01, 0x01});  // <Final/></SyncBody></SyncML>
  return b;
}

TEST(XmlHardening, DmProfileRefusesMarkupInjectedThroughOpaqueData) {
  test::SecretFile secret;
  auto plain = dm_bootstrap_leaves(dm_message("srv1"));
  ASSERT_TRUE(plain) << plain.error().message();
  EXPECT_EQ(plain->at("./DMAcc/a/ServerID"), "srv1");
  // The injection itself is real: markup after "]]>" becomes part of the document.
  auto xml = dm_bootstrap_to_xml(dm_message("]]><!-- injected --><![CDATA[x"));
  ASSERT_TRUE(xml);
  EXPECT_NE(xml->find("<!-- injected -->"), std::string::npos) << *xml;

  for (std::string_view payload : {"]]>&xxe;<![CDATA[", "]]>&lt;&undeclared;<![CDATA[",
                                   "]]><x>&lol9;</x><![CDATA["}) {
    SCOPED_TRACE(std::string(payload));
    ::testing::internal::CaptureStderr();
    auto r = dm_bootstrap_leaves(dm_message(payload));
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(errc::dm_bad_tnds));
  }
  // XInclude is never processed: the injected include stays an unknown element.
  const std::string xi = "]]><xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"" + secret.path() +
                         "\" parse=\"text\"/><![CDATA[";
  auto r = dm_bootstrap_leaves(dm_message(xi));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->at("./DMAcc/a/ServerID").find(test::kSecret), std::string::npos);
}

TEST(XmlHardening, DmProfileRefusesDeepNesting) {
  ASSERT_TRUE(dm_bootstrap_leaves(dm_message("srv1", 10)));
  auto r = dm_bootstrap_leaves(dm_message("srv1", 300));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::dm_bad_tnds));
}

}  // namespace
}  // namespace m2mdm::bootstrap
