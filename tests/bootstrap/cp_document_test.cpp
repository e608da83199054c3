// CP document model, XML and WBXML codecs, cross-checks with Debian's xml2wbxml/wbxml2xml.
#include "cp_test_support.hpp"
#include "m2mdm/bootstrap/cp_document.hpp"
#include "m2mdm/bootstrap/dm_profile.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

namespace m2mdm::bootstrap {
namespace {

using namespace testing;

TEST(CpWbxml, ChunghwaVectorDecodesToTheSameContentAsItsXml) {
  const Bytes wbxml = slurp_bytes(vectors_dir() / "cht-userpin-0000.wbxml");
  ASSERT_EQ(wbxml.size(), 501u);
  auto from_wbxml = decode_cp_wbxml(wbxml);
  ASSERT_TRUE(from_wbxml) << from_wbxml.error().message();
  auto from_xml = parse_cp_xml(slurp(vectors_dir() / "cht-userpin-0000.xml"));
  ASSERT_TRUE(from_xml) << from_xml.error().message();
  EXPECT_EQ(*from_wbxml, *from_xml);
  ASSERT_EQ(from_wbxml->characteristics.size(), 7u);
  EXPECT_EQ(from_wbxml->characteristics[0].type, "BOOTSTRAP");
  EXPECT_EQ(from_wbxml->characteristics[0].value_of("NAME"), "CHT_emome");
  const auto naps = from_wbxml->of_type("NAPDEF");
  ASSERT_EQ(naps.size(), 2u);
  EXPECT_EQ(naps[0]->value_of("BEARER"), "GSM-GPRS");  // value token 0xAB
  EXPECT_EQ(naps[0]->value_of("NAP-ADDRTYPE"), "APN");  // value token 0x89
  // STARTPAGE has no value attribute
  const auto* res = &from_wbxml->characteristics[1].children[0];
  ASSERT_NE(res->find_parm("STARTPAGE"), nullptr);
  EXPECT_FALSE(res->find_parm("STARTPAGE")->value.has_value());
}

TEST(CpWbxml, OwnOutputHasTheMinimalHeaderAndRoundTrips) {
  auto doc = build_bootstrap_doc(sample_spec());
  ASSERT_TRUE(doc);
  auto wbxml = encode_cp_wbxml(*doc);
  ASSERT_TRUE(wbxml) << wbxml.error().message();
  ASSERT_GE(wbxml->size(), 5u);
  EXPECT_EQ((*wbxml)[0], 0x03);  // WBXML 1.3
  EXPECT_EQ((*wbxml)[1], 0x0B);  // -//WAPFORUM//DTD PROV 1.0//EN
  EXPECT_EQ((*wbxml)[2], 0x6A);  // UTF-8
  EXPECT_EQ((*wbxml)[3], 0x00);  // string table length 0
  auto back = decode_cp_wbxml(*wbxml);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, *doc);
}

TEST(CpWbxml, EmptyDocumentVector) {
  const Bytes empty{0x03, 0x0B, 0x6A, 0x00, 0x45, 0x01};
  auto doc = decode_cp_wbxml(empty);
  ASSERT_TRUE(doc) << doc.error().message();
  EXPECT_TRUE(doc->characteristics.empty());
  EXPECT_FALSE(doc->version.has_value());
}

// A hand-made document: APPAUTH with AAUTHTYPE written with the old page-1 value tokens.
// c6 00 01 55 01 = <characteristic type="APPLICATION"> (page 1 token 0x55)
// 87 33 00 00 06 00 01 <tok> 01 = <parm name="AAUTHTYPE" value=<page-1 value token>/>
Bytes old_token_doc(std::uint8_t tok) {
  return Bytes{0x03, 0x0B, 0x6A, 0x00, 0x45, 0xC6, 0x00, 0x01, 0x55, 0x01, 0x87, 0x33,
               0x00, 0x00, 0x06, 0x00, 0x01, tok, 0x01, 0x01, 0x01};
}

TEST(CpWbxml, OldPage1ValueTokensMapToTheNewRow) {
  const char* expected[] = {",", "HTTP-", "BASIC", "DIGEST"};
  for (std::uint8_t i = 0; i < 4; ++i) {
    auto old_doc = decode_cp_wbxml(old_token_doc(static_cast<std::uint8_t>(0x80 + i)));
    ASSERT_TRUE(old_doc) << "token " << int(0x80 + i) << ": " << old_doc.error().message();
    auto new_doc = decode_cp_wbxml(old_token_doc(static_cast<std::uint8_t>(0x90 + i)));
    ASSERT_TRUE(new_doc);
    EXPECT_EQ(*old_doc, *new_doc);
    EXPECT_EQ(old_doc->characteristics.at(0).value_of("AAUTHTYPE"), expected[i]);
  }
}

TEST(CpWbxml, StringTablePublicIdUnknownAndRedundantSwitches) {
  // Public id 0x01 (unknown), a string table holding "w7\0srv\0", values by STR_T, redundant
  // SWITCH_PAGE 0 before each attribute.
  const Bytes doc{0x03, 0x01, 0x6A, 0x07, 'w', '7', 0x00, 's', 'r', 'v', 0x00,
                  0x45,
                  0xC6, 0x00, 0x01, 0x00, 0x01, 0x55, 0x01,              // APPLICATION
                  0x87, 0x00, 0x01, 0x36, 0x00, 0x00, 0x06, 0x83, 0x00, 0x01,  // APPID = strtbl[0]
                  0x87, 0x00, 0x01, 0x38, 0x00, 0x00, 0x06, 0x83, 0x03, 0x01,  // PROVIDER-ID = strtbl[3]
                  0x01, 0x01};
  auto d = decode_cp_wbxml(doc);
  ASSERT_TRUE(d) << d.error().message();
  ASSERT_EQ(d->characteristics.size(), 1u);
  EXPECT_EQ(d->characteristics[0].type, "APPLICATION");
  EXPECT_EQ(d->characteristics[0].value_of("APPID"), "w7");
  EXPECT_EQ(d->characteristics[0].value_of("PROVIDER-ID"), "srv");
}

TEST(CpWbxml, RejectsMalformedAndOversizedInput) {
  const Bytes good = slurp_bytes(vectors_dir() / "cht-userpin-0000.wbxml");
  // Every truncation fails cleanly.
  for (std::size_t n = 0; n < good.size(); n += 7) {
    Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(decode_cp_wbxml(cut)) << "prefix " << n;
  }
  // Wrong public id (SI 1.0 = 0x05).
  Bytes si = good;
  si[1] = 0x05;
  EXPECT_EQ(decode_cp_wbxml(si).error(), make_error_code(errc::cp_bad_wbxml));
  // STR_T beyond the string table.
  const Bytes bad_ref{0x03, 0x0B, 0x6A, 0x00, 0x45, 0xC6, 0x05, 0x83, 0x05, 0x01, 0x01, 0x01};
  EXPECT_EQ(decode_cp_wbxml(bad_ref).error(), make_error_code(errc::cp_bad_wbxml));
  // ENTITY codes that are not XML characters (libwbxml asserts on >= 2^31): found by the fuzzer.
  const Bytes huge_entity{0x03, 0x0B, 0x6A, 0x00, 0x45, 0xC6, 0x05, 0x03, 'x', 0x00, 0x01,
                          0x02, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x01, 0x01};
  EXPECT_EQ(decode_cp_wbxml(huge_entity).error(), make_error_code(errc::cp_bad_wbxml));
  // Size bound.
  CpLimits small;
  small.max_bytes = 100;
  EXPECT_EQ(decode_cp_wbxml(good, small).error(), make_error_code(errc::cp_too_large));
  // Depth bound: characteristics nested 20 deep.
  Bytes deep{0x03, 0x0B, 0x6A, 0x00, 0x45};
  for (int i = 0; i < 20; ++i) deep.insert(deep.end(), {0xC6, 0x55, 0x01});
  for (int i = 0; i < 21; ++i) deep.push_back(0x01);
  EXPECT_EQ(decode_cp_wbxml(deep).error(), make_error_code(errc::cp_too_deep));
}

TEST(CpXml, RefusesEntitiesAndDtdSubsets) {
  const std::string xxe =
      "<?xml version=\"1.0\"?><!DOCTYPE wap-provisioningdoc [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
      "<wap-provisioningdoc><characteristic type=\"BOOTSTRAP\"><parm name=\"NAME\" value=\"&x;\"/>"
      "</characteristic></wap-provisioningdoc>";
  EXPECT_EQ(parse_cp_xml(xxe).error(), make_error_code(errc::cp_bad_xml));
  EXPECT_EQ(parse_cp_xml("<wap-provisioningdoc><foo/></wap-provisioningdoc>").error(),
            make_error_code(errc::cp_bad_xml));
  EXPECT_EQ(parse_cp_xml("<other/>").error(), make_error_code(errc::cp_bad_xml));
  EXPECT_EQ(parse_cp_xml("<wap-provisioningdoc><characteristic/></wap-provisioningdoc>").error(),
            make_error_code(errc::cp_bad_xml));
  auto ok = parse_cp_xml(
      "<wap-provisioningdoc version=\"1.1\"><characteristic type=\"X\"><parm name=\"A\" value=\"&lt;&amp;&quot;\"/>"
      "</characteristic></wap-provisioningdoc>");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->version, "1.1");
  EXPECT_EQ(ok->characteristics[0].value_of("A"), "<&\"");
  // Our writer escapes what the reader unescapes.
  auto again = parse_cp_xml(to_cp_xml(*ok));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *ok);
}

// ---- cross-checks with libwbxml2-utils (independent command-line encoder/decoder) ----------
class CpCrossCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_tool("xml2wbxml") || !have_tool("wbxml2xml")) GTEST_SKIP() << "libwbxml2-utils not installed";
    dir_ = std::filesystem::temp_directory_path() / ("m2mdm_cp_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
};

TEST_F(CpCrossCheck, Wbxml2xmlDecodesWhatWeBuild) {
  auto doc = build_bootstrap_doc(sample_spec());
  ASSERT_TRUE(doc);
  auto wbxml = encode_cp_wbxml(*doc);
  ASSERT_TRUE(wbxml);
  write_file(dir_ / "ours.wbxml", *wbxml);
  ASSERT_EQ(run("wbxml2xml -o " + (dir_ / "theirs.xml").string() + " " + (dir_ / "ours.wbxml").string() +
                " >/dev/null 2>&1"),
            0);
  auto parsed = parse_cp_xml(slurp(dir_ / "theirs.xml"));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, *doc);
}

TEST_F(CpCrossCheck, WeDecodeWhatXml2wbxmlBuilds) {
  auto doc = build_bootstrap_doc(sample_spec());
  ASSERT_TRUE(doc);
  std::ofstream(dir_ / "in.xml") << to_cp_xml(*doc);
  // With and without a string table (-n).
  for (const std::string flags : {"", "-n "}) {
    ASSERT_EQ(run("xml2wbxml " + flags + "-o " + (dir_ / "theirs.wbxml").string() + " " + (dir_ / "in.xml").string() +
                  " >/dev/null 2>&1"),
              0);
    auto back = decode_cp_wbxml(slurp_bytes(dir_ / "theirs.wbxml"));
    ASSERT_TRUE(back) << flags << back.error().message();
    EXPECT_EQ(*back, *doc);
  }
}

TEST_F(CpCrossCheck, XmlVectorThroughXml2wbxmlMatchesTheWbxmlVector) {
  ASSERT_EQ(run("xml2wbxml -n -o " + (dir_ / "cht.wbxml").string() + " " +
                (vectors_dir() / "cht-userpin-0000.xml").string() + " >/dev/null 2>&1"),
            0);
  EXPECT_EQ(slurp_bytes(dir_ / "cht.wbxml"), slurp_bytes(vectors_dir() / "cht-userpin-0000.wbxml"));
}

// Found by fuzz_cp_wbxml_decode: bytes past our token walker that made libwbxml2 abort the
// process (assert `code < 0x80000000` in parse_entity). Now a refusal, never an abort; the DM
// profile path (dm_bootstrap_to_xml), which has no walker, is guarded the same way.
TEST(CpWbxmlHardening, AnEntityLibwbxmlAssertsOnIsRefusedNotFatal) {
  const Bytes crash{0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x38, 0x00, 0xfe, 0x78, 0xff, 0x4e, 0x41, 0x4d, 0x45, 0x02, 0x02,
                    0x02, 0x02, 0x02, 0xff, 0xff, 0xb9, 0xb9, 0x01, 0x01, 0x29, 0x87, 0x49, 0x00, 0x00, 0x06, 0x01, 0x01,
                    0x01};
  EXPECT_FALSE(decode_cp_wbxml(crash));
  const Bytes dm{0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d, 0x02, 0x88, 0x80, 0x80, 0x80, 0x00, 0x01};
  EXPECT_FALSE(dm_bootstrap_to_xml(dm, CpLimits{}));
}

}  // namespace
}  // namespace m2mdm::bootstrap
