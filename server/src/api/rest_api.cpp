// The route table of the RO's HTTP surface and the dispatcher that walks it:
// authentication first for every /api/v1 path, then the first matching pattern decides the
// route label, the role check (403), an optional load step, the method (405 + Allow) and the endpoint.
#include "api/rest_api.hpp"

#include "api/request_parts.hpp"
#include "api/responses.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/syncml/unix_clock.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>

namespace m2mdm::server {

std::span<const Route> RestApi::routes() {
  using R = RestApi;
  constexpr Roles op = static_cast<Roles>(Role::op), vno_or_op = Role::op | Role::vno, op_or_sho = Role::op | Role::sho,
                  sho = static_cast<Roles>(Role::sho), sub = static_cast<Roles>(Role::subscriber),
                  sho_or_sub = Role::sho | Role::subscriber, owner = op_or_sho | sub, anyone = owner | vno_or_op;
  // clang-format off
  static const std::array table{
    //     method   pattern                                 roles      handler                     metric label / load
    Route{"GET",   "/healthz",                              kPublic,   &R::get_healthz},
    Route{"HEAD",  "/healthz",                              kPublic,   &R::get_healthz},
    Route{"GET",   "/metrics",                              kPublic,   &R::get_metrics},
    Route{"POST",  "/dm",                                   kPublic,   &R::post_dm},
    // The web console's static assets (docs/console.md): public, they hold no data.
    Route{"GET",   "/console",                              kPublic,   &R::redirect_console},
    Route{"GET",   "/console/",                             kPublic,   &R::get_console_asset},
    Route{"GET",   "/console/{asset}",                      kPublic,   &R::get_console_asset},
    Route{"GET",   "/api/v1/whoami",                        anyone,    &R::whoami},
    Route{"GET",   "/api/v1/shos",                          op,        &R::list_shos},
    Route{"POST",  "/api/v1/shos",                          op,        &R::create_sho},
    Route{"GET",   "/api/v1/subscribers",                   op,        &R::list_subscribers},
    Route{"POST",  "/api/v1/subscribers",                   op,        &R::create_subscriber},
    Route{"GET",   "/api/v1/subscribers/{id}",              op,        &R::get_subscriber},
    Route{"GET",   "/api/v1/subscribers/{id}/devices",      op,        &R::list_subscriber_devices},
    Route{"POST",  "/api/v1/subscribers/{id}/devices",      op,        &R::assign_subscriber_devices},
    Route{"DELETE", "/api/v1/subscribers/{id}/devices/{devId}", op,    &R::remove_subscriber_device},
    Route{"GET",   "/api/v1/callback",                      sho,       &R::get_callback},
    Route{"PUT",   "/api/v1/callback",                      sho,       &R::put_callback},
    Route{"POST",  "/api/v1/devices:import",                op_or_sho, &R::import_devices,     "/api/v1/devices/import"},
    Route{"POST",  "/api/v1/devices/import",                op_or_sho, &R::import_devices},
    Route{"POST",  "/api/v1/devices:claim",                 sho,       &R::claim_device},
    Route{"GET",   "/api/v1/devices",                       owner,     &R::list_devices},
    Route{"GET",   "/api/v1/audit",                         op,        &R::list_audit},
    // Guards: everything under one device is for the operator, SHOs and subscribers (a VNO gets
    // 403 before the path is looked at further; the request keeps the "unknown" label).
    Route{"",      "/api/v1/devices/{devId}",               owner,     nullptr},
    Route{"",      "/api/v1/devices/{devId}/{sub}",         owner,     nullptr},
    Route{"GET",   "/api/v1/devices/{devId}",               owner,     &R::get_device},
    Route{"PATCH", "/api/v1/devices/{devId}",               op_or_sho, &R::patch_device},
    Route{"POST",  "/api/v1/devices/{devId}/bootstrap",     op_or_sho, &R::bootstrap_device},
    Route{"GET",   "/api/v1/devices/{devId}/pfc",           owner,     &R::get_device_pfc},
    Route{"GET",   "/api/v1/devices/{devId}/bootstraps",    owner,     &R::list_device_bootstraps, {}, &R::load_visible_device},
    Route{"GET",   "/api/v1/devices/{devId}/jobs",          owner,     &R::list_device_jobs,   {}, &R::load_visible_device},
    Route{"POST",  "/api/v1/devices/{devId}/jobs",          sho_or_sub, &R::submit_job,        {}, &R::load_visible_device},
    Route{"GET",   "/api/v1/devices/{devId}/commands",      op_or_sho, &R::list_device_commands, {}, &R::load_visible_device},
    Route{"POST",  "/api/v1/devices/{devId}/commands",      op_or_sho, &R::submit_command,     {}, &R::load_visible_device},
    Route{"GET",   "/api/v1/devices/{devId}/commands/{id}", op_or_sho, &R::get_command,        {}, &R::load_visible_device},
    Route{"POST",  "/api/v1/devices/{devId}/operator-change", sho,     &R::request_operator_change},
    Route{"GET",   "/api/v1/devices/{devId}/operator-changes", owner,  &R::list_device_operator_changes},
    Route{"GET",   "/api/v1/operator-changes",              op_or_sho, &R::list_open_operator_changes},
    Route{"POST",  "/api/v1/operator-changes",              sho,       &R::request_operator_change_batch},
    Route{"GET",   "/api/v1/operator-changes/{id}",         owner,     &R::get_operator_change},
    Route{"GET",   "/api/v1/operator-change-batches/{id}",  op_or_sho, &R::get_operator_change_batch},
    Route{"POST",  "/api/v1/operator-changes/{id}/ack",     sho,       &R::acknowledge_operator_change},
    Route{"GET",   "/api/v1/drf/registry/{pcid}",           op_or_sho, &R::get_registry_entry},
    Route{"GET",   "/api/v1/jobs",                          op_or_sho, &R::list_jobs},
    Route{"GET",   "/api/v1/jobs/{id}",                     owner,     &R::get_job},
    Route{"DELETE", "/api/v1/jobs/{id}",                    owner,     &R::cancel_job},
    Route{"POST",  "/api/v1/jobs/{id}/retry",               owner,     &R::retry_job},
    Route{"POST",  "/api/v1/pva/validate",                  op_or_sho, &R::validate_pfc},
    Route{"POST",  "/api/v1/icf/vectors",                   vno_or_op, &R::icf_vectors},
    Route{"POST",  "/api/v1/icf/resync",                    vno_or_op, &R::icf_resync},
  };
  // clang-format on
  return table;
}

namespace {
OperatorChangeOptions change_options(const ApiOptions& api, const RestApi::Clock& clock) {
  OperatorChangeOptions o;
  o.sho_anchors = api.sho_anchors;
  o.subscriber_anchors = api.subscriber_anchors;
  o.clock = clock;
  return o;
}
}  // namespace

RestApi::RestApi(Store& store, const Pva& pva, ApiOptions options, Clock clock)
    : store_(store),
      pva_(pva),
      options_(std::move(options)),
      icf_(store_, random_, IcfOptions{options_.icf_max_vectors, options_.icf_amf}),
      clock_(std::move(clock)),
      changes_(std::make_shared<OperatorChangeService>(store_, pva_, change_options(options_, clock_))) {
  // The live value is the wiring's (set_default_dpf_address replaces it); options_ keeps no copy.
  wiring_.default_dpf_address = std::exchange(options_.default_dpf_address, {});
}

void RestApi::job_queued(const Job& job) {
  if (auto listener = wired(&Wiring::job_listener)) listener(job);
}

std::int64_t RestApi::now() const {
  return unix_now(clock_);
}

void RestApi::audit(const Call& call, std::string action, std::string subject, std::string detail) {
  if (auto r = store_.append_audit({0, now(), call.caller.actor(), std::move(action), std::move(subject), std::move(detail)}); !r)
    spdlog::warn("api: audit append failed: {}", r.error().message());
}

Result<Device> RestApi::visible_device(const Caller& caller, const std::string& dev_id) {
  // An SHO sees its own devices, a subscriber the devices it owns, the operator all.
  auto d = store_.get_device(dev_id);
  if (!d) return d;
  const char* refused = nullptr;
  if (caller.is(Role::sho) && d->sho_id != caller.sho_id)
    refused = "device of another SHO";
  else if (caller.is(Role::subscriber) && d->subscriber_id != caller.subscriber_id)
    refused = "device of another subscriber";
  if (refused != nullptr) {
    // Refused, and recorded: the caller learns nothing (the same 404 as an unknown DevId).
    if (auto r = store_.append_audit({0, now(), caller.actor(), "device.refused", dev_id, refused}); !r)
      spdlog::warn("api: audit append failed: {}", r.error().message());
    return fail(make_error_code(errc::not_found));
  }
  if (caller.is(Role::vno)) return fail(make_error_code(errc::not_found));
  return d;
}

std::optional<HttpResponse> RestApi::load_visible_device(Call& call) {
  auto d = visible_device(call.caller, call.param("devId"));
  if (!d) return store_error(d.error());
  call.device = std::move(*d);
  return std::nullopt;
}

HttpResponse RestApi::handle(const HttpRequest& request) {
  std::string route_name = "other";
  HttpResponse r;
  try {
    r = route(request, route_name);
  } catch (const std::exception& e) {  // nothing below should throw; never let it reach the adapter
    spdlog::error("api: {} {}: {}", request.method, route_name, e.what());
    r = HttpResponse::json_error(500, "internal error");
  }
  if (!r.header("Cache-Control")) r.set_header("Cache-Control", "no-store");  // the console's assets set their own
  metrics_.count(route_name, request.method, r.status);
  spdlog::debug("http {} {} {} -> {}", request.peer, request.method, route_name, r.status);
  return r;
}

std::expected<Caller, HttpResponse> RestApi::authenticate(const HttpRequest& request) {
  auto unauthorized = [] {
    auto r = HttpResponse::json_error(401, "unauthorized", "a valid bearer token is required");
    r.set_header("WWW-Authenticate", "Bearer realm=\"m2mdm\"");
    return std::unexpected(r);
  };
  auto auth = request.header("Authorization");
  if (!auth || auth->size() < 7 || !ieq(auth->substr(0, 7), "Bearer ")) return unauthorized();
  std::string_view token = auth->substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty() || token.size() > 512) return unauthorized();
  const Bytes h = hash_token(token);
  if (!options_.admin_token_hash.empty() && constant_time_equal(h, options_.admin_token_hash))
    return Caller{Role::op, 0, 0};
  for (const auto& v : options_.vno_token_hashes)
    if (constant_time_equal(h, v)) return Caller{Role::vno, 0, 0};
  auto sho = store_.find_sho_by_token_hash(h);
  if (sho) return Caller{Role::sho, sho->id, 0};
  if (sho.error() != make_error_code(errc::not_found)) return std::unexpected(store_error(sho.error()));
  auto subscriber = store_.find_subscriber_by_token_hash(h);
  if (subscriber) return Caller{Role::subscriber, 0, subscriber->id};
  if (subscriber.error() != make_error_code(errc::not_found)) return std::unexpected(store_error(subscriber.error()));
  return unauthorized();
}

HttpResponse RestApi::route(const HttpRequest& request, std::string& route_name) {
  const std::string_view path = request.path();
  const auto table = routes();
  const bool api = path == kApiPrefix || (path.starts_with(kApiPrefix) && path.substr(kApiPrefix.size()).starts_with('/'));
  if (!api) {
    // Outside /api/v1: exact paths (or one trailing "{name}" segment), no authentication.
    for (std::size_t i = 0; i < table.size(); ++i) {
      std::vector<std::pair<std::string_view, std::string>> params;
      if (table[i].roles != kPublic || !match_public_pattern(table[i].pattern, path, params)) continue;
      std::size_t end = i;
      while (end < table.size() && table[end].pattern == table[i].pattern) ++end;
      route_name = std::string(table[i].route_name());
      Call call{request, {}, media_type(request.header("Content-Type")), std::move(params), std::nullopt};
      return dispatch(table.subspan(i, end - i), call);
    }
    return HttpResponse::json_error(404, "not found");
  }

  route_name = "/api/v1/unknown";
  auto caller = authenticate(request);  // first, whatever the path (unknown paths too)
  if (!caller) return caller.error();
  auto segs = split_path(path);  // "api", "v1", ...
  std::vector<std::string> s;
  for (std::size_t i = 2; i < segs.size(); ++i) {
    auto d = pct_decode(segs[i]);
    if (!d) return bad_request("bad percent-encoding in path");
    s.push_back(std::move(*d));
  }
  Call call{request, *caller, media_type(request.header("Content-Type")), {}, std::nullopt};
  for (std::size_t i = 0; i < table.size(); ++i) {
    const Route& row = table[i];
    if (row.roles == kPublic || !match_api_pattern(row.pattern, s, call.params)) continue;
    if (!row.handler) {  // a guard
      if (!call.caller.in(row.roles)) return forbidden();
      continue;
    }
    std::size_t end = i;
    while (end < table.size() && table[end].pattern == row.pattern) ++end;
    route_name = std::string(row.route_name());
    return dispatch(table.subspan(i, end - i), call);
  }
  return HttpResponse::json_error(404, "not found", "no such API endpoint");
}

HttpResponse RestApi::dispatch(std::span<const Route> rows, Call& call) {
  const bool public_route = rows.front().roles == kPublic;
  if (!public_route) {
    Roles any = 0;
    for (const auto& r : rows) any |= r.roles;
    if (!call.caller.in(any)) return forbidden();
  }
  if (rows.front().load)
    if (auto stop = (this->*rows.front().load)(call)) return std::move(*stop);
  std::string allow;
  for (const auto& r : rows) {
    if (r.method == call.request.method) {
      if (!public_route && !call.caller.in(r.roles)) return forbidden();
      return (this->*r.handler)(call);
    }
    allow += allow.empty() ? "" : ", ";
    allow += r.method;
  }
  return method_not_allowed(allow);
}

}  // namespace m2mdm::server
