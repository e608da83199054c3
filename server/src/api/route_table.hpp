// The REST API's routing vocabulary: who calls (roles), what an endpoint receives (Call), one
// row of the route table (method, path pattern, roles allowed, handler) and how a pattern matches.
#pragma once

#include "m2mdm/server/http.hpp"
#include "m2mdm/server/store.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace m2mdm::server {

/// Who a bearer token belongs to. Bit values: a route's `roles` is an OR of them.
enum class Role : unsigned {
  op = 1,   ///< the RO's operator (admin token)
  vno = 2,  ///< a visited network operator (ICF tokens)
  sho = 4,  ///< a Subscription Home Operator (per-SHO tokens in the store)
  subscriber = 8,  ///< a device owner (per-subscriber tokens in the store; seed 004 "M2ME U/S")
};
using Roles = unsigned;
constexpr Roles operator|(Role a, Role b) noexcept { return static_cast<Roles>(a) | static_cast<Roles>(b); }
/// Routes outside /api/v1 (/healthz, /metrics, /dm): no bearer token, no role check.
inline constexpr Roles kPublic = 0;

/// The authenticated caller of an /api/v1 request.
struct Caller {
  Role role = Role::sho;
  std::int64_t sho_id = 0;  ///< for Role::sho
  std::int64_t subscriber_id = 0;  ///< for Role::subscriber

  bool is(Role r) const noexcept { return role == r; }
  bool in(Roles roles) const noexcept { return (static_cast<Roles>(role) & roles) != 0; }
  /// The audit log's actor: "operator", "vno", "sho:<id>" or "subscriber:<id>".
  std::string actor() const;
};

/// What an endpoint receives.
struct Call {
  const HttpRequest& request;
  Caller caller;                      ///< meaningless for kPublic routes
  std::string_view body_type;         ///< media type of the body (Content-Type without parameters)
  std::vector<std::pair<std::string_view, std::string>> params;  ///< "{name}" segments, decoded
  std::optional<Device> device;       ///< set by a route's `load` step

  /// The value of the path parameter "{name}" (empty if the pattern has none).
  const std::string& param(std::string_view name) const;
};

class RestApi;

/// One row of the route table. Rows with the same pattern must be adjacent: together they are
/// the pattern's methods (their order is the 405 response's Allow header).
struct Route {
  using Handler = HttpResponse (RestApi::*)(Call&);
  /// Runs after the role check and before the method is looked at; a response ends the request.
  using Load = std::optional<HttpResponse> (RestApi::*)(Call&);

  constexpr Route(std::string_view method_, std::string_view pattern_, Roles roles_, Handler handler_,
                  std::string_view metric_ = {}, Load load_ = nullptr) noexcept
      : method(method_), pattern(pattern_), roles(roles_), handler(handler_), metric(metric_), load(load_) {}

  std::string_view method;   ///< "GET", "POST", ...
  std::string_view pattern;  ///< "/api/v1/devices/{devId}/jobs": literal or "{name}" segments
  Roles roles = kPublic;     ///< who may call it (kPublic: outside /api/v1, unauthenticated)
  Handler handler = nullptr; ///< nullptr: a guard row (403 for other roles, else keep looking)
  std::string_view metric;   ///< route label in m2mdm_http_requests_total; empty = the pattern
  Load load = nullptr;       ///< runs after the role check, before the method is looked at

  std::string_view route_name() const noexcept { return metric.empty() ? pattern : metric; }
};

/// Matches the segments of an /api/v1 pattern against the decoded segments after "/api/v1";
/// fills @p params ({name} -> value) on success.
bool match_api_pattern(std::string_view pattern, std::span<const std::string> segments,
                       std::vector<std::pair<std::string_view, std::string>>& params);

/// Matches a public pattern (outside /api/v1) against @p path: equal, or the pattern ends with one
/// "{name}" segment that matches one non-empty segment of the path (not decoded; no '/').
bool match_public_pattern(std::string_view pattern, std::string_view path,
                          std::vector<std::pair<std::string_view, std::string>>& params);

/// The "/api/v1/" prefix of every authenticated route.
inline constexpr std::string_view kApiPrefix = "/api/v1";

}  // namespace m2mdm::server
