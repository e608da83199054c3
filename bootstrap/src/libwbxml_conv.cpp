#include "libwbxml_conv.hpp"

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace m2mdm::bootstrap::detail {
namespace {

struct MallocFree {
  void operator()(WB_UTINY* p) const noexcept { std::free(p); }  // libwbxml allocates with malloc
};

// libwbxml2 (Debian 0.11.8) aborts the process on an ENTITY whose code is 2^31 or more
// (assert in parse_entity), found by fuzz_cp_wbxml_decode past our token walker. Whatever the
// walker missed, no byte 0x02 followed by such an mb_u_int32 (WBXML §5.1: at most 5 octets,
// 32 bits) reaches libwbxml. Conservative: the pattern inside an inline string or opaque data
// is refused too (0x02 is not an XML character, so such a document could not be converted).
bool may_abort_libwbxml(ByteView b) {
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (b[i] != 0x02) continue;
    std::uint64_t v = 0;
    std::size_t n = 0;
    for (std::size_t j = i + 1; j < b.size(); ++j) {
      v = (v << 7) | (b[j] & 0x7fu);
      ++n;
      if (n > 5 || v >= 0x80000000u) return true;
      if ((b[j] & 0x80u) == 0) break;
    }
  }
  return false;
}

}  // namespace

Result<std::string> wbxml_to_xml(ByteView wbxml, const XmlOutput& output, errc on_error) {
  if (may_abort_libwbxml(wbxml)) return fail(on_error);
  WBXMLConvWBXML2XML* conv = nullptr;
  if (wbxml_conv_wbxml2xml_create(&conv) != WBXML_OK) return fail(on_error);
  std::unique_ptr<WBXMLConvWBXML2XML, void (*)(WBXMLConvWBXML2XML*)> guard(conv, wbxml_conv_wbxml2xml_destroy);
  wbxml_conv_wbxml2xml_set_gen_type(conv, output.indent ? WBXML_GEN_XML_INDENT : WBXML_GEN_XML_COMPACT);
  if (output.indent) wbxml_conv_wbxml2xml_set_indent(conv, 1);
  wbxml_conv_wbxml2xml_set_language(conv, output.language);
  if (output.utf8) wbxml_conv_wbxml2xml_set_charset(conv, WBXML_CHARSET_UTF_8);
  Bytes copy(wbxml.begin(), wbxml.end());  // libwbxml takes a non-const buffer
  WB_UTINY* xml = nullptr;
  WB_ULONG len = 0;
  const WBXMLError rc = wbxml_conv_wbxml2xml_run(conv, copy.data(), static_cast<WB_ULONG>(copy.size()), &xml, &len);
  std::unique_ptr<WB_UTINY, MallocFree> xml_guard(xml);
  if (rc != WBXML_OK || xml == nullptr) return fail(on_error);
  return std::string(reinterpret_cast<const char*>(xml), len);
}

Result<Bytes> xml_to_wbxml13(std::string xml, errc on_error) {
  WBXMLConvXML2WBXML* conv = nullptr;
  if (wbxml_conv_xml2wbxml_create(&conv) != WBXML_OK) return fail(on_error);
  std::unique_ptr<WBXMLConvXML2WBXML, void (*)(WBXMLConvXML2WBXML*)> guard(conv, wbxml_conv_xml2wbxml_destroy);
  wbxml_conv_xml2wbxml_set_version(conv, WBXML_VERSION_13);
  wbxml_conv_xml2wbxml_disable_string_table(conv);
  WB_UTINY* out = nullptr;
  WB_ULONG out_len = 0;
  const WBXMLError rc = wbxml_conv_xml2wbxml_run(conv, reinterpret_cast<WB_UTINY*>(xml.data()),
                                                 static_cast<WB_ULONG>(xml.size()), &out, &out_len);
  std::unique_ptr<WB_UTINY, MallocFree> out_guard(out);
  if (rc != WBXML_OK || out == nullptr) return fail(on_error);
  return Bytes(out, out + out_len);
}

}  // namespace m2mdm::bootstrap::detail
