#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/node.hpp"

#include "m2mdm/syncml/xml_reader.hpp"

#include <climits>
#include <string>

namespace m2mdm::mo {
namespace {

using syncml::XmlNode;

/// The element's text content (all descendant text), XML whitespace trimmed; "" for nullptr.
std::string text_of(const XmlNode* n) {
  if (n == nullptr) return {};
  const std::string t = n->text_content();
  std::string_view v(t);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == '\r' || v.front() == '\n')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n')) v.remove_suffix(1);
  return std::string(v);
}

bool walk(const XmlNode& node, const std::string& parent, int depth, std::vector<NodeRule>& out) {
  if (depth > 32) return false;
  const XmlNode* name = node.child("NodeName");
  const XmlNode* props = node.child("DFProperties");
  if (name == nullptr || props == nullptr) return false;
  std::string seg = text_of(name);
  if (seg.empty()) seg.assign(1, '*');  // DM_DDF 1.2: an empty NodeName is an unnamed (placeholder) node
  if (seg.find('/') != std::string::npos) return false;
  NodeRule r;
  r.pattern.reserve(parent.size() + 1 + seg.size());
  r.pattern.append(parent).append(1, '/').append(seg);
  r.access = 0;
  if (const XmlNode* acc = props->child("AccessType")) {
    for (const XmlNode& a : acc->children) {
      if (!a.is_element()) continue;
      const std::string_view n = a.name;
      if (n == "Add") r.access |= kAccessAdd;
      else if (n == "Copy") r.access |= kAccessCopy;
      else if (n == "Delete") r.access |= kAccessDelete;
      else if (n == "Exec") r.access |= kAccessExec;
      else if (n == "Get") r.access |= kAccessGet;
      else if (n == "Replace") r.access |= kAccessReplace;
      else return false;
    }
  }
  const XmlNode* fmt = props->child("DFFormat");
  const XmlNode* f = fmt != nullptr ? fmt->first_element() : nullptr;
  if (f == nullptr) return false;
  const auto format = parse_format(f->name);
  if (!format) return false;
  r.format = *format;
  r.scope = Scope::Dynamic;  // DM_TND 1.2: unspecified Scope means dynamic
  if (const XmlNode* sc = props->child("Scope")) {
    const XmlNode* s = sc->first_element();
    if (s == nullptr) return false;
    if (s->name == "Permanent") r.scope = Scope::Permanent;
    else if (s->name != "Dynamic") return false;
  }
  r.title = text_of(props->child("DFTitle"));
  if (const XmlNode* type = props->child("DFType")) {
    if (const XmlNode* t = type->first_element()) r.type = text_of(t);
  }
  out.push_back(std::move(r));
  const std::string path = out.back().pattern;
  for (const XmlNode& c : node.children) {
    if (c.is_element("Node") && !walk(c, path, depth + 1, out)) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<NodeRule>> rules_from_ddf(std::string_view ddf_xml) {
  if (ddf_xml.size() > INT_MAX) return fail(make_error_code(errc::malformed));
  // The tree's hardened reader: no network, no DTD loading, no DTD declaration, no entity.
  auto root = syncml::read_xml(ddf_xml, syncml::XmlLimits{ddf_xml.size(), syncml::XmlLimits{}.max_depth});
  if (!root) return fail(make_error_code(errc::malformed));
  if (!root->is_element("MgmtTree")) return fail(make_error_code(errc::malformed));
  std::vector<NodeRule> rules;
  for (const XmlNode& c : root->children) {
    if (c.is_element("Node") && !walk(c, ".", 0, rules)) return fail(make_error_code(errc::malformed));
  }
  return rules;
}

}  // namespace m2mdm::mo
