// The REST API's responses: JSON bodies and the mapping of errors to HTTP status codes
// (the only place, with the endpoints, where a status code is chosen).
#pragma once

#include "m2mdm/server/http.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <system_error>

namespace m2mdm::server {

/// Compact JSON text; invalid UTF-8 is replaced, never thrown on.
std::string dump(const nlohmann::json& j);

/// A response with an application/json body.
HttpResponse json_response(int status, const nlohmann::json& j);

/// A store error as a response: not_found -> 404, conflict -> 409, anything else 500 (logged).
HttpResponse store_error(const std::error_code& ec);

/// 400 {"error":"bad request","detail":why}.
HttpResponse bad_request(std::string_view why);

/// 403 for a caller whose role may not use the endpoint.
HttpResponse forbidden();

/// 405 with the Allow header (RFC 9110 §15.5.6).
HttpResponse method_not_allowed(std::string_view allow);

/// 415 {"error":"unsupported media type","detail":what to use}.
HttpResponse unsupported_media_type(std::string_view use);

}  // namespace m2mdm::server
