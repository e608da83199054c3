// The body of an endpoint that reads JSON: the media type rule (json_body_type) and the
// parser's verdict (rest_json.hpp), each as the response that ends the request.
#pragma once

#include "api/request_parts.hpp"
#include "api/responses.hpp"
#include "api/route_table.hpp"

#include <expected>
#include <functional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace m2mdm::server {

/// The body of @p call read by @p parse (a rest_json.hpp parser: the body, then @p args,
/// returning Parsed<T>): 415 "use application/json" unless json_body_type, 400 with the
/// parser's reason when it refuses the body.
template <typename Parse, typename... Args>
auto parse_json_body(const Call& call, Parse&& parse, Args&&... args)
    -> std::expected<typename std::invoke_result_t<Parse, std::string_view, Args...>::value_type, HttpResponse> {
  if (!json_body_type(call.body_type)) return std::unexpected(unsupported_media_type("use application/json"));
  const std::string_view body = call.request.body;
  auto parsed = std::invoke(std::forward<Parse>(parse), body, std::forward<Args>(args)...);
  if (!parsed) return std::unexpected(bad_request(parsed.error()));
  return std::move(*parsed);
}

}  // namespace m2mdm::server
