// Conformance runner over conformance/vectors/dm_protocol/: messages transcribed from the OMA DM
// 1.2 specifications' examples, each named by spec + section, with an expected-outcome sidecar
// (<name>.expect):
//   decode: ok | decode: error <errc name>
//   where: <element path or "byte N" prefix>     (optional, errors only)
//   fact: <key> = <value>                        (optional, ok only; "none" = absent)
// Every vector that decodes is also round-tripped: XML → model → XML and model → WBXML → model
// must give the same model, and the canonical XML of both decodings must be byte-identical.
#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/syncml/error.hpp"
#include "m2mdm/test/files.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace m2mdm::syncml {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(M2MDM_VECTORS_DIR) / "dm_protocol";

std::vector<std::string> vector_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kDir)) {
    const auto ext = e.path().extension();
    if (ext == ".xml" || ext == ".wbxml") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct Expectation {
  bool ok = true;
  std::string error;
  std::string where;
  std::vector<std::pair<std::string, std::string>> facts;
};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  return s.substr(i);
}

Expectation read_expect(const fs::path& p) {
  Expectation e;
  std::ifstream in(p);
  EXPECT_TRUE(in) << "missing sidecar " << p;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto colon = line.find(':');
    const std::string key = line.substr(0, colon);
    const std::string val = colon == std::string::npos ? "" : trim(line.substr(colon + 1));
    if (key == "decode") {
      if (val == "ok") e.ok = true;
      else if (val.rfind("error ", 0) == 0) e.ok = false, e.error = val.substr(6);
      else ADD_FAILURE() << p << ": bad decode line " << line;
    } else if (key == "where") {
      e.where = val;
    } else if (key == "fact") {
      const auto eq = val.find('=');
      e.facts.emplace_back(trim(val.substr(0, eq)), eq == std::string::npos ? "" : trim(val.substr(eq + 1)));
    } else {
      ADD_FAILURE() << p << ": unknown line " << line;
    }
  }
  return e;
}

const std::map<std::string, errc>& errc_names() {
  static const std::map<std::string, errc> m{
      {"malformed_xml", errc::malformed_xml},     {"malformed_wbxml", errc::malformed_wbxml},
      {"unknown_element", errc::unknown_element}, {"missing_element", errc::missing_element},
      {"invalid_value", errc::invalid_value},     {"too_large", errc::too_large},
      {"too_deep", errc::too_deep},               {"unsupported_version", errc::unsupported_version},
      {"truncated", errc::truncated}};
  return m;
}

template <class T>
std::string opt(const std::optional<T>& v) {
  if (!v) return "none";
  if constexpr (std::is_same_v<T, std::string>) return *v;
  else return std::to_string(*v);
}

std::string meta_fact(const std::optional<Meta>& m, const std::string& k) {
  if (!m) return "none";
  if (k == "format") return opt(m->format);
  if (k == "type") return opt(m->type);
  if (k == "size") return opt(m->size);
  if (k == "next_nonce") return opt(m->next_nonce);
  if (k == "max_msg_size") return opt(m->max_msg_size);
  return "?" + k;
}

const std::vector<Item>* items_of(const Command& c) {
  if (auto* a = std::get_if<Alert>(&c.value)) return &a->items;
  if (auto* i = std::get_if<ItemCommand>(&c.value)) return &i->items;
  if (auto* s = std::get_if<Status>(&c.value)) return &s->items;
  if (auto* r = std::get_if<Results>(&c.value)) return &r->items;
  return nullptr;
}

std::string item_fact(const Item& it, const std::string& k) {
  if (k == "data") return opt(it.data);
  if (k == "source") return it.source ? it.source->loc_uri : "none";
  if (k == "target") return it.target ? it.target->loc_uri : "none";
  if (k.rfind("meta.", 0) == 0) return meta_fact(it.meta, k.substr(5));
  return "?" + k;
}

std::string command_fact(const Command& c, const std::string& k) {
  if (k == "kind") return command_name(c.kind());
  if (k == "cmd_id") return std::to_string(c.cmd_id());
  if (k == "items") return items_of(c) ? std::to_string(items_of(c)->size()) : "none";
  if (k.rfind("item[", 0) == 0) {
    const std::size_t idx = std::stoul(k.substr(5));
    const auto* items = items_of(c);
    if (!items || idx >= items->size()) return "none";
    return item_fact((*items)[idx], k.substr(k.find("].") + 2));
  }
  if (auto* a = std::get_if<Alert>(&c.value)) {
    if (k == "data") return opt(a->data);
  }
  if (auto* s = std::get_if<Status>(&c.value)) {
    if (k == "data") return std::to_string(s->data);
    if (k == "cmd") return s->cmd;
    if (k == "cmd_ref") return std::to_string(s->cmd_ref);
    if (k == "target_ref") return s->target_refs.empty() ? "none" : s->target_refs.front();
    if (k == "source_ref") return s->source_refs.empty() ? "none" : s->source_refs.front();
    if (k.rfind("chal.", 0) == 0) return s->chal ? meta_fact(s->chal->meta, k.substr(5)) : "none";
  }
  if (auto* i = std::get_if<ItemCommand>(&c.value)) {
    if (k.rfind("meta.", 0) == 0) return meta_fact(i->meta, k.substr(5));
  }
  return "?" + k;
}

std::string fact(const Message& m, const std::string& k) {
  if (k == "hdr.session_id") return m.hdr.session_id;
  if (k == "hdr.msg_id") return std::to_string(m.hdr.msg_id);
  if (k == "hdr.target") return m.hdr.target.loc_uri;
  if (k == "hdr.source") return m.hdr.source.loc_uri;
  if (k == "hdr.source_name") return opt(m.hdr.source.loc_name);
  if (k == "hdr.cred") return m.hdr.cred ? "present" : "none";
  if (k == "hdr.cred.type") return m.hdr.cred ? opt(m.hdr.cred->meta.type) : "none";
  if (k == "hdr.cred.format") return m.hdr.cred ? opt(m.hdr.cred->meta.format) : "none";
  if (k == "hdr.cred.data") return m.hdr.cred ? m.hdr.cred->data : "none";
  if (k.rfind("hdr.meta.", 0) == 0) return meta_fact(m.hdr.meta, k.substr(9));
  if (k == "body.size") return std::to_string(m.body.size());
  if (k == "final") return m.final ? "true" : "false";
  if (k.rfind("body[", 0) == 0) {
    const std::size_t idx = std::stoul(k.substr(5));
    if (idx >= m.body.size()) return "none";
    return command_fact(m.body[idx], k.substr(k.find("].") + 2));
  }
  return "?" + k;
}

using m2mdm::test::slurp_bytes;

class DmProtocolVectors : public ::testing::TestWithParam<std::string> {};

TEST_P(DmProtocolVectors, DecodesAsExpectedAndRoundTrips) {
  const fs::path file = kDir / GetParam();
  const Expectation exp = read_expect(fs::path(file).replace_extension(".expect"));
  const Bytes bytes = slurp_bytes(file);
  ASSERT_FALSE(bytes.empty());
  DecodeError err;
  auto m = decode(bytes, {}, &err);
  if (!exp.ok) {
    ASSERT_FALSE(m) << "expected error " << exp.error;
    const auto it = errc_names().find(exp.error);
    ASSERT_NE(it, errc_names().end()) << "unknown errc name " << exp.error;
    EXPECT_EQ(m.error(), make_error_code(it->second)) << err.what << " at " << err.where;
    if (!exp.where.empty()) {
      EXPECT_EQ(err.where.rfind(exp.where, 0), 0u) << err.where;
    }
    return;
  }
  ASSERT_TRUE(m) << err.what << " at " << err.where;
  for (const auto& [k, v] : exp.facts) EXPECT_EQ(fact(*m, k), v) << k;

  const Bytes xml = encode_xml(*m).value();
  const Message from_xml = decode_xml(xml).value();
  EXPECT_EQ(from_xml, *m);
  const Bytes wbxml = encode_wbxml(*m).value();
  DecodeError werr;
  auto from_wbxml = decode_wbxml(wbxml, {}, &werr);
  ASSERT_TRUE(from_wbxml) << werr.what << " at " << werr.where;
  EXPECT_EQ(*from_wbxml, *m);
  EXPECT_EQ(encode_xml(*from_wbxml).value(), xml);
}

INSTANTIATE_TEST_SUITE_P(Spec, DmProtocolVectors, ::testing::ValuesIn(vector_names()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string n = param.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace m2mdm::syncml
