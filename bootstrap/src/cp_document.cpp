// OMA CP document model and its XML codec (OMA-WAP-ProvCont 1.1 §5, the PROV 1.0 DTD).
#include "m2mdm/bootstrap/cp_document.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <memory>

namespace m2mdm::bootstrap {

const Parm* Characteristic::find_parm(std::string_view name) const noexcept {
  for (const auto& p : parms)
    if (p.name == name) return &p;
  return nullptr;
}

std::optional<std::string> Characteristic::value_of(std::string_view name) const {
  const Parm* p = find_parm(name);
  if (p == nullptr) return std::nullopt;
  return p->value;
}

std::vector<const Characteristic*> Characteristic::children_of(std::string_view t) const {
  std::vector<const Characteristic*> out;
  for (const auto& c : children)
    if (c.type == t) out.push_back(&c);
  return out;
}

Characteristic& Characteristic::add(std::string name, std::optional<std::string> value) {
  parms.push_back(Parm{std::move(name), std::move(value)});
  return *this;
}

std::vector<const Characteristic*> ProvisioningDoc::of_type(std::string_view t) const {
  std::vector<const Characteristic*> out;
  for (const auto& c : characteristics)
    if (c.type == t) out.push_back(&c);
  return out;
}

// ---------------------------------------------------------------------------------------------
// XML writer
namespace {

void escape_into(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\t': out += "&#9;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      default: out += c;
    }
  }
}

void write_characteristic(std::string& out, const Characteristic& c, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  out += pad + "<characteristic type=\"";
  escape_into(out, c.type);
  out += "\">\n";
  for (const auto& p : c.parms) {
    out += pad + "  <parm name=\"";
    escape_into(out, p.name);
    out += '"';
    if (p.value) {
      out += " value=\"";
      escape_into(out, *p.value);
      out += '"';
    }
    out += "/>\n";
  }
  for (const auto& child : c.children) write_characteristic(out, child, indent + 1);
  out += pad + "</characteristic>\n";
}

}  // namespace

std::string to_cp_xml(const ProvisioningDoc& doc) {
  std::string out =
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE wap-provisioningdoc PUBLIC \"-//WAPFORUM//DTD PROV 1.0//EN\" "
      "\"http://www.wapforum.org/DTD/prov.dtd\">\n"
      "<wap-provisioningdoc";
  if (doc.version) {
    out += " version=\"";
    escape_into(out, *doc.version);
    out += '"';
  }
  out += ">\n";
  for (const auto& c : doc.characteristics) write_characteristic(out, c, 1);
  out += "</wap-provisioningdoc>\n";
  return out;
}

// ---------------------------------------------------------------------------------------------
// XML parser (libxml2)
namespace {

struct XmlDocFree {
  void operator()(xmlDoc* d) const noexcept { xmlFreeDoc(d); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocFree>;

std::string_view name_of(const xmlNode* n) {
  return n->name != nullptr ? std::string_view(reinterpret_cast<const char*>(n->name)) : std::string_view{};
}

/// The value of attribute @p name on @p n, if present (no entity expansion happens: the parser
/// runs without XML_PARSE_NOENT and we refuse entity references below).
std::optional<std::string> attr(const xmlNode* n, const char* name) {
  for (const xmlAttr* a = n->properties; a != nullptr; a = a->next) {
    if (name_of(reinterpret_cast<const xmlNode*>(a)) != name) continue;
    std::string v;
    for (const xmlNode* t = a->children; t != nullptr; t = t->next) {
      if (t->type != XML_TEXT_NODE) return std::nullopt;  // entity reference inside a value
      if (t->content != nullptr) v += reinterpret_cast<const char*>(t->content);
    }
    return v;
  }
  return std::nullopt;
}

bool only_known_attrs(const xmlNode* n, std::initializer_list<std::string_view> allowed) {
  for (const xmlAttr* a = n->properties; a != nullptr; a = a->next) {
    bool ok = false;
    for (auto s : allowed) ok = ok || name_of(reinterpret_cast<const xmlNode*>(a)) == s;
    if (!ok) return false;
  }
  return true;
}

bool is_blank_text(const xmlNode* n) {
  if (n->content == nullptr) return true;
  for (const xmlChar* p = n->content; *p != 0; ++p)
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') return false;
  return true;
}

struct Walker {
  const CpLimits& limits;
  std::size_t nodes = 0;

  Result<Characteristic> characteristic(const xmlNode* el, std::size_t depth) {
    if (depth > limits.max_depth) return fail(errc::cp_too_deep);
    if (++nodes > limits.max_nodes) return fail(errc::cp_too_large);
    auto type = attr(el, "type");
    if (!type || type->empty() || !only_known_attrs(el, {"type"})) return fail(errc::cp_bad_xml);
    Characteristic c;
    c.type = std::move(*type);
    for (const xmlNode* n = el->children; n != nullptr; n = n->next) {
      switch (n->type) {
        case XML_ELEMENT_NODE:
          if (name_of(n) == "parm") {
            if (++nodes > limits.max_nodes) return fail(errc::cp_too_large);
            auto name = attr(n, "name");
            if (!name || name->empty() || n->children != nullptr || !only_known_attrs(n, {"name", "value"}))
              return fail(errc::cp_bad_xml);
            const bool has_value = xmlHasProp(n, reinterpret_cast<const xmlChar*>("value")) != nullptr;
            std::optional<std::string> value;
            if (has_value) {
              value = attr(n, "value");
              if (!value) return fail(errc::cp_bad_xml);
            }
            c.parms.push_back(Parm{std::move(*name), std::move(value)});
          } else if (name_of(n) == "characteristic") {
            auto child = characteristic(n, depth + 1);
            if (!child) return fail(child.error());
            c.children.push_back(std::move(*child));
          } else {
            return fail(errc::cp_bad_xml);
          }
          break;
        case XML_TEXT_NODE:
          if (!is_blank_text(n)) return fail(errc::cp_bad_xml);
          break;
        case XML_COMMENT_NODE:
          break;
        default:  // entity references, CDATA, PIs: not PROV content
          return fail(errc::cp_bad_xml);
      }
    }
    return c;
  }
};

}  // namespace

Result<ProvisioningDoc> parse_cp_xml(std::string_view xml, const CpLimits& limits) {
  if (xml.size() > limits.max_bytes) return fail(errc::cp_too_large);
  if (xml.size() > static_cast<std::size_t>(INT32_MAX)) return fail(errc::cp_too_large);
  // No NOENT (no entity substitution), no DTDLOAD/DTDATTR (no external DTD), NONET.
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
  XmlDocPtr doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "cp.xml", nullptr, options));
  if (!doc) return fail(errc::cp_bad_xml);
  // An internal subset could declare entities; PROV documents never need one.
  if (doc->intSubset != nullptr && doc->intSubset->children != nullptr) return fail(errc::cp_bad_xml);
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr || name_of(root) != "wap-provisioningdoc" || !only_known_attrs(root, {"version"}))
    return fail(errc::cp_bad_xml);
  ProvisioningDoc out;
  if (xmlHasProp(root, reinterpret_cast<const xmlChar*>("version")) != nullptr) {
    out.version = attr(root, "version");
    if (!out.version) return fail(errc::cp_bad_xml);
  }
  Walker w{limits};
  for (const xmlNode* n = root->children; n != nullptr; n = n->next) {
    if (n->type == XML_ELEMENT_NODE) {
      if (name_of(n) != "characteristic") return fail(errc::cp_bad_xml);
      auto c = w.characteristic(n, 1);
      if (!c) return fail(c.error());
      out.characteristics.push_back(std::move(*c));
    } else if (n->type == XML_TEXT_NODE) {
      if (!is_blank_text(n)) return fail(errc::cp_bad_xml);
    } else if (n->type != XML_COMMENT_NODE) {
      return fail(errc::cp_bad_xml);
    }
  }
  return out;
}

}  // namespace m2mdm::bootstrap
