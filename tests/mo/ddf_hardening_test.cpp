// The DDF reader (mo::rules_from_ddf), driven through its public entry point with the attacks of
// tests/support (m2mdm/test/hostile_xml.hpp). It reads through the tree's one hardened reader
// (m2mdm/syncml/xml_reader.hpp); before, it let libxml2 keep entity references and then asked for
// the text content, which expands them (a "billion laughs" DFTitle).
#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/node.hpp"
#include "m2mdm/test/hostile_xml.hpp"

#include <gtest/gtest.h>

#include <string>

namespace m2mdm::mo {
namespace {

std::string ddf_doc(std::string_view payload) {
  return "<MgmtTree><VerDTD>1.2</VerDTD><Node><NodeName>A</NodeName><DFProperties><AccessType><Get/></AccessType>"
         "<DFFormat><chr/></DFFormat><DFTitle>" +
         std::string(payload) + "</DFTitle></DFProperties></Node></MgmtTree>";
}

TEST(DdfHardening, RefusesEveryAttack) {
  auto plain = test::expect_every_attack_refused(
      "MgmtTree", ddf_doc, [](const std::string& d) { return rules_from_ddf(d); }, make_error_code(errc::malformed));
  ASSERT_TRUE(plain);
  ASSERT_EQ(plain->size(), 1u);
  EXPECT_EQ((*plain)[0].title, "plain");
}

TEST(DdfHardening, RefusesDeepNesting) {
  ASSERT_TRUE(rules_from_ddf(ddf_doc(test::nested("b", 100))));  // DFTitle text content, any markup
  EXPECT_FALSE(rules_from_ddf(ddf_doc(test::nested("b", 1000))));
}

}  // namespace
}  // namespace m2mdm::mo
