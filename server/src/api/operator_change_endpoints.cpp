// Endpoints of operator change (docs/operator-change.md; seed 004 §5.2.5.8.3, seed 000 §5.2.2):
// the new SHO requests it with the old SHO's token and its sealed MCIM (OperatorChangeService
// decides); the old SHO acknowledges the device's discard confirmation; each party reads the
// change as it may see it.
#include "api/json_body.hpp"
#include "api/json_views.hpp"
#include "api/request_parts.hpp"
#include "api/responses.hpp"
#include "api/rest_api.hpp"
#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/rest_json.hpp"


#include <tuple>

namespace m2mdm::server {
using json = nlohmann::json;
namespace {

/// The change as @p caller may see it: the new SHO never sees the old SHO or its data (seed 004
/// step 11), the old SHO sees its own discard confirmation, the subscriber (the device's owner)
/// both SHOs and the outcome, the operator everything.
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
  if (caller.is(Role::subscriber)) {  // the owner who authorised it: both SHOs and the outcome
    j["fromSho"] = c.from_sho;
    j["toSho"] = c.to_sho;
    j["resultCode"] = c.result_code;
  }
  if (op || old_sho) {
    j["fromSho"] = c.from_sho;
    j["toSho"] = c.to_sho;
    j["discardDetail"] = c.discard_detail;
  }
  if (op || new_sho) {
    j["jobId"] = c.job_id;
    j["resultCode"] = c.result_code;
    if (c.reset_job_id != 0) j["resetJobId"] = c.reset_job_id;
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

/// A refusal of the operator-change service as HTTP: status, error and message.
std::tuple<int, std::string, std::string> refusal_status(const ChangeRefusal& refusal) {
  switch (refusal.kind) {
    case ChangeRefusalKind::not_configured: return {503, "not configured", refusal.reason};
    case ChangeRefusalKind::authorisation_failed: return {403, "authorization_failed", refusal.reason};
    case ChangeRefusalKind::conflict: return {409, "conflict", refusal.reason};
    case ChangeRefusalKind::pfc_invalid: return {422, "pfc_invalid", refusal.reason};
    case ChangeRefusalKind::internal: break;
  }
  return {500, "error", refusal.reason};
}

HttpResponse refusal_response(const ChangeRefusal& refusal) {
  if (refusal.kind == ChangeRefusalKind::authorisation_failed) return authorisation_failed(refusal.reason);
  const auto [status, error, message] = refusal_status(refusal);
  if (refusal.kind == ChangeRefusalKind::pfc_invalid)
    return json_response(status, {{"error", error}, {"message", message}});
  return HttpResponse::json_error(status, error, message);
}

}  // namespace

HttpResponse RestApi::request_operator_change(Call& call) {
  auto req = parse_json_body(call, parse_operator_change_request, call.request.body.size());
  if (!req) return req.error();
  ChangeRequest cr;
  cr.dev_id = call.param("devId");
  cr.new_sho = call.caller.sho_id;
  cr.variant = std::move(req->variant);
  cr.authorisation = std::move(req->authorisation);
  cr.mcim = std::move(req->object);
  cr.correlator = std::move(req->correlator);
  cr.ttl_seconds = req->ttl_seconds.value_or(options_.default_job_ttl);
  cr.actor = call.caller.actor();
  auto created = changes_->request(cr);
  if (!created) {
    if (created.error().kind == ChangeRefusalKind::authorisation_failed)
      audit(call, "operator_change.refused", cr.dev_id, created.error().reason);
    return refusal_response(created.error());
  }
  job_queued(created->second);  // package 0 trigger (TR 33.812 step 15)
  auto r = json_response(202, change_json(created->first, call.caller));
  r.set_header("Location", "/api/v1/operator-changes/" + std::to_string(created->first.id));
  return r;
}

HttpResponse RestApi::request_operator_change_batch(Call& call) {
  auto req = parse_json_body(call, parse_operator_change_batch, call.request.body.size(), kMaxBatchDevices);
  if (!req) return req.error();
  std::vector<ChangeRequest> items;
  items.reserve(req->changes.size());
  for (auto& c : req->changes) {
    ChangeRequest cr;
    cr.dev_id = std::move(c.dev_id);
    cr.new_sho = call.caller.sho_id;
    cr.variant = req->variant;
    cr.authorisation = std::move(c.authorisation);
    cr.mcim = std::move(c.object);
    cr.correlator = std::move(c.correlator);
    cr.ttl_seconds = req->ttl_seconds.value_or(options_.default_job_ttl);
    cr.actor = call.caller.actor();
    items.push_back(std::move(cr));
  }
  auto done = changes_->request_batch(std::move(items));
  if (!done) return refusal_response(done.error());
  json results = json::array();
  std::size_t accepted = 0;
  for (const auto& o : done->second) {
    if (o.created) {
      ++accepted;
      job_queued(o.created->second);  // package 0 trigger
      json r = change_json(o.created->first, call.caller);
      r["status"] = 202;
      results.push_back(std::move(r));
      continue;
    }
    const auto [status, error, message] = refusal_status(*o.refusal);
    if (o.refusal->kind == ChangeRefusalKind::authorisation_failed)
      audit(call, "operator_change.refused", o.dev_id, message);
    json r = {{"devId", o.dev_id}, {"status", status}, {"error", error}, {"message", message}};
    if (status == 403) r["resultCode"] = static_cast<int>(mo::M2msimResult::AuthorizationFailed);
    results.push_back(std::move(r));
  }
  const auto& batch = done->first;
  auto r = json_response(202, {{"batchId", batch.id},
                               {"variant", batch.variant},
                               {"accepted", accepted},
                               {"refused", done->second.size() - accepted},
                               {"results", results}});
  r.set_header("Location", "/api/v1/operator-change-batches/" + std::to_string(batch.id));
  return r;
}

HttpResponse RestApi::get_operator_change_batch(Call& call) {
  const auto id = positive_id(call.param("id"));
  if (!id) return HttpResponse::json_error(404, "not found");
  auto batch = store_.get_change_batch(*id);
  if (!batch) return store_error(batch.error());
  if (call.caller.is(Role::sho) && call.caller.sho_id != batch->to_sho) return HttpResponse::json_error(404, "not found");
  auto changes = store_.operator_changes_of_batch(*id);
  if (!changes) return store_error(changes.error());
  json counts = json::object();
  json list = json::array();
  std::size_t open = 0;
  for (const auto& c : *changes) {
    const std::string state(to_string(c.state));
    counts[state] = counts.value(state, 0) + 1;
    if (c.state != ChangeState::completed && c.state != ChangeState::failed) ++open;
    list.push_back(change_json(c, call.caller));
  }
  return json_response(200, {{"id", batch->id},
                             {"variant", batch->variant},
                             {"size", batch->size},
                             {"accepted", changes->size()},
                             {"created", batch->created},
                             {"counts", counts},
                             {"done", open == 0},
                             {"operatorChanges", list}});
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
  if (call.caller.is(Role::subscriber) && !visible_device(call.caller, change->dev_id))
    return std::unexpected(HttpResponse::json_error(404, "not found"));
  return *change;
}

HttpResponse RestApi::get_operator_change(Call& call) {
  auto change = visible_change(call);
  if (!change) return change.error();
  return json_response(200, change_json(*change, call.caller));
}

HttpResponse RestApi::list_device_operator_changes(Call& call) {
  // SHOs see the changes they took part in (the old SHO too, after the device left it); a
  // subscriber those of the devices it owns.
  if (call.caller.is(Role::subscriber))
    if (auto d = visible_device(call.caller, call.param("devId")); !d) return store_error(d.error());
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

HttpResponse RestApi::list_open_operator_changes(Call& call) {
  auto page = id_page_params(call);
  if (!page) return page.error();
  std::optional<std::int64_t> sho;
  if (call.caller.is(Role::sho)) sho = call.caller.sho_id;  // the changes it takes part in
  auto list = store_.list_open_operator_changes(sho, page->after, page->limit);
  if (!list) return store_error(list.error());
  json arr = json::array();
  for (const auto& c : *list) arr.push_back(change_json(c, call.caller));
  json out = {{"operatorChanges", arr}};
  if (!list->empty() && list->size() == page->limit) out["next"] = list->back().id;
  return json_response(200, out);
}

}  // namespace m2mdm::server
