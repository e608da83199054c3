// Escaping text for the XML the bootstrap writers build by hand (private to bootstrap).
#pragma once

#include <string>
#include <string_view>

namespace m2mdm::bootstrap::detail {

/// What escape_xml_into escapes besides & < > and ".
enum class XmlEscape {
  basic,      ///< & < > " only (element content, the DM-profile TNDS)
  attribute,  ///< also ' and TAB, LF, CR, which attribute-value normalisation would turn into spaces
};

/// Appends @p s to @p out with the characters @p how names replaced by character references.
void escape_xml_into(std::string& out, std::string_view s, XmlEscape how);

}  // namespace m2mdm::bootstrap::detail
