// OMA CP document model and its XML codec (OMA-WAP-ProvCont 1.1 §5, the PROV 1.0 DTD).
#include "m2mdm/bootstrap/cp_document.hpp"

#include "m2mdm/syncml/xml_reader.hpp"

#include "xml_escape.hpp"

#include <climits>
#include <initializer_list>

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
  detail::escape_xml_into(out, s, detail::XmlEscape::attribute);  // every string goes into an attribute
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
// XML parser (the tree's hardened reader, m2mdm/syncml/xml_reader.hpp)
namespace {

using syncml::XmlNode;

/// The value of attribute @p name on @p n, if present (no entity is ever expanded: the reader
/// refuses every entity reference other than the predefined ones).
std::optional<std::string> attr(const XmlNode& n, std::string_view name) {
  if (const auto* a = n.attribute(name)) return a->value;
  return std::nullopt;
}

bool only_known_attrs(const XmlNode& n, std::initializer_list<std::string_view> allowed) {
  for (const auto& a : n.attributes) {
    bool ok = false;
    for (auto s : allowed) ok = ok || a.name == s;
    if (!ok) return false;
  }
  return true;
}

bool is_blank_text(const XmlNode& n) {
  for (char c : n.text)
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  return true;
}

struct Walker {
  const CpLimits& limits;
  std::size_t nodes = 0;

  Result<Characteristic> characteristic(const XmlNode& el, std::size_t depth) {
    if (depth > limits.max_depth) return fail(errc::cp_too_deep);
    if (++nodes > limits.max_nodes) return fail(errc::cp_too_large);
    auto type = attr(el, "type");
    if (!type || type->empty() || !only_known_attrs(el, {"type"})) return fail(errc::cp_bad_xml);
    Characteristic c;
    c.type = std::move(*type);
    for (const XmlNode& n : el.children) {
      switch (n.kind) {
        case XmlNode::Kind::element:
          if (n.name == "parm") {
            if (++nodes > limits.max_nodes) return fail(errc::cp_too_large);
            auto name = attr(n, "name");
            if (!name || name->empty() || !n.children.empty() || !only_known_attrs(n, {"name", "value"}))
              return fail(errc::cp_bad_xml);
            c.parms.push_back(Parm{std::move(*name), attr(n, "value")});
          } else if (n.name == "characteristic") {
            auto child = characteristic(n, depth + 1);
            if (!child) return fail(child.error());
            c.children.push_back(std::move(*child));
          } else {
            return fail(errc::cp_bad_xml);
          }
          break;
        case XmlNode::Kind::text:
          if (!is_blank_text(n)) return fail(errc::cp_bad_xml);
          break;
        case XmlNode::Kind::comment:
          break;
        default:  // processing instructions: not PROV content
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
  // Any DTD declaration (PROV documents never need one), entity reference or libxml2 error, and
  // nesting past libxml2's own bound, is cp_bad_xml; our depth and node bounds are the walker's.
  auto root = syncml::read_xml(xml, syncml::XmlLimits{xml.size(), syncml::XmlLimits{}.max_depth});
  if (!root) return fail(errc::cp_bad_xml);
  if (root->name != "wap-provisioningdoc" || !only_known_attrs(*root, {"version"})) return fail(errc::cp_bad_xml);
  ProvisioningDoc out;
  out.version = attr(*root, "version");
  Walker w{limits};
  for (const XmlNode& n : root->children) {
    if (n.kind == XmlNode::Kind::element) {
      if (n.name != "characteristic") return fail(errc::cp_bad_xml);
      auto c = w.characteristic(n, 1);
      if (!c) return fail(c.error());
      out.characteristics.push_back(std::move(*c));
    } else if (n.kind == XmlNode::Kind::text) {
      if (!is_blank_text(n)) return fail(errc::cp_bad_xml);
    } else if (n.kind != XmlNode::Kind::comment) {
      return fail(errc::cp_bad_xml);
    }
  }
  return out;
}

}  // namespace m2mdm::bootstrap
