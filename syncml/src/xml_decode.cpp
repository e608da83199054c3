// XML decoding on libxml2, hardened for network input:
//  - size checked before parsing (DecodeLimits::max_bytes);
//  - XML_PARSE_NONET, and never NOENT / DTDLOAD / DTDATTR / HUGE;
//  - any declaration in a DOCTYPE internal subset (ENTITY, ELEMENT, ATTLIST, NOTATION) and any
//    entity reference other than the five predefined ones stops the parser: "billion laughs" and
//    XXE documents fail with malformed_xml before anything is expanded or fetched;
//  - element depth is counted in the SAX start callback, so the parser stops at max_depth;
//  - libxml2's own messages are captured (structured error handler), never printed.
// The DOM is then turned into the codec's element tree and walked into the model strictly.
#include "codec_internal.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <climits>
#include <memory>
#include <string>

namespace m2mdm::syncml {
namespace {

using detail::Node;
using detail::Space;
using detail::Tag;

struct Guard {
  std::size_t depth = 0;
  std::size_t max_depth = 0;
  bool too_deep = false;
  std::string forbidden;   // set when a DTD declaration or entity reference was seen
  std::string first_error;
  int error_line = 0;
  int error_col = 0;
  startElementNsSAX2Func start = nullptr;
  endElementNsSAX2Func end = nullptr;
};

Guard& guard_of(void* ctx) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  return *static_cast<Guard*>(ctxt->_private);
}

void forbid(void* ctx, std::string what) {
  Guard& g = guard_of(ctx);
  if (g.forbidden.empty()) g.forbidden = std::move(what);
  xmlStopParser(static_cast<xmlParserCtxtPtr>(ctx));
}

void on_entity_decl(void* ctx, const xmlChar*, int, const xmlChar*, const xmlChar*, xmlChar*) {
  forbid(ctx, "entity declarations are not allowed (DOCTYPE internal subset)");
}
void on_element_decl(void* ctx, const xmlChar*, int, xmlElementContentPtr) {
  forbid(ctx, "element declarations are not allowed (DOCTYPE internal subset)");
}
void on_attribute_decl(void* ctx, const xmlChar*, const xmlChar*, int, int, const xmlChar*, xmlEnumerationPtr tree) {
  if (tree) xmlFreeEnumeration(tree);  // ownership passes to the handler
  forbid(ctx, "attribute declarations are not allowed (DOCTYPE internal subset)");
}
void on_notation_decl(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  forbid(ctx, "notation declarations are not allowed (DOCTYPE internal subset)");
}
void on_unparsed_entity_decl(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*, const xmlChar*) {
  forbid(ctx, "entity declarations are not allowed (DOCTYPE internal subset)");
}
void on_reference(void* ctx, const xmlChar* name) {
  forbid(ctx, std::string("entity reference &") + reinterpret_cast<const char*>(name) + "; is not allowed");
}
xmlEntityPtr on_get_entity(void* ctx, const xmlChar* name) {
  // Only the predefined entities (&lt; &gt; &amp; &apos; &quot;) are resolved, by libxml2 itself.
  forbid(ctx, std::string("entity reference &") + reinterpret_cast<const char*>(name) + "; is not allowed");
  return nullptr;
}
xmlParserInputPtr on_resolve_entity(void* ctx, const xmlChar*, const xmlChar*) {
  forbid(ctx, "external entities are not allowed");
  return nullptr;
}
void on_external_subset(void*, const xmlChar*, const xmlChar*, const xmlChar*) {
  // A DOCTYPE with an external id is tolerated but never loaded.
}

void on_start(void* ctx, const xmlChar* localname, const xmlChar* prefix, const xmlChar* uri, int nb_namespaces,
              const xmlChar** namespaces, int nb_attributes, int nb_defaulted, const xmlChar** attributes) {
  Guard& g = guard_of(ctx);
  if (++g.depth > g.max_depth) {
    g.too_deep = true;
    xmlStopParser(static_cast<xmlParserCtxtPtr>(ctx));
    return;
  }
  g.start(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes, nb_defaulted, attributes);
}

void on_end(void* ctx, const xmlChar* localname, const xmlChar* prefix, const xmlChar* uri) {
  Guard& g = guard_of(ctx);
  if (g.depth > 0) --g.depth;
  g.end(ctx, localname, prefix, uri);
}

void on_error(void* ctx, xmlErrorPtr err) {
  if (!ctx || !err) return;
  Guard& g = guard_of(ctx);
  if (err->level < XML_ERR_ERROR || !g.first_error.empty()) return;
  g.first_error = err->message ? err->message : "XML error";
  while (!g.first_error.empty() && (g.first_error.back() == '\n' || g.first_error.back() == ' '))
    g.first_error.pop_back();
  g.error_line = err->line;
  g.error_col = err->int2;
}

struct CtxtDeleter {
  void operator()(xmlParserCtxtPtr c) const { xmlFreeParserCtxt(c); }
};
struct DocDeleter {
  void operator()(xmlDocPtr d) const { xmlFreeDoc(d); }
};

bool iequals(const xmlChar* a, std::string_view b) {
  if (!a) return false;
  std::string_view s(reinterpret_cast<const char*>(a));
  if (s.size() != b.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto lc = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lc(s[i]) != lc(b[i])) return false;
  }
  return true;
}

constexpr std::string_view kNsSyncml = "SYNCML:SYNCML1.2";
constexpr std::string_view kNsMetinf = "syncml:metinf";

bool is_ws_only(const char* s) {
  for (; *s; ++s)
    if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return false;
  return true;
}

void convert(xmlNodePtr x, Node& n) {
  n.name = reinterpret_cast<const char*>(x->name);
  const xmlChar* href = x->ns ? x->ns->href : nullptr;
  if (!href) n.space = Space::None;
  else if (iequals(href, kNsSyncml)) n.space = Space::SyncML;
  else if (iequals(href, kNsMetinf)) n.space = Space::MetInf;
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
  for (xmlNodePtr c = x->children; c; c = c->next) {
    switch (c->type) {
      case XML_ELEMENT_NODE:
        n.children.emplace_back();
        convert(c, n.children.back());
        break;
      case XML_TEXT_NODE:
      case XML_CDATA_SECTION_NODE:
        if (c->content) {
          const char* t = reinterpret_cast<const char*>(c->content);
          n.text += t;
          if (!n.has_text && !is_ws_only(t)) n.has_text = true;
        }
        break;
      default:  // comments, processing instructions
        break;
    }
  }
}

}  // namespace

Result<Message> decode_xml(ByteView bytes, const DecodeLimits& limits, DecodeError* error) {
  using detail::decode_fail;
  if (bytes.size() > limits.max_bytes || bytes.size() > static_cast<std::size_t>(INT_MAX))
    return decode_fail(error, errc::too_large,
                       "message of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                           std::to_string(limits.max_bytes),
                       "byte " + std::to_string(limits.max_bytes));
  if (bytes.empty()) return decode_fail(error, errc::malformed_xml, "empty document", "byte 0");

  std::unique_ptr<xmlParserCtxt, CtxtDeleter> ctxt(xmlNewParserCtxt());
  if (!ctxt || !ctxt->sax) return decode_fail(error, errc::malformed_xml, "cannot create an XML parser", "");
  Guard g;
  g.max_depth = limits.max_depth;
  ctxt->_private = &g;
  xmlSAXHandler* sax = ctxt->sax;
  g.start = sax->startElementNs;
  g.end = sax->endElementNs;
  sax->startElementNs = on_start;
  sax->endElementNs = on_end;
  sax->entityDecl = on_entity_decl;
  sax->elementDecl = on_element_decl;
  sax->attributeDecl = on_attribute_decl;
  sax->notationDecl = on_notation_decl;
  sax->unparsedEntityDecl = on_unparsed_entity_decl;
  sax->reference = on_reference;
  sax->getEntity = on_get_entity;
  sax->getParameterEntity = on_get_entity;
  sax->resolveEntity = on_resolve_entity;
  sax->externalSubset = on_external_subset;
  sax->serror = on_error;
  sax->error = nullptr;
  sax->warning = nullptr;

  const int options = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT;
  std::unique_ptr<xmlDoc, DocDeleter> doc(xmlCtxtReadMemory(ctxt.get(), reinterpret_cast<const char*>(bytes.data()),
                                                            static_cast<int>(bytes.size()), nullptr, nullptr, options));
  const std::string at = "line " + std::to_string(ctxt->input ? ctxt->input->line : 0);
  if (!g.forbidden.empty()) return decode_fail(error, errc::malformed_xml, g.forbidden, at);
  if (g.too_deep)
    return decode_fail(error, errc::too_deep,
                       "elements nested deeper than " + std::to_string(limits.max_depth), at);
  if (!doc || !ctxt->wellFormed) {
    std::string why = g.first_error.empty() ? std::string("not well-formed XML") : g.first_error;
    std::string where = g.error_line > 0
                            ? "line " + std::to_string(g.error_line) + ":" + std::to_string(g.error_col)
                            : at;
    return decode_fail(error, errc::malformed_xml, std::move(why), std::move(where));
  }
  // A DOCTYPE may be present (it is never loaded) but must declare nothing.
  if (doc->intSubset && doc->intSubset->children)
    return decode_fail(error, errc::malformed_xml, "DOCTYPE declarations are not allowed", "DOCTYPE");

  xmlNodePtr root = xmlDocGetRootElement(doc.get());
  if (!root) return decode_fail(error, errc::malformed_xml, "no root element", at);
  if (root->ns && root->ns->href && !iequals(root->ns->href, kNsSyncml)) {
    const std::string ns = reinterpret_cast<const char*>(root->ns->href);
    const bool other_syncml = ns.size() > 13 && iequals(reinterpret_cast<const xmlChar*>(ns.substr(0, 13).c_str()),
                                                        "SYNCML:SYNCML");
    return decode_fail(error, other_syncml ? errc::unsupported_version : errc::unknown_element,
                       "namespace '" + ns + "' (expected SYNCML:SYNCML1.2)",
                       reinterpret_cast<const char*>(root->name));
  }
  Node tree;
  convert(root, tree);
  doc.reset();
  return detail::build_message(tree, limits, error);
}

}  // namespace m2mdm::syncml
