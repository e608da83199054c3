/// @file uri.hpp
/// @brief OMA DM management-tree URIs: parsing, normalisation, limits (DM_TND 1.2 §6, §7.3).
///
/// Accepted forms: `.` (the root), `./A/B`, and `A/B` (relative to the root). The canonical form
/// is always `./A/B`. Refused (400 Bad Request): an empty URI, a trailing `/`, empty segments
/// (`A//B`), `.` or `..` as a segment other than the leading `.`, a leading `/`, control
/// characters, and any `?` except the two DM 1.2 query forms:
///   - `?list=Struct`, `?list=StructData`, `?list=TNDS` (DM_TND 1.2 §8 / DM_Protocol §6.6.11)
///   - `?prop=ACL|Format|Type|Size|Name|Title|TStamp|VerNo` (DM_TND 1.2 §7.3 "Property addressing")
/// An unknown property name gives 406 Optional feature not supported (DM_TND §7.3).
/// Limits (DevDetail/URI/MaxDepth, MaxTotLen, MaxSegLen, DM_StdObj 1.2 §5.3) give
/// 414 URI too long; each limit 0 means "no limit".
#pragma once

#include "m2mdm/syncml/status.hpp"

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::mo {

using syncml::StatusCode;

/// The limits a device publishes in ./DevDetail/URI (DM_StdObj 1.2 §5.3.2). 0 = unlimited.
struct UriLimits {
  std::size_t max_depth = 16;     ///< number of segments below the root ("./A/B" has depth 2)
  std::size_t max_tot_len = 255;  ///< characters of the canonical path "./A/B" (query excluded)
  std::size_t max_seg_len = 64;   ///< characters of one segment
};

/// A run-time node property addressable with `?prop=` (DM_TND 1.2 §7.1).
enum class Property : std::uint8_t { Acl, Format, Type, Size, Name, Title, TStamp, VerNo };

/// The name used on the wire ("ACL", "Format", ...).
std::string_view property_name(Property p) noexcept;

/// The query part of a URI.
enum class UriQuery : std::uint8_t {
  None,
  ListStruct,      ///< ?list=Struct: the structure of the subtree (DM_Protocol 1.2 §6.6.11)
  ListStructData,  ///< ?list=StructData: structure plus leaf values
  ListTnds,        ///< ?list=TNDS: a TNDS document (m2mdm answers 406)
  Prop,            ///< ?prop=<Property>
};

/// A parsed, normalised management-tree URI.
class Uri {
 public:
  /// The root ".".
  Uri() = default;

  /// Parses @p text (LocURI content). Outcomes: 400 malformed, 406 unknown property or list
  /// form, 414 over a limit. Never 200: the value side holds the URI.
  static std::expected<Uri, StatusCode> parse(std::string_view text, const UriLimits& limits = {});

  /// Builds from segments (each must be a valid segment, else 400).
  static std::expected<Uri, StatusCode> from_segments(std::vector<std::string> segments,
                                                      const UriLimits& limits = {});

  /// The canonical path without query: "." or "./A/B".
  std::string path() const;
  /// The canonical form including the query: "./A/B?prop=ACL".
  std::string str() const;

  const std::vector<std::string>& segments() const noexcept { return segments_; }
  std::size_t depth() const noexcept { return segments_.size(); }
  bool is_root() const noexcept { return segments_.empty(); }
  /// The last segment ("" for the root).
  std::string_view name() const noexcept;

  UriQuery query() const noexcept { return query_; }
  /// Meaningful only when query() == UriQuery::Prop.
  Property property() const noexcept { return property_; }
  /// The same URI without its query.
  Uri without_query() const;

  /// The parent ("./A/B" -> "./A"); the root's parent is the root.
  Uri parent() const;
  /// A child of this URI (no validation of @p segment beyond what append_checked does).
  Uri child(std::string_view segment) const;
  /// True when this URI equals @p other or lies below it (queries ignored).
  bool is_under(const Uri& other) const noexcept;

  friend bool operator==(const Uri&, const Uri&) = default;

 private:
  std::vector<std::string> segments_;
  UriQuery query_ = UriQuery::None;
  Property property_ = Property::Acl;
};

/// Checks one segment: non-empty, not "." or "..", no '/', '?', control characters.
bool is_valid_segment(std::string_view segment) noexcept;

/// Matches @p uri (query ignored) against a pattern such as "./DMAcc/*/AppAddr/*/Addr": same
/// depth, every segment equal or the pattern segment is "*" (a DDF unnamed node "<x>").
bool uri_matches(const Uri& uri, std::string_view pattern) noexcept;

}  // namespace m2mdm::mo
