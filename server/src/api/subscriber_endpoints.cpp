// Endpoints for subscribers, the devices' owners (seed 004 "M2ME U/S"; docs/operator-change.md
// "The subscriber"): the operator creates them, hands out their bearer token once and assigns
// devices to them; a subscriber lists its own devices at GET /api/v1/devices.
#include "api/json_body.hpp"
#include "api/json_views.hpp"
#include "api/request_parts.hpp"
#include "api/responses.hpp"
#include "api/rest_api.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/rest_json.hpp"

namespace m2mdm::server {
using json = nlohmann::json;
namespace {

json subscriber_json(const Subscriber& s) { return {{"id", s.id}, {"name", s.name}, {"created", s.created}}; }

}  // namespace

std::expected<Subscriber, HttpResponse> RestApi::subscriber_param(const Call& call) {
  const auto id = positive_id(call.param("id"));
  if (!id) return std::unexpected(HttpResponse::json_error(404, "not found", "no such subscriber"));
  auto s = store_.get_subscriber(*id);
  if (!s) {
    if (s.error() == make_error_code(errc::not_found))
      return std::unexpected(HttpResponse::json_error(404, "not found", "no such subscriber"));
    return std::unexpected(store_error(s.error()));
  }
  return *s;
}

HttpResponse RestApi::list_subscribers(Call& /*call*/) {
  auto list = store_.list_subscribers();
  if (!list) return store_error(list.error());
  json arr = json::array();
  for (const auto& s : *list) arr.push_back(subscriber_json(s));
  return json_response(200, {{"subscribers", arr}});
}

HttpResponse RestApi::create_subscriber(Call& call) {
  auto name = parse_json_body(call, parse_subscriber_create);
  if (!name) return name.error();
  std::string token = new_bearer_token();
  if (token.empty()) return HttpResponse::json_error(500, "internal error", "no randomness");
  auto s = store_.create_subscriber(*name, hash_token(token), now());
  if (!s) {
    if (s.error() == make_error_code(errc::conflict))
      return HttpResponse::json_error(409, "conflict", "a subscriber named " + *name + " exists");
    return store_error(s.error());
  }
  audit(call, "subscriber.create", std::to_string(s->id), s->name);
  auto r = json_response(201, {{"id", s->id}, {"name", s->name}, {"created", s->created}, {"token", token}});
  r.set_header("Location", "/api/v1/subscribers/" + std::to_string(s->id));
  return r;
}

HttpResponse RestApi::get_subscriber(Call& call) {
  auto s = subscriber_param(call);
  if (!s) return s.error();
  return json_response(200, subscriber_json(*s));
}

HttpResponse RestApi::list_subscriber_devices(Call& call) {
  auto s = subscriber_param(call);
  if (!s) return s.error();
  auto page = page_params(call);
  if (!page) return page.error();
  auto list = store_.list_subscriber_devices(s->id, page->after, page->limit);
  if (!list) return store_error(list.error());
  json arr = json::array();
  for (const auto& d : *list) arr.push_back(device_json(d));
  return json_response(200, {{"devices", arr}});
}

HttpResponse RestApi::assign_subscriber_devices(Call& call) {
  auto s = subscriber_param(call);
  if (!s) return s.error();
  auto ids = parse_json_body(call, parse_device_id_list, kMaxAssignDevices);
  if (!ids) return ids.error();
  const std::int64_t t = now();
  auto changed = store_.assign_devices(
      s->id, *ids, AuditEntry{0, t, call.caller.actor(), "subscriber.assign", std::to_string(s->id), s->name}, t);
  if (!changed) {
    if (changed.error() == make_error_code(errc::not_found))
      return HttpResponse::json_error(404, "not found", "a listed DevId is not registered (nothing was assigned)");
    return store_error(changed.error());
  }
  return json_response(200, {{"subscriberId", s->id}, {"assigned", ids->size()}, {"changed", *changed}});
}

HttpResponse RestApi::remove_subscriber_device(Call& call) {
  auto s = subscriber_param(call);
  if (!s) return s.error();
  const std::string& dev_id = call.param("devId");
  auto d = store_.get_device(dev_id);
  if (!d) return store_error(d.error());
  if (d->subscriber_id != s->id) return HttpResponse::json_error(404, "not found", "not a device of this subscriber");
  const std::int64_t t = now();
  const std::string ids[] = {dev_id};
  auto changed = store_.assign_devices(
      std::nullopt, ids, AuditEntry{0, t, call.caller.actor(), "subscriber.remove", dev_id, s->name}, t);
  if (!changed) return store_error(changed.error());
  return json_response(200, {{"devId", dev_id}, {"subscriberId", nullptr}});
}

}  // namespace m2mdm::server
