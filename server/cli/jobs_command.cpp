// `m2mdm jobs list|show|cancel|retry` (jobs_command.hpp) over GET /api/v1/devices/{devId}/jobs,
// GET /api/v1/jobs, GET /api/v1/jobs/{id}, DELETE /api/v1/jobs/{id} and POST /api/v1/jobs/{id}/retry.
#include "jobs_command.hpp"

#include "cli_support.hpp"
#include "query_support.hpp"

#include "m2mdm/server/store_types.hpp"

#include <chrono>
#include <iostream>
#include <string>
#include <thread>

namespace m2mdm::cli {
namespace {
using json = nlohmann::json;

struct Flags : QueryFlags {
  std::string dev_id;  // list
  std::string state;   // list filter
  std::string kind;    // list filter
  std::int64_t id = 0;  // show, cancel
  bool wait = false;    // show
  unsigned wait_timeout_s = 3600;
};

bool terminal(std::string_view state) {
  const auto s = server::job_state_from_string(state);
  return s && (*s == server::JobState::succeeded || *s == server::JobState::failed ||
               *s == server::JobState::expired || *s == server::JobState::cancelled);
}

void run_list(const Flags& f) {
  const RestTarget server = f.target();
  // One device's jobs (oldest first), or those of every device the token may see (the state
  // filtered by the server there).
  const json all = f.dev_id.empty()
                       ? all_pages(server, "jobs", "/api/v1/jobs" + (f.state.empty() ? "" : "?state=" + f.state), "jobs")
                       : all_pages(server, "jobs of " + f.dev_id, "/api/v1/devices/" + url_escape(f.dev_id) + "/jobs", "jobs");
  const json jobs = matching(matching(all, "state", f.state), "kind", f.kind);
  if (f.json_out) {
    std::cout << json{{"jobs", jobs}}.dump() << "\n";
    return;
  }
  jobs_table(jobs).print(std::cout);
}

void run_show(const Flags& f) {
  const RestTarget server = f.target();
  const std::string what = "job " + std::to_string(f.id);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(f.wait_timeout_s);
  json job;
  std::string last;
  for (;;) {
    job = call_json(server, what, 200, "GET", "/api/v1/jobs/" + std::to_string(f.id));
    const std::string state = job.value("state", "");
    if (!f.wait || terminal(state)) break;
    const std::string line = what + ": " + state + " (attempts " + number_of(job, "attempts") + ")";
    if (line != last) std::cerr << line << std::endl;
    last = line;
    if (std::chrono::steady_clock::now() >= until) {
      if (f.json_out) std::cout << job.dump() << "\n";
      fail(what + ": still " + state + " after " + std::to_string(f.wait_timeout_s) + " s");
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  print_object(job, f.json_out);
  std::cout.flush();
  // With --wait the exit status says how the job ended: 0 only when it succeeded.
  if (f.wait && job.value("state", "") != "succeeded") fail(what + " " + job.value("state", std::string("?")));
}

void run_retry(const Flags& f) {
  const RestTarget server = f.target();
  const std::string what = "retry job " + std::to_string(f.id);
  const json job = call_json(server, what, 202, "POST", "/api/v1/jobs/" + std::to_string(f.id) + "/retry");
  if (f.json_out) {
    std::cout << job.dump() << "\n";
    return;
  }
  std::cout << "job " << f.id << " retried as job " << job.value("id", std::int64_t{0}) << " (" << job.value("kind", "")
            << " for " << job.value("devId", "") << ", " << job.value("state", "") << ")\n";
}

void run_cancel(const Flags& f) {
  const RestTarget server = f.target();
  const std::string what = "cancel job " + std::to_string(f.id);
  const json job = call_json(server, what, 200, "DELETE", "/api/v1/jobs/" + std::to_string(f.id));
  if (f.json_out) {
    std::cout << job.dump() << "\n";
    return;
  }
  std::cout << "job " << f.id << " " << job.value("state", std::string("?")) << " (" << job.value("kind", "") << " for "
            << job.value("devId", "") << ")\n";
}

}  // namespace

void add_jobs_command(CLI::App& app) {
  CLI::App* jobs = add_command_group(app, "jobs", "List, follow and cancel jobs on a running RO server over its REST API");
  const std::string states = enum_names(server::JobState::cancelled);
  const std::string kinds = enum_names(server::JobKind::arm_rebootstrap);

  auto [list, l] = add_query_command<Flags>(
      *jobs, "list",
      "A device's jobs (GET /api/v1/devices/{devId}/jobs), oldest first, or without --device the jobs of every "
      "device the token may see (GET /api/v1/jobs; operator or SHO), every page: a table ID KIND STATE ATTEMPTS "
      "RESULT CORRELATOR UPDATED, or --json",
      run_list);
  list->add_option("--device", l->dev_id, "the device's DevId (default: every device)");
  add_name_filter(*list, "--state", l->state, "job state", states, server::job_state_from_string);
  add_name_filter(*list, "--kind", l->kind, "job kind", kinds, server::job_kind_from_string);

  auto [show, s] = add_query_command<Flags>(
      *jobs, "show",
      "One job (GET /api/v1/jobs/{id}) as 'key: value' lines or --json; with --wait, follow it (its state on stderr "
      "when it changes) until it ended, and exit 0 only if it succeeded",
      run_show);
  show->add_flag("--wait", s->wait, "follow the job until it succeeded, failed, expired or was cancelled");
  show->add_option("--wait-timeout", s->wait_timeout_s, "seconds --wait follows the job (default 3600)")
      ->check(CLI::Range(1, 86400));
  add_id_argument(*show, s->id, "the job id");

  auto [cancel, c] = add_query_command<Flags>(
      *jobs, "cancel",
      "Withdraw a queued or notified job (DELETE /api/v1/jobs/{id}): prints 'job ID cancelled (KIND for DEVID)'; "
      "exit 1 with the server's reason when it already reached the device",
      run_cancel);
  add_id_argument(*cancel, c->id, "the job id");

  auto [retry, r] = add_query_command<Flags>(
      *jobs, "retry",
      "Queue a failed, expired or cancelled job again as a new job (POST /api/v1/jobs/{id}/retry: the same object "
      "and authorisation, a new correlator and deadline): prints 'job ID retried as job NEW (KIND for DEVID, "
      "STATE)'; exit 1 with the server's reason otherwise (e.g. 409 for a job of an operator change)",
      run_retry);
  add_id_argument(*retry, r->id, "the job id");
}

}  // namespace m2mdm::cli
