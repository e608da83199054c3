// libwbxml's converters as the bootstrap encoders and decoders use them (private to bootstrap).
#pragma once

#include "m2mdm/bootstrap/error.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <wbxml.h>

#include <string>

namespace m2mdm::bootstrap::detail {

/// How wbxml_to_xml lays the XML out.
struct XmlOutput {
  WBXMLLanguage language;  ///< the code pages to decode with
  bool indent = false;     ///< one space a level (otherwise compact)
  bool utf8 = false;       ///< force the UTF-8 charset (otherwise libwbxml's default)
};

/// WBXML → XML text; @p on_error when libwbxml refuses the bytes.
Result<std::string> wbxml_to_xml(ByteView wbxml, const XmlOutput& output, errc on_error);

/// XML → WBXML 1.3 with every string inline (STR_I, no string table), so that a receiver needs
/// no string-table handling; @p on_error when libwbxml refuses the XML.
Result<Bytes> xml_to_wbxml13(std::string xml, errc on_error);

}  // namespace m2mdm::bootstrap::detail
