#include "api/responses.hpp"

#include "m2mdm/server/error.hpp"

#include <spdlog/spdlog.h>

namespace m2mdm::server {
using json = nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse json_response(int status, const json& j) { return HttpResponse::make(status, "application/json", dump(j)); }

HttpResponse store_error(const std::error_code& ec) {
  if (ec == make_error_code(errc::not_found)) return HttpResponse::json_error(404, "not found");
  if (ec == make_error_code(errc::conflict)) return HttpResponse::json_error(409, "conflict", ec.message());
  spdlog::error("api: store error: {}", ec.message());
  return HttpResponse::json_error(500, "internal error", "storage failure");
}

HttpResponse bad_request(std::string_view why) { return HttpResponse::json_error(400, "bad request", why); }

HttpResponse forbidden() {
  return HttpResponse::json_error(403, "forbidden", "this token may not use this endpoint");
}

HttpResponse method_not_allowed(std::string_view allow) {
  auto r = HttpResponse::json_error(405, "method not allowed");
  r.set_header("Allow", allow);
  return r;
}

HttpResponse unsupported_media_type(std::string_view use) {
  return HttpResponse::json_error(415, "unsupported media type", use);
}

}  // namespace m2mdm::server
