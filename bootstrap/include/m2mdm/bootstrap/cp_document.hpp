/// @file cp_document.hpp
/// @brief The OMA Client Provisioning document model (OMA-WAP-ProvCont 1.1) and its XML and
///        WBXML (PROV 1.0, public id 0x0B) codecs. No I/O: bytes in, bytes out.
///
/// Decoding is bounded (CpLimits) and safe for network input: XML is parsed by libxml2 with
/// XML_PARSE_NONET, no entity substitution, no DTD loading, and any internal DTD subset or
/// entity reference is refused. WBXML is first walked token by token by our own reader (which
/// enforces the bounds, checks the public id, and maps the old page-1 attribute value tokens
/// 0x80-0x83 to 0x90-0x93), then converted to XML by libwbxml2 (WBXML_LANG_PROV10 forced), then
/// parsed as above.
#pragma once

#include "m2mdm/bootstrap/error.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::bootstrap {

/// One `<parm name=".." value=".."/>`. A parm may have no value (e.g. STARTPAGE, INIT).
struct Parm {
  std::string name;
  std::optional<std::string> value;

  bool operator==(const Parm&) const = default;
};

/// One `<characteristic type="..">` with its parms (in document order) and nested
/// characteristics (in document order). Parms are written before children.
struct Characteristic {
  std::string type;
  std::vector<Parm> parms;
  std::vector<Characteristic> children;

  /// The first parm called @p name (exact, case-sensitive as ProvCont names are), or nullptr.
  const Parm* find_parm(std::string_view name) const noexcept;
  /// The value of the first parm called @p name; nullopt if absent or value-less.
  std::optional<std::string> value_of(std::string_view name) const;
  /// Every direct child characteristic of type @p type.
  std::vector<const Characteristic*> children_of(std::string_view type) const;
  /// Appends a parm and returns *this (builder style).
  Characteristic& add(std::string name, std::optional<std::string> value = std::nullopt);

  bool operator==(const Characteristic&) const = default;
};

/// A whole `<wap-provisioningdoc>`.
struct ProvisioningDoc {
  std::optional<std::string> version;  ///< the version attribute ("1.0" / "1.1"), if any
  std::vector<Characteristic> characteristics;

  /// Every top-level characteristic of type @p type.
  std::vector<const Characteristic*> of_type(std::string_view type) const;

  bool operator==(const ProvisioningDoc&) const = default;
};

/// Bounds applied by every decoder (network input).
struct CpLimits {
  std::size_t max_bytes = 64 * 1024;  ///< input size (WBXML bytes or XML characters)
  std::size_t max_depth = 8;          ///< characteristic nesting (the PROV DTD needs 4)
  std::size_t max_nodes = 4096;       ///< characteristics + parms
};

/// Serialises the document as PROV 1.0 XML (with the DOCTYPE line, two-space indentation).
std::string to_cp_xml(const ProvisioningDoc& doc);

/// Parses PROV XML. Errors: cp_bad_xml (not well-formed, DTD internal subset / entities, wrong
/// root or element, missing type/name attribute), cp_too_large, cp_too_deep.
Result<ProvisioningDoc> parse_cp_xml(std::string_view xml, const CpLimits& limits = {});

/// Encodes as WBXML 1.3, public id 0x0B, UTF-8, no string table (header `03 0B 6A 00`), using
/// libwbxml2's PROV 1.0 tables (both attribute code pages). Error: cp_encode_failed.
Result<Bytes> encode_cp_wbxml(const ProvisioningDoc& doc);

/// Decodes PROV WBXML (WBXML 1.0-1.3; public id 0x0B, 0x01 "unknown" or the PROV 1.0 FPI from
/// the string table; charset UTF-8, US-ASCII or unspecified). Accepts string tables, redundant
/// SWITCH_PAGEs, and the old page-1 value tokens 0x80-0x83 (= ',', 'HTTP-', 'BASIC', 'DIGEST'
/// of the 0x90-0x93 row); 0x83 is read as that token only when the string table is empty
/// (otherwise it is STR_T). Errors: cp_bad_wbxml, cp_too_large, cp_too_deep, cp_bad_xml.
Result<ProvisioningDoc> decode_cp_wbxml(ByteView wbxml, const CpLimits& limits = {});

/// The token-level checker/normaliser decode_cp_wbxml runs before libwbxml: returns the input
/// with old page-1 value tokens rewritten, or the error. Exposed for tests and the fuzzer.
Result<Bytes> normalize_cp_wbxml(ByteView wbxml, const CpLimits& limits = {});

/// True when @p data starts like a PROV WBXML document (version 0..3, then public id 0x0B or 0x01).
bool looks_like_cp_wbxml(ByteView data) noexcept;

}  // namespace m2mdm::bootstrap
