#include "m2mdm/mo/uri.hpp"
#include "m2mdm/syncml/name_table.hpp"

#include "pieces.hpp"

#include <array>
#include <utility>

namespace m2mdm::mo {
namespace {

constexpr std::array<std::pair<Property, std::string_view>, 8> kProps{{
    {Property::Acl, "ACL"},
    {Property::Format, "Format"},
    {Property::Type, "Type"},
    {Property::Size, "Size"},
    {Property::Name, "Name"},
    {Property::Title, "Title"},
    {Property::TStamp, "TStamp"},
    {Property::VerNo, "VerNo"},
}};

std::size_t canonical_length(const std::vector<std::string>& segs) {
  std::size_t n = 1;  // "."
  for (const auto& s : segs) n += 1 + s.size();
  return n;
}

std::string_view query_text(UriQuery q, Property p) {
  switch (q) {
    case UriQuery::None: return {};
    case UriQuery::ListStruct: return "?list=Struct";
    case UriQuery::ListStructData: return "?list=StructData";
    case UriQuery::ListTnds: return "?list=TNDS";
    case UriQuery::Prop: break;
  }
  (void)p;
  return "?prop=";
}

// Checks the limits of DevDetail/URI (DM_StdObj 1.2 §5.3.2): 414 when exceeded.
StatusCode check_limits(const std::vector<std::string>& segs, std::size_t query_len,
                        const UriLimits& limits) {
  if (limits.max_depth != 0 && segs.size() > limits.max_depth) return StatusCode::UriTooLong;
  if (limits.max_seg_len != 0) {
    for (const auto& s : segs) {
      if (s.size() > limits.max_seg_len) return StatusCode::UriTooLong;
    }
  }
  if (limits.max_tot_len != 0 && canonical_length(segs) + query_len > limits.max_tot_len) {
    return StatusCode::UriTooLong;
  }
  return StatusCode::Ok;
}

}  // namespace

std::string_view property_name(Property p) noexcept { return syncml::name_in(kProps, p).value_or("ACL"); }

bool is_valid_segment(std::string_view segment) noexcept {
  if (segment.empty() || segment == "." || segment == "..") return false;
  for (unsigned char c : segment) {
    if (c < 0x20 || c == 0x7F || c == '/' || c == '?') return false;
  }
  return true;
}

std::expected<Uri, StatusCode> Uri::parse(std::string_view text, const UriLimits& limits) {
  if (text.empty()) return std::unexpected(StatusCode::BadRequest);
  Uri uri;
  std::string_view path = text;
  std::size_t query_len = 0;
  if (const auto q = text.find('?'); q != std::string_view::npos) {
    path = text.substr(0, q);
    const std::string_view query = text.substr(q + 1);
    query_len = query.size() + 1;
    // DM_TND 1.2 §7.3: ?prop=<name>; DM_Protocol 1.2 §6.6.11: ?list=Struct|StructData|TNDS.
    if (query.starts_with("prop=")) {
      const std::string_view name = query.substr(5);
      if (name.empty()) return std::unexpected(StatusCode::BadRequest);
      const auto prop = syncml::value_in(kProps, name);
      for (unsigned char c : name) {
        if (c < 0x20 || c == 0x7F || c == '?' || c == '&' || c == '=') {
          return std::unexpected(StatusCode::BadRequest);
        }
      }
      if (!prop) return std::unexpected(StatusCode::OptionalFeatureNotSupported);
      uri.property_ = *prop;
      uri.query_ = UriQuery::Prop;
    } else if (query.starts_with("list=")) {
      const std::string_view what = query.substr(5);
      if (what == "Struct") {
        uri.query_ = UriQuery::ListStruct;
      } else if (what == "StructData") {
        uri.query_ = UriQuery::ListStructData;
      } else if (what == "TNDS") {
        uri.query_ = UriQuery::ListTnds;
      } else if (what.empty() || what.find_first_of("?&=") != std::string_view::npos) {
        return std::unexpected(StatusCode::BadRequest);
      } else {
        return std::unexpected(StatusCode::OptionalFeatureNotSupported);
      }
    } else {
      return std::unexpected(StatusCode::BadRequest);
    }
  }

  if (path.empty()) return std::unexpected(StatusCode::BadRequest);
  if (path == ".") {
    // the root
  } else {
    if (path.starts_with("./")) {
      path.remove_prefix(2);
    } else if (path.front() == '/') {
      return std::unexpected(StatusCode::BadRequest);
    }
    if (path.empty() || path.back() == '/') return std::unexpected(StatusCode::BadRequest);
    const StatusCode s = detail::for_each_piece(path, '/', [&](std::string_view seg) {
      if (!is_valid_segment(seg)) return StatusCode::BadRequest;
      uri.segments_.emplace_back(seg);
      // Refuse early so that an enormous URI does not cost memory.
      if (limits.max_depth != 0 && uri.segments_.size() > limits.max_depth) return StatusCode::UriTooLong;
      return StatusCode::Ok;
    });
    if (s != StatusCode::Ok) return std::unexpected(s);
  }
  if (const StatusCode s = check_limits(uri.segments_, query_len, limits); s != StatusCode::Ok) {
    return std::unexpected(s);
  }
  return uri;
}

std::expected<Uri, StatusCode> Uri::from_segments(std::vector<std::string> segments,
                                                  const UriLimits& limits) {
  for (const auto& s : segments) {
    if (!is_valid_segment(s)) return std::unexpected(StatusCode::BadRequest);
  }
  if (const StatusCode s = check_limits(segments, 0, limits); s != StatusCode::Ok) {
    return std::unexpected(s);
  }
  Uri uri;
  uri.segments_ = std::move(segments);
  return uri;
}

std::string Uri::path() const {
  std::string out = ".";
  for (const auto& s : segments_) {
    out += '/';
    out += s;
  }
  return out;
}

std::string Uri::str() const {
  std::string out = path();
  out += query_text(query_, property_);
  if (query_ == UriQuery::Prop) out += property_name(property_);
  return out;
}

std::string_view Uri::name() const noexcept {
  return segments_.empty() ? std::string_view{} : std::string_view{segments_.back()};
}

Uri Uri::without_query() const {
  Uri u;
  u.segments_ = segments_;
  return u;
}

Uri Uri::parent() const {
  Uri u;
  if (!segments_.empty()) u.segments_.assign(segments_.begin(), segments_.end() - 1);
  return u;
}

Uri Uri::child(std::string_view segment) const {
  Uri u;
  u.segments_ = segments_;
  u.segments_.emplace_back(segment);
  return u;
}

bool Uri::is_under(const Uri& other) const noexcept {
  if (other.segments_.size() > segments_.size()) return false;
  for (std::size_t i = 0; i < other.segments_.size(); ++i) {
    if (segments_[i] != other.segments_[i]) return false;
  }
  return true;
}

bool uri_matches(const Uri& uri, std::string_view pattern) noexcept {
  if (pattern == ".") return uri.is_root();
  if (!pattern.starts_with("./")) return false;
  pattern.remove_prefix(2);
  const auto& segs = uri.segments();
  std::size_t i = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = pattern.find('/', start);
    const std::string_view p =
        pattern.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (i >= segs.size()) return false;
    if (p != "*" && p != segs[i]) return false;
    ++i;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return i == segs.size();
}

}  // namespace m2mdm::mo
