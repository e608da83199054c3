// XML decoding: the tree's hardened reader (xml_reader.hpp: size and depth bounds, NONET, no
// DTD loading, every DTD declaration and non-predefined entity reference refused, libxml2's
// messages captured) reports elements and text as it parses; they build the codec's element tree
// directly, which is walked into the model strictly.
#include "codec_internal.hpp"
#include "m2mdm/syncml/xml_reader.hpp"

#include <string>
#include <string_view>
#include <vector>

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

Space space_of(std::string_view ns) {
  if (ns.empty()) return Space::None;
  if (iequals(ns, kNsSyncml)) return Space::SyncML;
  if (iequals(ns, kNsMetinf)) return Space::MetInf;
  return Space::Other;
}

/// Builds the codec's element tree straight from the reader's events: one tree per message, no
/// DOM and no intermediate copy.
class NodeBuilder final : public XmlEvents {
 public:
  Node root;
  std::string root_ns;
  std::string root_name;

  void start_element(std::string_view local, std::string_view ns) override {
    Node* n = &root;
    if (open_.empty()) {
      root_ns = ns;
      root_name = local;
    } else {
      // Only the innermost open element gains children, so the pointers to the open ones stay valid.
      n = &open_.back()->children.emplace_back();
    }
    n->name = local;
    // Most elements are in the namespace of the one before: compared by content (the reader's
    // contract says nothing of how long its views live or whether equal URIs share storage).
    if (ns != last_ns_) {
      last_ns_.assign(ns);  // no allocation once the longest URI seen fits
      last_space_ = space_of(ns);
    }
    n->space = last_space_;
    switch (n->space) {
      case Space::MetInf: n->tag = detail::tag_from_name(local, 1); break;
      case Space::None:
      case Space::SyncML:
        n->tag = detail::tag_from_name(local, 0);
        if (n->tag == Tag::Unknown) n->tag = detail::tag_from_name(local, 1);  // MetInf without xmlns
        break;
      case Space::Other: n->tag = Tag::Unknown; break;
    }
    open_.push_back(n);
  }
  void end_element() override {
    if (!open_.empty()) open_.pop_back();
  }
  void text(std::string_view chars) override {  // CDATA arrives as text
    if (open_.empty()) return;
    Node& n = *open_.back();
    n.text += chars;
    if (!n.has_text && !is_ws_only(chars)) n.has_text = true;
  }

 private:
  std::vector<Node*> open_;
  std::string last_ns_;  // the namespace URI of the last element started
  Space last_space_ = Space::None;
};

}  // namespace

Result<Message> decode_xml(ByteView bytes, const DecodeLimits& limits, DecodeError* error) {
  using detail::decode_fail;
  const XmlLimits xml_limits{limits.max_bytes, limits.max_depth};
  NodeBuilder tree;
  auto read = read_xml_events(as_chars(bytes), xml_limits, tree, error);
  if (!read) return std::unexpected(read.error());
  if (!tree.root_ns.empty() && !iequals(tree.root_ns, kNsSyncml)) {
    const std::string& ns = tree.root_ns;
    const bool other_syncml = ns.size() > 13 && iequals(ns.substr(0, 13), "SYNCML:SYNCML");
    return decode_fail(error, other_syncml ? errc::unsupported_version : errc::unknown_element,
                       "namespace '" + ns + "' (expected SYNCML:SYNCML1.2)", tree.root_name);
  }
  return detail::build_message(tree.root, limits, error);
}

}  // namespace m2mdm::syncml
