#include "xml_escape.hpp"

namespace m2mdm::bootstrap::detail {

void escape_xml_into(std::string& out, std::string_view s, XmlEscape how) {
  const bool attribute = how == XmlEscape::attribute;
  for (char c : s) {
    const char* ref = nullptr;
    switch (c) {
      case '&': ref = "&amp;"; break;
      case '<': ref = "&lt;"; break;
      case '>': ref = "&gt;"; break;
      case '"': ref = "&quot;"; break;
      case '\'': ref = attribute ? "&apos;" : nullptr; break;
      case '\t': ref = attribute ? "&#9;" : nullptr; break;
      case '\n': ref = attribute ? "&#10;" : nullptr; break;
      case '\r': ref = attribute ? "&#13;" : nullptr; break;
      default: break;
    }
    if (ref != nullptr) out += ref;
    else out += c;
  }
}

}  // namespace m2mdm::bootstrap::detail
