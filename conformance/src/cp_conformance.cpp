// Conformance runner for conformance/vectors/cp/: OMA ProvBoot 1.1 SEC/MAC vectors
// (mac_vectors.txt) and WBXML <-> XML equivalence vectors (decode_vectors.txt).
#include "m2mdm/bootstrap/cp_document.hpp"
#include "m2mdm/bootstrap/security.hpp"
#include "m2mdm/test/files.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace m2mdm;
using namespace m2mdm::bootstrap;

const fs::path kDir = fs::path(M2MDM_VECTORS_DIR) / "cp";

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  return s.substr(b);
}

std::vector<std::vector<std::string>> read_table(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::istringstream ls(line);
    std::string field;
    while (std::getline(ls, field, '|')) f.push_back(trim(field));
    rows.push_back(f);
  }
  return rows;
}

// A test name for a vector: its first field with every character but letters and digits as '_'.
std::string row_name(const ::testing::TestParamInfo<std::vector<std::string>>& p) {
  std::string n = p.param.empty() ? "empty" : p.param[0];
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

using m2mdm::test::slurp_bytes;

class CpMacVector : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(CpMacVector, ComputesAndVerifies) {
  const auto& v = GetParam();
  ASSERT_EQ(v.size(), 6u) << "malformed vector line";
  auto method = parse_sec_method(v[1]);
  ASSERT_TRUE(method);
  SecCredentials creds;
  if (v[2] != "-") creds.pin = v[2];
  if (v[3] != "-") creds.imsi = v[3];
  const Bytes body = slurp_bytes(kDir / v[4]);
  ASSERT_FALSE(body.empty());
  auto mac = compute_mac(*method, creds, body);
  ASSERT_TRUE(mac) << mac.error().message();
  EXPECT_EQ(*mac, v[5]);
  EXPECT_TRUE(verify_mac(*method, creds, body, v[5]));
  // The MAC'd bytes also decode as a CP document.
  EXPECT_TRUE(decode_cp_wbxml(body));
}

INSTANTIATE_TEST_SUITE_P(Cp, CpMacVector, ::testing::ValuesIn(read_table(kDir / "mac_vectors.txt")),
                         row_name);

class CpDecodeVector : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(CpDecodeVector, WbxmlAndXmlAreTheSameDocument) {
  const auto& v = GetParam();
  ASSERT_EQ(v.size(), 2u);
  auto from_wbxml = decode_cp_wbxml(slurp_bytes(kDir / v[0]));
  ASSERT_TRUE(from_wbxml) << from_wbxml.error().message();
  const Bytes xml = slurp_bytes(kDir / v[1]);
  auto from_xml = parse_cp_xml(as_chars(xml));
  ASSERT_TRUE(from_xml) << from_xml.error().message();
  EXPECT_EQ(*from_wbxml, *from_xml);
}

INSTANTIATE_TEST_SUITE_P(Cp, CpDecodeVector, ::testing::ValuesIn(read_table(kDir / "decode_vectors.txt")),
                         row_name);

}  // namespace
