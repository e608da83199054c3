// The one libxml2 reader of the tree (see xml_reader.hpp for what it guarantees). libxml2 builds
// its DOM under SAX hooks that refuse every DTD declaration and entity reference and count
// depth; the DOM is then copied into XmlNode and freed. read_xml_events runs the same parse with
// the element and text hooks reporting to XmlEvents, so that no DOM is built at all.
#include "m2mdm/syncml/xml_reader.hpp"

#include "codec_internal.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <climits>
#include <memory>
#include <mutex>
#include <string>

namespace m2mdm::syncml {

// ---------------------------------------------------------------------------------------------
// XmlNode helpers

const XmlNode* XmlNode::child(std::string_view local) const noexcept {
  for (const auto& c : children)
    if (c.is_element(local)) return &c;
  return nullptr;
}

const XmlNode* XmlNode::first_element() const noexcept {
  for (const auto& c : children)
    if (c.is_element()) return &c;
  return nullptr;
}

const XmlAttribute* XmlNode::attribute(std::string_view local) const noexcept {
  for (const auto& a : attributes)
    if (a.name == local) return &a;
  return nullptr;
}

std::string XmlNode::direct_text() const {
  std::string out;
  for (const auto& c : children)
    if (c.kind == Kind::text) out += c.text;
  return out;
}

namespace {
void append_text_content(const XmlNode& n, std::string& out) {
  for (const auto& c : n.children) {
    if (c.kind == XmlNode::Kind::text) out += c.text;
    else if (c.kind == XmlNode::Kind::element) append_text_content(c, out);
  }
}
}  // namespace

std::string XmlNode::text_content() const {
  std::string out;
  append_text_content(*this, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The hardened parse
namespace {

struct Guard {
  std::size_t depth = 0;
  std::size_t max_depth = 0;
  bool too_deep = false;
  std::string forbidden;  // set when a DTD declaration or entity reference was seen
  std::string first_error;
  int error_line = 0;
  int error_col = 0;
  startElementNsSAX2Func start = nullptr;
  endElementNsSAX2Func end = nullptr;
  XmlEvents* events = nullptr;  // read_xml_events: where elements and text go (no DOM is built)
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

std::string_view view(const xmlChar* s) {
  return s != nullptr ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view();
}

void on_event_start(void* ctx, const xmlChar* localname, const xmlChar*, const xmlChar* uri, int, const xmlChar**, int,
                    int, const xmlChar**) {
  guard_of(ctx).events->start_element(view(localname), view(uri));
}
void on_event_end(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) { guard_of(ctx).events->end_element(); }
void on_event_text(void* ctx, const xmlChar* chars, int len) {
  if (len > 0) guard_of(ctx).events->text(std::string_view(reinterpret_cast<const char*>(chars), static_cast<std::size_t>(len)));
}

struct CtxtDeleter {
  void operator()(xmlParserCtxtPtr c) const noexcept { xmlFreeParserCtxt(c); }
};
struct DocDeleter {
  void operator()(xmlDocPtr d) const noexcept { xmlFreeDoc(d); }
};

std::string str(const xmlChar* s) { return s != nullptr ? std::string(reinterpret_cast<const char*>(s)) : std::string(); }

/// Copies libxml2's element @p x into @p out; false on a node kind we never accept.
bool convert(const xmlNode* x, XmlNode& out) {
  out.kind = XmlNode::Kind::element;
  out.name = str(x->name);
  out.ns = x->ns != nullptr ? str(x->ns->href) : std::string();
  for (const xmlAttr* a = x->properties; a != nullptr; a = a->next) {
    XmlAttribute attr{str(a->name), a->ns != nullptr ? str(a->ns->href) : std::string(), {}};
    for (const xmlNode* t = a->children; t != nullptr; t = t->next) {
      if (t->type != XML_TEXT_NODE) return false;  // an entity reference inside a value
      if (t->content != nullptr) attr.value += reinterpret_cast<const char*>(t->content);
    }
    out.attributes.push_back(std::move(attr));
  }
  for (const xmlNode* c = x->children; c != nullptr; c = c->next) {
    switch (c->type) {
      case XML_ELEMENT_NODE:
        out.children.emplace_back();
        if (!convert(c, out.children.back())) return false;
        break;
      case XML_TEXT_NODE:
      case XML_CDATA_SECTION_NODE:
        out.children.push_back(XmlNode{XmlNode::Kind::text, {}, {}, str(c->content), {}, {}});
        break;
      case XML_COMMENT_NODE:
        out.children.push_back(XmlNode{XmlNode::Kind::comment, {}, {}, str(c->content), {}, {}});
        break;
      case XML_PI_NODE:
        out.children.push_back(XmlNode{XmlNode::Kind::processing_instruction, str(c->name), {}, str(c->content), {}, {}});
        break;
      default:  // entity references, XInclude markers: never produced with our hooks and options
        return false;
    }
  }
  return true;
}


/// The one hardened parse: the DOM (for read_xml) when @p events is null, else only @p events.
/// The returned document is the DOM, or an empty one that holds the DOCTYPE if there was one.
Result<std::unique_ptr<xmlDoc, DocDeleter>> parse(std::string_view document, const XmlLimits& limits, XmlEvents* events,
                                                  DecodeError* error) {
  using detail::decode_fail;
  if (document.size() > limits.max_bytes || document.size() > static_cast<std::size_t>(INT_MAX))
    return decode_fail(error, errc::too_large,
                       "message of " + std::to_string(document.size()) + " bytes exceeds the limit of " +
                           std::to_string(limits.max_bytes),
                       "byte " + std::to_string(limits.max_bytes));
  if (document.empty()) return decode_fail(error, errc::malformed_xml, "empty document", "byte 0");
  // XML 1.0 §2.2 admits no U+0000, and libxml2 stops reading at one: without this check bytes
  // after a NUL (e.g. "</SyncML>\0<anything>") would be accepted unseen.
  if (const auto nul = document.find('\0'); nul != std::string_view::npos)
    return decode_fail(error, errc::malformed_xml, "NUL byte in the document", "byte " + std::to_string(nul));

  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });  // libxml2's global tables, once, before any thread races

  std::unique_ptr<xmlParserCtxt, CtxtDeleter> ctxt(xmlNewParserCtxt());
  if (!ctxt || !ctxt->sax) return decode_fail(error, errc::malformed_xml, "cannot create an XML parser", "");
  Guard g;
  g.max_depth = limits.max_depth;
  g.events = events;
  ctxt->_private = &g;
  xmlSAXHandler* sax = ctxt->sax;
  g.start = events != nullptr ? on_event_start : sax->startElementNs;
  g.end = events != nullptr ? on_event_end : sax->endElementNs;
  if (events != nullptr) {
    // Character content goes to the events, never into a DOM. Comments and processing
    // instructions keep libxml2's handlers: outside the root they hang off the (empty) document,
    // inside a DOCTYPE they are its children, which the check below refuses as for read_xml.
    sax->characters = on_event_text;
    sax->ignorableWhitespace = on_event_text;
  }
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

  // NONET; CDATA merged into text (it reaches the characters handler); and deliberately none of
  // NOENT, DTDLOAD, DTDATTR, DTDVALID, XINCLUDE, HUGE.
  const int options = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT;
  std::unique_ptr<xmlDoc, DocDeleter> doc(xmlCtxtReadMemory(ctxt.get(), document.data(),
                                                            static_cast<int>(document.size()), nullptr, nullptr, options));
  const std::string at = "line " + std::to_string(ctxt->input ? ctxt->input->line : 0);
  if (!g.forbidden.empty()) return decode_fail(error, errc::malformed_xml, g.forbidden, at);
  if (g.too_deep)
    return decode_fail(error, errc::too_deep, "elements nested deeper than " + std::to_string(limits.max_depth), at);
  if (!doc || !ctxt->wellFormed) {
    std::string why = g.first_error.empty() ? std::string("not well-formed XML") : g.first_error;
    std::string where = g.error_line > 0 ? "line " + std::to_string(g.error_line) + ":" + std::to_string(g.error_col)
                                         : at;
    return decode_fail(error, errc::malformed_xml, std::move(why), std::move(where));
  }
  // A DOCTYPE may be present (it is never loaded) but must declare nothing.
  if (doc->intSubset && doc->intSubset->children)
    return decode_fail(error, errc::malformed_xml, "DOCTYPE declarations are not allowed", "DOCTYPE");
  return doc;
}

}  // namespace

Result<XmlNode> read_xml(std::string_view document, const XmlLimits& limits, DecodeError* error) {
  using detail::decode_fail;
  auto doc = parse(document, limits, nullptr, error);
  if (!doc) return std::unexpected(doc.error());
  const xmlNode* root = xmlDocGetRootElement(doc->get());
  if (!root) return decode_fail(error, errc::malformed_xml, "no root element", "line 1");
  XmlNode out;
  if (!convert(root, out))
    return decode_fail(error, errc::malformed_xml, "entity references are not allowed", str(root->name));
  return out;
}

Result<void> read_xml_events(std::string_view document, const XmlLimits& limits, XmlEvents& events,
                             DecodeError* error) {
  auto doc = parse(document, limits, &events, error);
  if (!doc) return std::unexpected(doc.error());
  return {};
}

}  // namespace m2mdm::syncml
