// Endpoints for the DRF (TR 33.812 §5.2 steps 9-12): issuing a bootstrap for a device and
// reading the registry entry (PCID -> SHO, DPF address, active bootstrap).
#include "api/json_body.hpp"
#include "api/request_parts.hpp"
#include "api/responses.hpp"
#include "api/rest_api.hpp"
#include "m2mdm/server/rest_json.hpp"

namespace m2mdm::server {
using json = nlohmann::json;

HttpResponse RestApi::bootstrap_device(Call& call) {
  const std::string& dev_id = call.param("devId");
  auto d = visible_device(call.caller, dev_id);  // an SHO reaches only its own devices (404 otherwise)
  if (!d) return store_error(d.error());
  auto req = parse_json_body(call, parse_bootstrap_request);
  if (!req) return req.error();
  const auto drf = wired(&Wiring::drf);
  if (!drf || !drf->configured())
    return HttpResponse::json_error(503, "service unavailable", "the DRF is not configured (no DPF key pin)");
  BootstrapRequest br;
  br.delivery = req->sms ? BootstrapDelivery::sms : BootstrapDelivery::udp;
  br.rebootstrap = req->rebootstrap;
  br.rebootstrap_token = req->rebootstrap_token;
  br.actor = call.caller.actor();
  // Re-bootstrap only for the operator or the device's own SHO (TR 33.812 §5.2.2.6.3.2 FFS).
  br.caller_may_rebootstrap = call.caller.is(Role::op) || (call.caller.is(Role::sho) && d->sho_id == call.caller.sho_id);
  auto out = drf->bootstrap(dev_id, br);
  if (!out) {
    const auto& refusal = out.error();
    switch (refusal.kind) {
      case DrfRefusalKind::already_bootstrapped:
      case DrfRefusalKind::undeliverable:
        audit(call, "drf.bootstrap.refused", dev_id, refusal.reason);
        return HttpResponse::json_error(409, "conflict", refusal.reason);
      case DrfRefusalKind::not_authorised:
        audit(call, "drf.bootstrap.refused", dev_id, refusal.reason);
        return HttpResponse::json_error(403, "forbidden", refusal.reason);
      case DrfRefusalKind::unknown_device: return HttpResponse::json_error(404, "error", refusal.reason);
      case DrfRefusalKind::not_configured: return HttpResponse::json_error(503, "service unavailable", refusal.reason);
      case DrfRefusalKind::push_failed: return HttpResponse::json_error(502, "bad gateway", refusal.reason);
      case DrfRefusalKind::internal: break;
    }
    return HttpResponse::json_error(500, "error", refusal.reason);
  }
  json body = {{"devId", dev_id},
               {"bootstrapId", out->record.id},
               {"issued", out->record.issued},
               {"secMethod", out->record.sec_method},
               {"rebootstrap", out->record.rebootstrap},
               {"delivery", req->sms ? "sms" : "push"},
               {"serverId", out->issued.dm.server_id},
               {"pushBytes", out->issued.push_pdu.size()}};
  if (req->sms) {
    json segments = json::array();
    for (const auto& seg : out->issued.sms) segments.push_back(hex_encode(seg, true));
    body["smsSegments"] = segments;  // TP-User-Data (UDH + payload), 8-bit data coding, UDHI set
    body["smsDataCoding"] = "8bit";
  } else {
    body["pushAddress"] = out->push_address;
  }
  return json_response(req->sms ? 200 : 202, body);
}

HttpResponse RestApi::get_registry_entry(Call& call) {
  auto d = store_.get_device_by_pcid(call.param("pcid"));
  if (!d) return store_error(d.error());
  if (call.caller.is(Role::sho) && d->sho_id != call.caller.sho_id) return HttpResponse::json_error(404, "not found");
  auto b = store_.active_bootstrap(d->dev_id);
  if (!b) return store_error(b.error());
  json out = {{"pcid", d->pcid}, {"devId", d->dev_id}, {"dpfAddress", d->dpf_address},
              {"pushAddress", d->push_address}, {"secMethod", d->sec_method}};
  out["shoId"] = d->sho_id ? json(*d->sho_id) : json(nullptr);
  if (*b)
    out["activeBootstrap"] = {{"id", (*b)->id},         {"issued", (*b)->issued},
                              {"delivery", (*b)->delivery}, {"secMethod", (*b)->sec_method},
                              {"rebootstrap", (*b)->rebootstrap}, {"actor", (*b)->actor}};
  else
    out["activeBootstrap"] = nullptr;
  return json_response(200, out);
}

HttpResponse RestApi::list_device_bootstraps(Call& call) {
  auto page = id_page_params(call);
  if (!page) return page.error();
  auto list = store_.list_bootstraps(call.param("devId"), page->after, page->limit);
  if (!list) return store_error(list.error());
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& b : *list)
    arr.push_back({{"id", b.id},
                   {"issued", b.issued},
                   {"actor", b.actor},
                   {"secMethod", b.sec_method},
                   {"delivery", b.delivery},
                   {"rebootstrap", b.rebootstrap},
                   {"active", b.active}});
  nlohmann::json out = {{"bootstraps", arr}};
  if (!list->empty() && list->size() == page->limit) out["next"] = list->back().id;
  return json_response(200, out);
}

}  // namespace m2mdm::server
