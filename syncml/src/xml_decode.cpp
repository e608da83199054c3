// XML decoding: the tree's hardened reader (xml_reader.hpp: size and depth bounds, NONET, no
// DTD loading, every DTD declaration and non-predefined entity reference refused, libxml2's
// messages captured) gives an element tree, which is turned into the codec's element tree and
// walked into the model strictly.
#include "codec_internal.hpp"
#include "m2mdm/syncml/xml_reader.hpp"

#include <string>

namespace m2mdm::syncml {
namespace {

using detail::Node;
using detail::Space;
using detail::Tag;

bool iequals(std::string_view s, std::string_view b) {
  if (s.size() != b.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto lc = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lc(s[i]) != lc(b[i])) return false;
  }
  return true;
}

constexpr std::string_view kNsSyncml = "SYNCML:SYNCML1.2";
constexpr std::string_view kNsMetinf = "syncml:metinf";

bool is_ws_only(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  return true;
}

void convert(XmlNode& x, Node& n) {
  n.name = std::move(x.name);
  if (x.ns.empty()) n.space = Space::None;
  else if (iequals(x.ns, kNsSyncml)) n.space = Space::SyncML;
  else if (iequals(x.ns, kNsMetinf)) n.space = Space::MetInf;
  else n.space = Space::Other;
  switch (n.space) {
    case Space::MetInf: n.tag = detail::tag_from_name(n.name, 1); break;
    case Space::None:
    case Space::SyncML:
      n.tag = detail::tag_from_name(n.name, 0);
      if (n.tag == Tag::Unknown) n.tag = detail::tag_from_name(n.name, 1);  // MetInf without xmlns
      break;
    case Space::Other: n.tag = Tag::Unknown; break;
  }
  for (XmlNode& c : x.children) {
    switch (c.kind) {
      case XmlNode::Kind::element:
        n.children.emplace_back();
        convert(c, n.children.back());
        break;
      case XmlNode::Kind::text:  // CDATA arrives as text
        n.text += c.text;
        if (!n.has_text && !is_ws_only(c.text)) n.has_text = true;
        break;
      default:  // comments, processing instructions
        break;
    }
  }
}

}  // namespace

Result<Message> decode_xml(ByteView bytes, const DecodeLimits& limits, DecodeError* error) {
  using detail::decode_fail;
  const XmlLimits xml_limits{limits.max_bytes, limits.max_depth};
  auto root = read_xml(as_chars(bytes), xml_limits, error);
  if (!root) return std::unexpected(root.error());
  if (!root->ns.empty() && !iequals(root->ns, kNsSyncml)) {
    const std::string& ns = root->ns;
    const bool other_syncml = ns.size() > 13 && iequals(ns.substr(0, 13), "SYNCML:SYNCML");
    return decode_fail(error, other_syncml ? errc::unsupported_version : errc::unknown_element,
                       "namespace '" + ns + "' (expected SYNCML:SYNCML1.2)", root->name);
  }
  Node tree;
  convert(*root, tree);
  *root = XmlNode{};  // free the reader's tree before the model is built
  return detail::build_message(tree, limits, error);
}

}  // namespace m2mdm::syncml
