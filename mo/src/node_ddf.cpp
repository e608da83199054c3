#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/node.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <climits>
#include <memory>
#include <string>

namespace m2mdm::mo {
namespace {

struct DocFree {
  void operator()(xmlDoc* d) const noexcept { xmlFreeDoc(d); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

std::string_view name_of(const xmlNode* n) { return reinterpret_cast<const char*>(n->name); }

bool is_element(const xmlNode* n, std::string_view name) {
  return n != nullptr && n->type == XML_ELEMENT_NODE && name_of(n) == name;
}

const xmlNode* child(const xmlNode* parent, std::string_view name) {
  for (const xmlNode* c = parent->children; c != nullptr; c = c->next) {
    if (is_element(c, name)) return c;
  }
  return nullptr;
}

const xmlNode* first_element(const xmlNode* parent) {
  for (const xmlNode* c = parent->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) return c;
  }
  return nullptr;
}

std::string text_of(const xmlNode* n) {
  if (n == nullptr) return {};
  xmlChar* t = xmlNodeGetContent(n);
  if (t == nullptr) return {};
  std::string_view v(reinterpret_cast<const char*>(t));
  // Trim XML whitespace.
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == '\r' || v.front() == '\n')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n')) v.remove_suffix(1);
  std::string out(v);
  xmlFree(t);
  return out;
}

bool walk(const xmlNode* node, const std::string& parent, int depth, std::vector<NodeRule>& out) {
  if (depth > 32) return false;
  const xmlNode* name = child(node, "NodeName");
  const xmlNode* props = child(node, "DFProperties");
  if (name == nullptr || props == nullptr) return false;
  std::string seg = text_of(name);
  if (seg.empty()) seg.assign(1, '*');  // DM_DDF 1.2: an empty NodeName is an unnamed (placeholder) node
  if (seg.find('/') != std::string::npos) return false;
  NodeRule r;
  r.pattern.reserve(parent.size() + 1 + seg.size());
  r.pattern.append(parent).append(1, '/').append(seg);
  r.access = 0;
  if (const xmlNode* acc = child(props, "AccessType")) {
    for (const xmlNode* a = acc->children; a != nullptr; a = a->next) {
      if (a->type != XML_ELEMENT_NODE) continue;
      const std::string_view n = name_of(a);
      if (n == "Add") r.access |= kAccessAdd;
      else if (n == "Copy") r.access |= kAccessCopy;
      else if (n == "Delete") r.access |= kAccessDelete;
      else if (n == "Exec") r.access |= kAccessExec;
      else if (n == "Get") r.access |= kAccessGet;
      else if (n == "Replace") r.access |= kAccessReplace;
      else return false;
    }
  }
  const xmlNode* fmt = child(props, "DFFormat");
  const xmlNode* f = fmt != nullptr ? first_element(fmt) : nullptr;
  if (f == nullptr) return false;
  const auto format = parse_format(name_of(f));
  if (!format) return false;
  r.format = *format;
  r.scope = Scope::Dynamic;  // DM_TND 1.2: unspecified Scope means dynamic
  if (const xmlNode* sc = child(props, "Scope")) {
    const xmlNode* s = first_element(sc);
    if (s == nullptr) return false;
    if (name_of(s) == "Permanent") r.scope = Scope::Permanent;
    else if (name_of(s) != "Dynamic") return false;
  }
  r.title = text_of(child(props, "DFTitle"));
  if (const xmlNode* type = child(props, "DFType")) {
    if (const xmlNode* t = first_element(type)) r.type = text_of(t);
  }
  out.push_back(std::move(r));
  const std::string path = out.back().pattern;
  for (const xmlNode* c = node->children; c != nullptr; c = c->next) {
    if (is_element(c, "Node") && !walk(c, path, depth + 1, out)) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<NodeRule>> rules_from_ddf(std::string_view ddf_xml) {
  if (ddf_xml.size() > INT_MAX) return fail(make_error_code(errc::malformed));
  // No network, no DTD loading, no entity substitution.
  DocPtr doc(xmlReadMemory(ddf_xml.data(), static_cast<int>(ddf_xml.size()), "ddf.xml", nullptr,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc) return fail(make_error_code(errc::malformed));
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!is_element(root, "MgmtTree")) return fail(make_error_code(errc::malformed));
  std::vector<NodeRule> rules;
  for (const xmlNode* c = root->children; c != nullptr; c = c->next) {
    if (is_element(c, "Node") && !walk(c, ".", 0, rules)) return fail(make_error_code(errc::malformed));
  }
  return rules;
}

}  // namespace m2mdm::mo
