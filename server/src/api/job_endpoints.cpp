// Endpoints for the DPF's jobs (TR 33.812 §5.2 steps 14-21): an SHO submits an MCIM operation
// for one of its devices; the operator and the SHO read jobs and their results.
#include "api/json_body.hpp"
#include "api/json_views.hpp"
#include "api/request_parts.hpp"
#include "api/responses.hpp"
#include "api/rest_api.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/rest_json.hpp"

#include <charconv>

namespace m2mdm::server {
using json = nlohmann::json;

namespace {
/// {"jobs": [...], "next": <last id>} (next only when the page is full).
json jobs_page(Store& store, const std::vector<Job>& jobs, std::size_t limit) {
  json arr = json::array();
  for (const auto& j : jobs) {
    auto r = store.get_result(j.id);
    arr.push_back(job_json(j, r ? *r : std::nullopt));
  }
  json out = {{"jobs", arr}};
  if (!jobs.empty() && jobs.size() == limit) out["next"] = jobs.back().id;
  return out;
}

/// The page of jobs @p q selects, as the answer of a listing.
HttpResponse jobs_answer(Store& store, const JobQuery& q) {
  auto jobs = store.list_jobs_page(q);
  if (!jobs) return store_error(jobs.error());
  return json_response(200, jobs_page(store, *jobs, q.limit));
}
}  // namespace

HttpResponse RestApi::list_device_jobs(Call& call) {
  // Oldest first (the device's timeline); an SHO sees only the jobs it submitted.
  auto page = id_page_params(call);
  if (!page) return page.error();
  JobQuery q{call.param("devId"), std::nullopt, std::nullopt, page->after, page->limit};
  if (call.caller.is(Role::sho)) q.sho_id = call.caller.sho_id;
  return jobs_answer(store_, q);
}

HttpResponse RestApi::list_jobs(Call& call) {
  auto page = id_page_params(call);
  if (!page) return page.error();
  JobQuery q{{}, std::nullopt, std::nullopt, page->after, page->limit};
  if (call.caller.is(Role::sho)) q.sho_id = call.caller.sho_id;
  if (auto s = query_param(call.request.query(), "state"); !s.empty()) {
    auto st = job_state_from_string(s);
    if (!st) return bad_request("unknown job state " + s);
    q.state = *st;
  }
  return jobs_answer(store_, q);
}

HttpResponse RestApi::retry_job(Call& call) {
  auto job = visible_job(call);
  if (!job) return job.error();
  if (call.caller.is(Role::subscriber) && job->kind != JobKind::activate && job->kind != JobKind::deactivate)
    return HttpResponse::json_error(403, "forbidden", "a subscriber retries only activate and deactivate jobs");
  if (job->state != JobState::failed && job->state != JobState::expired && job->state != JobState::cancelled)
    return HttpResponse::json_error(409, "conflict", "job is " + std::string(to_string(job->state)) +
                                                         ": only a failed, expired or cancelled job can be retried");
  // An operator change's jobs belong to the change: a new change is requested instead.
  auto change = store_.operator_change_for_job(job->id);
  if (!change) return store_error(change.error());
  if (job->kind == JobKind::operator_change || *change)
    return HttpResponse::json_error(409, "conflict", "the job belongs to an operator change: request a new change");
  const std::int64_t t = now();
  // The same object and authorisation (the device decides again; its anti-replay rules hold), a
  // new correlator, a fresh deadline.
  NewJob nj{job->dev_id, job->sho_id, job->kind, job->payload, job->authorisation, {}, t + options_.default_job_ttl};
  auto created = store_.create_job(nj, t);
  if (!created) return store_error(created.error());
  audit(call, "job.retry", std::to_string(created->id), "retry of job " + std::to_string(job->id));
  job_queued(*created);
  auto r = json_response(202, job_json(*created, std::nullopt));
  r.set_header("Location", "/api/v1/jobs/" + std::to_string(created->id));
  return r;
}

HttpResponse RestApi::submit_job(Call& call) {
  auto sub = parse_json_body(call, parse_job_submission, call.request.body.size());
  if (!sub) return sub.error();
  // Seed 004 design principles: the subscriber, where the device has one, chooses which stored
  // MCIM is active; its SHO still installs and deletes its MCIMs.
  const bool chooses_active = sub->kind == JobKind::activate || sub->kind == JobKind::deactivate;
  const Device& device = *call.device;
  std::int64_t sho_id = call.caller.sho_id;
  if (call.caller.is(Role::subscriber)) {
    if (!chooses_active)
      return HttpResponse::json_error(403, "forbidden", "a subscriber submits only activate and deactivate jobs");
    if (!device.sho_id) return HttpResponse::json_error(409, "conflict", "the device has no SHO yet");
    sho_id = *device.sho_id;  // the job runs in the SHO's name; results reach the SHO too
  } else if (chooses_active && device.subscriber_id) {
    return HttpResponse::json_error(403, "forbidden", "the device's subscriber chooses its active MCIM");
  }
  const std::int64_t t = now();
  NewJob nj{call.param("devId"), sho_id, sub->kind, std::move(sub->object), std::move(sub->authorisation),
            std::move(sub->correlator), t + sub->ttl_seconds.value_or(options_.default_job_ttl)};
  auto job = store_.create_job(nj, t);
  if (!job) {
    if (job.error() == make_error_code(errc::conflict))
      return HttpResponse::json_error(409, "conflict", "correlator already used");
    return store_error(job.error());
  }
  job_queued(*job);  // package 0 trigger (TR 33.812 step 15)
  auto r = json_response(202, job_json(*job, std::nullopt));
  r.set_header("Location", "/api/v1/jobs/" + std::to_string(job->id));
  return r;
}

std::expected<Job, HttpResponse> RestApi::visible_job(const Call& call) {
  const auto id = positive_id(call.param("id"));
  if (!id) return std::unexpected(HttpResponse::json_error(404, "not found"));
  auto job = store_.get_job(*id);
  if (!job) return std::unexpected(store_error(job.error()));
  if (call.caller.is(Role::sho) && job->sho_id != call.caller.sho_id) {
    audit(call, "job.refused", std::to_string(*id), "job of another SHO");
    return std::unexpected(HttpResponse::json_error(404, "not found"));
  }
  if (call.caller.is(Role::subscriber)) {
    auto device = visible_device(call.caller, job->dev_id);  // audits a refusal
    if (!device) return std::unexpected(HttpResponse::json_error(404, "not found"));
  }
  return *job;
}

HttpResponse RestApi::get_job(Call& call) {
  auto job = visible_job(call);
  if (!job) return job.error();
  auto r = store_.get_result(job->id);
  if (!r) return store_error(r.error());
  return json_response(200, job_json(*job, *r));
}

HttpResponse RestApi::cancel_job(Call& call) {
  auto job = visible_job(call);
  if (!job) return job.error();
  if (call.caller.is(Role::subscriber) && job->kind != JobKind::activate && job->kind != JobKind::deactivate)
    return HttpResponse::json_error(403, "forbidden", "a subscriber cancels only activate and deactivate jobs");
  const std::int64_t t = now();
  AuditEntry entry{0, t, call.caller.actor(), "job.cancel", std::to_string(job->id),
                   std::string(to_string(job->kind)) + " for " + job->dev_id};
  auto cancelled = store_.cancel_job(job->id, entry, t);
  if (!cancelled) {
    if (cancelled.error() == make_error_code(errc::conflict)) {
      auto current = store_.get_job(job->id);
      const std::string state(to_string(current ? current->state : job->state));
      return HttpResponse::json_error(409, "conflict",
                                      "job is " + state + ": only a queued or notified job can be cancelled");
    }
    return store_error(cancelled.error());
  }
  return json_response(200, job_json(*cancelled, std::nullopt));
}

}  // namespace m2mdm::server
