// Plain request/response helpers and the default (503) DM endpoint.
#include "m2mdm/server/http.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace m2mdm::server {
namespace {
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}
}  // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

std::string_view HttpRequest::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view HttpRequest::query() const {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

HttpResponse& HttpResponse::set_header(std::string_view name, std::string_view value) {
  for (auto& [k, v] : headers)
    if (iequals(k, name)) {
      v = value;
      return *this;
    }
  headers.emplace_back(name, value);
  return *this;
}

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

HttpResponse HttpResponse::make(int status, std::string_view content_type, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.set_header("Content-Type", content_type);
  return r;
}

HttpResponse HttpResponse::json_error(int status, std::string_view error, std::string_view detail) {
  nlohmann::json j = {{"error", error}, {"detail", detail}};
  return make(status, "application/json", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

HttpResponse UnavailableDmEndpoint::handle_dm(const HttpRequest& /*request*/) {
  auto r = HttpResponse::make(503, "text/plain", "DM engine not available\n");
  r.set_header("Retry-After", "30");
  return r;
}

}  // namespace m2mdm::server
