// Endpoints of operator change (docs/operator-change.md; seed 004 §5.2.5.8.3.1, seed 000 §5.2.2):
// the new SHO requests it with the old SHO's token and its sealed MCIM; the old SHO
// acknowledges the device's discard confirmation; each party reads the change as it may see it.
#include "api/json_views.hpp"
#include "api/request_parts.hpp"
#include "api/responses.hpp"
#include "api/rest_api.hpp"
#include "m2mdm/mo/change_token.hpp"
#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/rest_json.hpp"


namespace m2mdm::server {
using json = nlohmann::json;
namespace {

/// The change as @p caller may see it: the new SHO never sees the old SHO or its data (seed 004
/// step 11), the old SHO sees its own discard confirmation, the operator everything.
json change_json(const OperatorChange& c, const Caller& caller) {
  json j = {{"id", c.id},
            {"devId", c.dev_id},
            {"variant", c.variant},
            {"state", to_string(c.state)},
            {"discarded", c.discarded_at != 0},
            {"acknowledged", c.acknowledged_at != 0},
            {"created", c.created},
            {"updated", c.updated}};
  const bool op = caller.is(Role::op);
  const bool old_sho = caller.is(Role::sho) && caller.sho_id == c.from_sho;
  const bool new_sho = caller.is(Role::sho) && caller.sho_id == c.to_sho;
  if (op || old_sho) {
    j["fromSho"] = c.from_sho;
    j["toSho"] = c.to_sho;
    j["discardDetail"] = c.discard_detail;
  }
  if (op || new_sho) {
    j["jobId"] = c.job_id;
    j["resultCode"] = c.result_code;
  }
  if (c.completed_at != 0) j["completedAt"] = c.completed_at;
  return j;
}

HttpResponse authorisation_failed(std::string_view why) {
  // The M2MSIMMobj result code the device gives the same refusal (docs/m2msimmobj.md).
  return json_response(403, {{"error", "authorization_failed"},
                             {"resultCode", static_cast<int>(mo::M2msimResult::AuthorizationFailed)},
                             {"message", std::string(why)}});
}

}  // namespace

HttpResponse RestApi::request_operator_change(Call& call) {
  if (!json_body_type(call.body_type))
    return unsupported_media_type("use application/json");
  auto req = parse_operator_change_request(call.request.body, call.request.body.size());
  if (!req) return bad_request(req.error());
  if (req->variant != "A")
    return HttpResponse::json_error(501, "not implemented",
                                    "variant " + req->variant + " is not implemented yet (docs/operator-change.md)");
  if (req->object.empty()) return bad_request("\"object\" (the new SHO's sealed MCIM) is required for variant A");
  if (!options_.sho_anchors)
    return HttpResponse::json_error(503, "not configured",
                                    "operator change needs the SHO trust anchors ([operator_change] sho_trust_anchors)");
  const std::string& dev_id = call.param("devId");
  const std::int64_t t = now();
  auto refuse = [&](std::string_view why) {
    audit(call, "operator_change.refused", dev_id, std::string(why));
    return authorisation_failed(why);
  };
  // An unknown DevId is refused like a bad token: without the old SHO's token for the device,
  // an SHO learns nothing about it.
  auto device = store_.get_device(dev_id);
  if (!device) {
    if (device.error() == make_error_code(errc::not_found)) return refuse("no valid authorisation for this device");
    return store_error(device.error());
  }
  if (!device->sho_id) return refuse("the device has no SHO to change from");
  if (*device->sho_id == call.caller.sho_id)
    return HttpResponse::json_error(409, "conflict", "the device is already registered to this SHO");
  auto old_sho = store_.get_sho(*device->sho_id);
  auto new_sho = store_.get_sho(call.caller.sho_id);
  if (!old_sho) return store_error(old_sho.error());
  if (!new_sho) return store_error(new_sho.error());

  mo::ChangeTokenCheck check;
  check.device_id = dev_id;
  check.variant = mo::ChangeVariant::via_old_sho;
  check.from_sho = old_sho->signer_name();
  check.to_sho = new_sho->signer_name();
  check.now = t;
  check.nonce_used = [this](std::string_view nonce) {
    auto spent = store_.change_nonce_spent(nonce);
    return !spent || *spent;  // a store failure refuses
  };
  auto token = mo::verify_change_token(req->authorisation, *options_.sho_anchors, check);
  if (!token) return refuse(token.error().message());

  // Seed 004 step 2: the PVA validates the platform credential for the new SHO.
  if (device->pfc_der.empty())
    return HttpResponse::json_error(409, "conflict", "the device has not reported its PfC yet");
  const PvaVerdict verdict = pva_.validate(device->pfc_der, t);
  if (!verdict.valid) return json_response(422, {{"error", "pfc_invalid"}, {"message", verdict.reason}});

  OperatorChange change;
  change.dev_id = dev_id;
  change.variant = req->variant;
  change.from_sho = old_sho->id;
  change.to_sho = new_sho->id;
  change.nonce = token->nonce;
  NewJob nj{dev_id, new_sho->id, JobKind::operator_change, std::move(req->object),
            base64_encode(req->authorisation), std::move(req->correlator),
            t + req->ttl_seconds.value_or(options_.default_job_ttl)};
  AuditEntry entry{0, t, call.caller.actor(), "operator_change.request", "",
                   "variant A of " + dev_id + " from sho:" + std::to_string(old_sho->id)};
  auto created = store_.create_operator_change(change, nj, entry, t);
  if (!created) {
    if (created.error() == make_error_code(errc::conflict))
      return HttpResponse::json_error(409, "conflict",
                                      "the authorisation was already used, the correlator is taken, or the device "
                                      "has an operator change in progress");
    return store_error(created.error());
  }
  std::function<void(const Job&)> listener;
  {
    std::lock_guard lock(mutex_);
    listener = job_listener_;
  }
  if (listener) listener(created->second);  // package 0 trigger (TR 33.812 step 15)
  auto r = json_response(202, change_json(created->first, call.caller));
  r.set_header("Location", "/api/v1/operator-changes/" + std::to_string(created->first.id));
  return r;
}

std::expected<OperatorChange, HttpResponse> RestApi::visible_change(const Call& call) {
  const auto id = positive_id(call.param("id"));
  if (!id) return std::unexpected(HttpResponse::json_error(404, "not found"));
  auto change = store_.get_operator_change(*id);
  if (!change) return std::unexpected(store_error(change.error()));
  if (call.caller.is(Role::sho) && call.caller.sho_id != change->from_sho && call.caller.sho_id != change->to_sho) {
    audit(call, "operator_change.refused", std::to_string(*id), "change of other SHOs");
    return std::unexpected(HttpResponse::json_error(404, "not found"));
  }
  return *change;
}

HttpResponse RestApi::get_operator_change(Call& call) {
  auto change = visible_change(call);
  if (!change) return change.error();
  return json_response(200, change_json(*change, call.caller));
}

HttpResponse RestApi::list_device_operator_changes(Call& call) {
  auto changes = store_.list_operator_changes(call.param("devId"));
  if (!changes) return store_error(changes.error());
  json arr = json::array();
  for (const auto& c : *changes) {
    if (call.caller.is(Role::sho) && call.caller.sho_id != c.from_sho && call.caller.sho_id != c.to_sho) continue;
    arr.push_back(change_json(c, call.caller));
  }
  return json_response(200, {{"operatorChanges", arr}});
}

HttpResponse RestApi::acknowledge_operator_change(Call& call) {
  auto change = visible_change(call);
  if (!change) return change.error();
  if (call.caller.sho_id != change->from_sho)
    return HttpResponse::json_error(403, "forbidden", "only the old SHO acknowledges the discard");
  auto acked = store_.acknowledge_change(change->id, now());
  if (!acked) {
    if (acked.error() == make_error_code(errc::conflict))
      return HttpResponse::json_error(409, "conflict", "the device has not confirmed the discard yet");
    return store_error(acked.error());
  }
  return json_response(200, change_json(*acked, call.caller));
}

}  // namespace m2mdm::server
