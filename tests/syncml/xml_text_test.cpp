// The character-data escaping shared by the XML codec and the conformance runner's scripts.
#include "m2mdm/syncml/xml_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace m2mdm::syncml {
namespace {

std::string escaped(std::string_view text) {
  std::string out = "<Data>";
  append_xml_text(out, text);
  return out;
}

TEST(XmlText, EscapesMarkupAndCarriageReturnOnly) {
  EXPECT_EQ(escaped("a&b<c>d\re\nf\t\"g'h"), "<Data>a&amp;b&lt;c&gt;d&#13;e\nf\t\"g'h");
}

TEST(XmlText, PlainTextAndEmptyTextAreAppendedAsTheyAre) {
  EXPECT_EQ(escaped("IMEI:490154203237518"), "<Data>IMEI:490154203237518");
  EXPECT_EQ(escaped(""), "<Data>");
  EXPECT_EQ(escaped("&&"), "<Data>&amp;&amp;");
}

}  // namespace
}  // namespace m2mdm::syncml
