// Reading the parts of an HTTP request the REST API looks at: path segments (RFC 3986 §2.1
// percent-decoding), query parameters, the media type of a header, case-insensitive compare.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::server {

/// Percent-decodes one path segment (RFC 3986 §2.1); nullopt on bad escapes or a decoded '/' or NUL.
std::optional<std::string> pct_decode(std::string_view s);

/// The non-empty '/'-separated segments of @p path ("//a/b/" -> "a", "b"), not decoded.
std::vector<std::string_view> split_path(std::string_view path);

/// The decoded value of the first @p name=... in @p query ("" when absent or badly encoded).
std::string query_param(std::string_view query, std::string_view name);

/// The media type of a Content-Type value, parameters and trailing blanks removed ("" if none).
std::string_view media_type(std::optional<std::string_view> content_type);

/// The one rule of every endpoint whose body is JSON: the body is read as JSON when its media
/// type (see media_type) is application/json, absent, or application/x-www-form-urlencoded
/// (what `curl -d` sends unless given -H 'Content-Type: ...'); any other type is a 415.
bool json_body_type(std::string_view media_type);

/// ASCII case-insensitive equality.
bool ieq(std::string_view a, std::string_view b);
/// A path segment that names a row: decimal digits only, > 0 (else nullopt: answer 404).
std::optional<std::int64_t> positive_id(std::string_view text);

}  // namespace m2mdm::server
