/// @file xml_reader.hpp
/// @brief The tree's one XML reader: libxml2, configured once and hardened for bytes from the
///        network, turned into a small element tree of our own (no libxml2 type leaves it).
///
/// Every XML parser of m2mdm reads through this reader (read_xml, or read_xml_events for a stream
/// of events): the SyncML XML codec
/// (syncml/src/xml_decode.cpp), the OMA CP document (bootstrap/src/cp_document.cpp), the
/// DM-profile bootstrap (bootstrap/src/dm_profile.cpp) and the DDF reader (mo/src/node_ddf.cpp).
/// What it guarantees, in one place:
///  - the size is checked before parsing (XmlLimits::max_bytes);
///  - XML_PARSE_NONET; never XML_PARSE_NOENT, DTDLOAD, DTDATTR, DTDVALID, XINCLUDE or HUGE;
///  - a DOCTYPE may name an external DTD (it is never loaded) but may declare nothing: any
///    ENTITY, ELEMENT, ATTLIST or NOTATION declaration stops the parser, as does any entity
///    reference other than the five predefined ones (XXE, "billion laughs", parameter entities);
///  - element depth is counted while parsing and the parser stops past XmlLimits::max_depth;
///  - libxml2's messages go to the returned DecodeError, never to stderr.
///
/// Build-tree only (syncml/internal/ is not installed): integrators never see it.
#pragma once

#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::syncml {

/// Bounds for read_xml.
struct XmlLimits {
  std::size_t max_bytes = 8u * 1024u * 1024u;  ///< larger input is refused (too_large)
  std::size_t max_depth = 256;                 ///< element nesting (too_deep); 256 is libxml2's own bound
};

/// An attribute as found (the value has character and predefined entity references resolved).
struct XmlAttribute {
  std::string name;   ///< local name (without prefix)
  std::string ns;     ///< namespace URI, empty if none
  std::string value;
};

/// A node of the document read: an element and what it contains, in document order.
/// CDATA sections arrive as text. Entity references cannot occur (they are refused).
struct XmlNode {
  enum class Kind : std::uint8_t { element, text, comment, processing_instruction };
  Kind kind = Kind::element;
  std::string name;  ///< element local name (without prefix), or the processing instruction's target
  std::string ns;    ///< element namespace URI, empty if none
  std::string text;  ///< content of a text, comment or processing instruction node
  std::vector<XmlAttribute> attributes;  ///< element attributes, in document order (xmlns excluded)
  std::vector<XmlNode> children;         ///< element content, in document order

  /// An element (with local name @p local, if given).
  [[nodiscard]] bool is_element() const noexcept { return kind == Kind::element; }
  [[nodiscard]] bool is_element(std::string_view local) const noexcept {
    return kind == Kind::element && name == local;
  }
  /// The first child element with local name @p local, or nullptr.
  [[nodiscard]] const XmlNode* child(std::string_view local) const noexcept;
  /// The first child element, or nullptr.
  [[nodiscard]] const XmlNode* first_element() const noexcept;
  /// The first attribute with local name @p local, or nullptr.
  [[nodiscard]] const XmlAttribute* attribute(std::string_view local) const noexcept;
  /// The text children, concatenated (child elements' text not included).
  [[nodiscard]] std::string direct_text() const;
  /// All descendant text, concatenated in document order (DOM textContent).
  [[nodiscard]] std::string text_content() const;
};

/// What read_xml_events reports while it parses, in document order. Attributes, comments and
/// processing instructions are not reported (the SyncML codec has no use for them).
class XmlEvents {
 public:
  virtual ~XmlEvents() = default;
  /// An element opens: its local name and namespace URI (empty if none). The views are valid
  /// during the call only; copy what is kept.
  virtual void start_element(std::string_view local, std::string_view ns) = 0;
  /// The innermost open element closes.
  virtual void end_element() = 0;
  /// Character content of the innermost open element (text or CDATA), possibly in several pieces.
  virtual void text(std::string_view chars) = 0;
};

/// Parses @p document with the same hardening and errors as read_xml, reporting it to @p events
/// as it goes instead of building a tree (no libxml2 DOM either): the SyncML XML decoder's path,
/// where every DM message passes. @p events may have seen part of a document that then fails.
Result<void> read_xml_events(std::string_view document, const XmlLimits& limits, XmlEvents& events,
                             DecodeError* error = nullptr);

/// Reads @p document into its root element. Errors: too_large, too_deep, malformed_xml (not
/// well-formed, a DTD declaration or an entity reference); @p error says what and where.
Result<XmlNode> read_xml(std::string_view document, const XmlLimits& limits = {}, DecodeError* error = nullptr);

}  // namespace m2mdm::syncml
