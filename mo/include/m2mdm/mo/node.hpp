/// @file node.hpp
/// @brief A node of the management tree and its run-time properties (DM_TND 1.2 §7), and the
/// DDF-derived description the tree enforces (DM_TND 1.2 §9 "Device Description Framework").
#pragma once

#include "m2mdm/mo/acl.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::mo {

/// The Format property (DM_TND 1.2 §7.7.2; date/time/float are from DM_DDF 1.2 DFFormat).
enum class Format : std::uint8_t { B64, Bin, Bool, Chr, Int, Node, Null, Xml, Date, Time, Float };

/// "b64", "bin", "bool", "chr", "int", "node", "null", "xml", "date", "time", "float".
std::string_view format_name(Format f) noexcept;
/// Parses a Format name (case-sensitive, as on the wire); nullopt when unknown.
std::optional<Format> parse_format(std::string_view name) noexcept;

/// Checks that @p value is a valid value for @p f (the value as stored, i.e. already decoded
/// from base64 transport encoding). bool: "true"/"false"; int: decimal, fits int32 (DM_TND
/// §7.7.2); float: a decimal number; date: YYYY-MM-DD; time: hh:mm:ss[Z]; chr: UTF-8; null:
/// empty; node: empty; b64/bin/xml: any bytes. Returns false when invalid.
bool value_valid_for(Format f, ByteView value) noexcept;

/// DDF AccessType (DM_TND 1.2 §9.4.3.1 "AccessType"): which commands a node accepts at all.
/// Independent of the ACL (which says who).
enum AccessType : std::uint8_t {
  kAccessAdd = 1u << 0,
  kAccessCopy = 1u << 1,
  kAccessDelete = 1u << 2,
  kAccessExec = 1u << 3,
  kAccessGet = 1u << 4,
  kAccessReplace = 1u << 5,
  kAccessAll = 0x3F,
};
using AccessTypes = std::uint8_t;

/// DDF Scope (DM_TND 1.2 §9.4.3.8): a permanent node can never be deleted.
enum class Scope : std::uint8_t { Dynamic = 0, Permanent = 1 };

/// A node: interior when format == Format::Node, leaf otherwise.
/// Name and Size are derived (from the URI and the value) and not stored.
struct Node {
  Format format = Format::Node;
  std::string type;        ///< MIME type of a leaf value, or the MO identifier URN of an MO root
  Acl acl;                 ///< empty = inherit
  std::string title;       ///< Title property (human readable)
  std::int64_t tstamp = 0; ///< TStamp, seconds since the Unix epoch of the last change
  std::uint32_t verno = 0; ///< VerNo, incremented (mod 65536, DM_TND §7.7.8) at each change
  AccessTypes access = kAccessAll;
  Scope scope = Scope::Dynamic;
  /// The leaf value (shared, immutable: snapshots copy the pointer, not the bytes). Never null
  /// for a leaf; null for an interior node.
  std::shared_ptr<const Bytes> value;

  bool interior() const noexcept { return format == Format::Node; }
  std::size_t size() const noexcept { return value ? value->size() : 0; }
};

/// One node description from a DDF: the pattern of its URI ("*" for DDF unnamed nodes `<x>`),
/// what it accepts and its constraints. Rules are registered per MO with Tree::describe().
struct NodeRule {
  std::string pattern;           ///< e.g. "./DMAcc/*/AppAddr/*/Addr"
  AccessTypes access = kAccessAll;
  Scope scope = Scope::Dynamic;
  Format format = Format::Chr;   ///< DFFormat; Format::Node for interior nodes
  std::string type;              ///< DFType (MIME type, or the MO URN for an MO root)
  std::string title;             ///< DFTitle (copied into the Title property on creation)
  /// Maximum value size in bytes this node accepts (0 = only the tree's max_obj_size applies).
  std::size_t max_size = 0;
  /// Other formats a leaf accepts besides @c format (e.g. bin for a b64 node). Bitmask of
  /// (1u << static_cast<unsigned>(Format)).
  std::uint16_t also_formats = 0;
};

/// Reads the node descriptions of a DM DDF 1.2 document (DM_DDF 1.2: MgmtTree/Node with
/// NodeName, DFProperties/AccessType, DFFormat, Scope, DFType, DFTitle) into rules whose
/// patterns start at the root ("./" + top-level NodeName, "*" for unnamed nodes `<NodeName/>`).
/// No DTD is loaded and no entity expanded. mo::errc::malformed on anything unexpected.
Result<std::vector<NodeRule>> rules_from_ddf(std::string_view ddf_xml);

}  // namespace m2mdm::mo
