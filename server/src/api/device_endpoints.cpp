// Endpoints for the RO's device records: bulk import, the SHO's listing, one device (GET,
// PATCH) and its reported platform credential (PfC).
#include "api/json_body.hpp"
#include "api/json_views.hpp"
#include "api/request_parts.hpp"
#include "api/responses.hpp"
#include "api/rest_api.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/rest_json.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace m2mdm::server {
using json = nlohmann::json;

HttpResponse RestApi::import_devices(Call& call) {
  const std::string_view body_mt = call.body_type;
  const bool ndjson = ieq(body_mt, "application/x-ndjson") || ieq(body_mt, "application/ndjson");
  if (!ndjson && !json_body_type(body_mt))
    return unsupported_media_type("use application/json or application/x-ndjson");
  auto parsed = parse_device_import(call.request.body, ndjson, options_.max_import_devices);
  if (!parsed) return bad_request(parsed.error());
  const bool is_sho = call.caller.is(Role::sho);
  std::vector<Device> devices;
  std::set<std::int64_t> sho_ids;
  const std::string default_dpf = wired(&Wiring::default_dpf_address);
  devices.reserve(parsed->size());
  for (auto& item : *parsed) {
    Device d = std::move(item.device);
    if (is_sho) {
      if (item.sho_given && *d.sho_id != call.caller.sho_id)
        return bad_request("device " + d.dev_id + ": an SHO may import only its own devices");
      d.sho_id = call.caller.sho_id;
    }
    if (d.sho_id) sho_ids.insert(*d.sho_id);
    if (d.dpf_address.empty()) d.dpf_address = default_dpf;
    devices.push_back(std::move(d));
  }
  for (auto id : sho_ids)
    if (auto sho = store_.get_sho(id); !sho) return bad_request("unknown shoId " + std::to_string(id));
  const std::int64_t t = now();
  AuditEntry entry{0, t, call.caller.actor(), "device.import", std::to_string(devices.size()) + " devices", ""};
  // An SHO can neither learn about nor take over a device someone else holds: such a device is
  // answered as if the import had stored it, and nothing of it changes (docs/server.md "Who owns
  // a device"). The operator's import is the registry: it may name any SHO, or none.
  auto counts = is_sho ? store_.import_sho_devices(call.caller.sho_id, devices, std::move(entry), t)
                       : store_.import_devices(devices, std::move(entry), t);
  if (!counts) {
    if (counts.error() == make_error_code(errc::conflict))
      return HttpResponse::json_error(409, "conflict", "a pcid is already registered to another device");
    return store_error(counts.error());
  }
  return json_response(200, {{"total", devices.size()},
                             {"inserted", counts->inserted},
                             {"updated", counts->updated},
                             {"unchanged", counts->unchanged}});
}

HttpResponse RestApi::claim_device(Call& call) {
  auto parsed = parse_json_body(call, parse_claim_request);
  if (!parsed) return parsed.error();
  auto outcome = store_.claim_device(DeviceClaim{call.caller.sho_id, parsed->dev_id, std::move(parsed->device_pin)},
                                     options_.claim_policy, now());
  if (!outcome) return store_error(outcome.error());
  switch (outcome->verdict) {
    case ClaimVerdict::claimed: {
      auto d = store_.get_device(parsed->dev_id);
      if (!d) return store_error(d.error());
      return json_response(200, device_json(*d));
    }
    case ClaimVerdict::throttled: {
      auto r = HttpResponse::json_error(429, "too many requests", "too many failed claims: retry later");
      r.set_header("Retry-After", std::to_string(outcome->retry_after));
      return r;
    }
    case ClaimVerdict::refused: break;
  }
  // One answer for an unknown DevId, a wrong PIN and a device that has an SHO (the audit log
  // tells the operator which).
  return HttpResponse::json_error(404, "not found", "no device to claim with this devId and devicePin");
}

std::expected<RestApi::Page, HttpResponse> RestApi::page_params(const Call& call) {
  const auto query = call.request.query();
  Page page;
  if (auto l = query_param(query, "limit"); !l.empty()) {
    std::size_t v = 0;
    auto [p, ec] = std::from_chars(l.data(), l.data() + l.size(), v);
    if (ec != std::errc{} || p != l.data() + l.size() || v == 0 || v > 1000)
      return std::unexpected(bad_request("limit must be 1..1000"));
    page.limit = v;
  }
  page.after = query_param(query, "after");
  return page;
}

std::expected<RestApi::IdPage, HttpResponse> RestApi::id_page_params(const Call& call) {
  auto page = page_params(call);
  if (!page) return std::unexpected(page.error());
  IdPage out{0, page->limit};
  if (!page->after.empty()) {
    auto id = positive_id(page->after);
    if (!id) return std::unexpected(bad_request("after must be the id of the previous page's last entry"));
    out.after = *id;
  }
  return out;
}

HttpResponse RestApi::list_devices(Call& call) {
  auto page = page_params(call);
  if (!page) return page.error();
  const auto query = call.request.query();
  // The operator lists every device (or one SHO's: ?shoId=), an SHO the devices registered to it,
  // a subscriber the devices it owns.
  DeviceQuery dq;
  dq.after_dev_id = page->after;
  dq.limit = page->limit;
  if (call.caller.is(Role::subscriber)) dq.subscriber_id = call.caller.subscriber_id;
  if (call.caller.is(Role::sho)) dq.sho_id = call.caller.sho_id;
  if (auto s = query_param(query, "shoId"); !s.empty()) {
    if (!call.caller.is(Role::op)) return bad_request("shoId is the operator's filter");
    auto id = positive_id(s);
    if (!id) return bad_request("shoId must be a positive integer");
    dq.sho_id = *id;
  }
  if (auto s = query_param(query, "state"); !s.empty()) {
    auto st = device_state_from_string(s);
    if (!st) return bad_request("unknown device state " + s);
    dq.state = *st;
  }
  // q: a DevId prefix, or a PCID (the IMSI-like provisional id) in full.
  const std::string q = query_param(query, "q");
  if (q.size() > 256) return bad_request("q is at most 256 characters");
  dq.dev_id_prefix = q;
  auto list = store_.find_devices(dq);
  if (!list) return store_error(list.error());
  if (!q.empty()) {
    auto by_pcid = store_.get_device_by_pcid(q);
    if (!by_pcid && by_pcid.error() != make_error_code(errc::not_found)) return store_error(by_pcid.error());
    const bool fits = by_pcid && !by_pcid->dev_id.starts_with(q) && by_pcid->dev_id > dq.after_dev_id &&
                      (!dq.sho_id || by_pcid->sho_id == dq.sho_id) &&
                      (!dq.subscriber_id || by_pcid->subscriber_id == dq.subscriber_id) &&
                      (!dq.state || by_pcid->state == *dq.state);
    if (fits) {  // into DevId order; a page never grows past its limit
      auto at = std::lower_bound(list->begin(), list->end(), by_pcid->dev_id,
                                 [](const Device& d, const std::string& id) { return d.dev_id < id; });
      list->insert(at, std::move(*by_pcid));
      if (list->size() > dq.limit) list->pop_back();
    }
  }
  json arr = json::array();
  for (const auto& d : *list) arr.push_back(device_json(d));
  json out = {{"devices", arr}};
  if (list->size() == dq.limit) out["next"] = list->back().dev_id;
  return json_response(200, out);
}

HttpResponse RestApi::get_device(Call& call) {
  auto d = visible_device(call.caller, call.param("devId"));
  if (!d) return store_error(d.error());
  return json_response(200, device_json(*d));
}

HttpResponse RestApi::patch_device(Call& call) {
  const std::string& dev_id = call.param("devId");
  auto device = visible_device(call.caller, dev_id);
  if (!device) return store_error(device.error());
  const std::string_view body_mt = call.body_type;
  if (!json_body_type(body_mt) && !ieq(body_mt, "application/merge-patch+json"))
    return unsupported_media_type("use application/json");
  auto patch = parse_device_patch(call.request.body);
  if (!patch) return bad_request(patch.error());
  // The same rule as at import: NETWPIN and USERNETWPIN key the bootstrap's MAC with the IMSI.
  if (patch->sec_method && sec_method_needs_imsi(*patch->sec_method) && !pcid_is_imsi(device->pcid))
    return bad_request("secMethod " + *patch->sec_method + " needs the device's PCID to be an IMSI (6 to 15 digits)");
  if (auto r = store_.patch_device(dev_id, *patch, now()); !r) return store_error(r.error());
  audit(call, "device.patch", dev_id,
        (patch->push_address ? "pushAddress=" + *patch->push_address + " " : std::string()) +
            (patch->sec_method ? "secMethod=" + *patch->sec_method : std::string()));
  auto updated = store_.get_device(dev_id);
  if (!updated) return store_error(updated.error());
  return json_response(200, device_json(*updated));
}

HttpResponse RestApi::get_device_pfc(Call& call) {
  auto d = visible_device(call.caller, call.param("devId"));
  if (!d) return store_error(d.error());
  if (d->pfc_der.empty()) return HttpResponse::json_error(404, "not found", "the device has not reported its PfC yet");
  auto accept = call.request.header("Accept").value_or("");
  if (accept.find("application/pkix-cert") != std::string_view::npos)
    return HttpResponse::make(200, "application/pkix-cert", std::string(as_chars(d->pfc_der)));
  return HttpResponse::make(200, "application/x-pem-file", pem_of(d->pfc_der));
}

}  // namespace m2mdm::server
