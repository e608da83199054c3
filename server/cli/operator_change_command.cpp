// `m2mdm operator-change request|status` (docs/operator-change.md): the new SHO submits a list of
// devices (POST /api/v1/operator-changes), each with the old SHO's token and its sealed MCIM,
// and follows the batch (GET /api/v1/operator-change-batches/{id}) until every change ended.
#include "operator_change_command.hpp"

#include "cli_support.hpp"
#include "rest_cli.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace m2mdm::cli {
namespace {

using json = nlohmann::json;

struct Flags : RestTargetFlags {
  std::string variant = "C";
  std::string file;            // NDJSON: {"devId","authorisation","object","correlator"?} per line
  std::int64_t ttl = 0;        // 0 = the server's default
  std::int64_t batch_id = 0;   // status
  bool wait = false;
  unsigned wait_timeout_s = 3600;
  bool json_out = false;
};

/// Polls the batch once a second (progress on stderr) until it is done or the time is up; returns
/// the last answer.
json follow(const RestTarget& server, std::int64_t batch_id, bool wait, unsigned timeout_s) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  std::string last_line;
  for (;;) {
    const auto r = server.call("GET", "/api/v1/operator-change-batches/" + std::to_string(batch_id));
    if (r.status != 200) fail("batch " + std::to_string(batch_id) + ": HTTP " + std::to_string(r.status) + ": " + error_text(r));
    json b = json::parse(r.body, nullptr, false);
    if (b.is_discarded() || !b.is_object()) fail("the server's answer is not JSON");
    const auto counts = b.value("counts", json::object());
    const std::int64_t accepted = b.value("accepted", std::int64_t{0});
    const std::int64_t completed = counts.value("completed", std::int64_t{0});
    const std::int64_t failed = counts.value("failed", std::int64_t{0});
    std::string line = "batch " + std::to_string(batch_id) + ": " + std::to_string(completed) + "/" +
                       std::to_string(accepted) + " completed, " + std::to_string(failed) + " failed, " +
                       std::to_string(accepted - completed - failed) + " in progress";
    if (line != last_line) std::cerr << line << std::endl;
    last_line = line;
    if (!wait || b.value("done", false)) return b;
    if (std::chrono::steady_clock::now() >= until) {
      std::cerr << "batch " << batch_id << ": still in progress after " << timeout_s << " s" << std::endl;
      return b;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

/// One line per change of the batch; true when every one completed.
bool print_states(const json& batch, bool json_out) {
  bool all = true;
  for (const auto& c : batch.value("operatorChanges", json::array())) {
    const std::string state = c.value("state", "");
    all = all && state == "completed";
    if (!json_out)
      std::cout << c.value("devId", "") << " change " << c.value("id", 0) << ": " << state
                << (c.contains("resultCode") && c["resultCode"].get<int>() != 0
                        ? " (code " + std::to_string(c["resultCode"].get<int>()) + ")"
                        : std::string{})
                << "\n";
  }
  if (json_out) std::cout << batch.dump() << "\n";
  return all;
}

void run_request(const Flags& f) {
  RestTarget server = f.target();
  json changes = json::array();
  for (const auto& line : read_ndjson_lines(f.file)) {
    json c = json::parse(line, nullptr, false);
    if (c.is_discarded() || !c.is_object()) fail(f.file + ": line " + std::to_string(changes.size() + 1) + " is not a JSON object");
    changes.push_back(std::move(c));
  }
  if (changes.empty()) fail(f.file + ": no devices");
  json body = {{"variant", f.variant}, {"changes", changes}};
  if (f.ttl > 0) body["ttlSeconds"] = f.ttl;
  const auto r = server.call("POST", "/api/v1/operator-changes", "application/json", body.dump());
  if (r.status != 202) fail("HTTP " + std::to_string(r.status) + ": " + error_text(r));
  const json answer = json::parse(r.body, nullptr, false);
  if (answer.is_discarded() || !answer.is_object()) fail("the server's answer is not JSON");
  const std::int64_t batch_id = answer.value("batchId", std::int64_t{0});
  if (!f.json_out) {
    for (const auto& res : answer.value("results", json::array())) {
      if (res.value("status", 0) == 202)
        std::cout << res.value("devId", "") << " accepted: change " << res.value("id", 0) << ", job "
                  << res.value("jobId", 0) << "\n";
      else
        std::cout << res.value("devId", "") << " refused: HTTP " << res.value("status", 0) << " "
                  << res.value("error", "") << ": " << res.value("message", "") << "\n";
    }
    std::cout << "batch " << batch_id << ": " << answer.value("accepted", 0) << " accepted, "
              << answer.value("refused", 0) << " refused" << std::endl;
  }
  const bool all_accepted = answer.value("refused", 0) == 0;
  if (!f.wait) {
    if (f.json_out) std::cout << answer.dump() << "\n";
    if (!all_accepted) throw CLI::RuntimeError(1);
    return;
  }
  const json batch = follow(server, batch_id, true, f.wait_timeout_s);
  const bool all_completed = print_states(batch, f.json_out);
  if (!all_accepted || !all_completed) throw CLI::RuntimeError(1);
}

void run_status(const Flags& f) {
  RestTarget server = f.target();
  const json batch = follow(server, f.batch_id, f.wait, f.wait_timeout_s);
  if (!print_states(batch, f.json_out)) throw CLI::RuntimeError(1);
}

void common_options(CLI::App* cmd, Flags& f) {
  add_rest_target_flags(*cmd, f, "file whose first line is the new SHO's bearer token");
  cmd->add_flag("--json", f.json_out, "print the server's JSON answers instead of lines");
  cmd->add_option("--wait-timeout", f.wait_timeout_s, "seconds --wait follows the batch (default 3600)")
      ->check(CLI::Range(1, 86400));
}

}  // namespace

void add_operator_change_command(CLI::App& app) {
  CLI::App* oc = add_command_group(
      app, "operator-change", "Operator changes over the REST API: as the new SHO, move devices from their SHO to you (request, status); list and show them (docs/operator-change.md)");
  auto [req, f] = add_command<Flags>(
      *oc, "request",
      "Submit a bulk operator change (POST /api/v1/operator-changes): FILE is NDJSON, one device per line "
      "{\"devId\", \"authorisation\" (base64 of the old SHO's token), \"object\" (base64 of your sealed MCIM), "
      "\"correlator\"?}. Prints each device's result and the batch; with --wait, progress on stderr once a "
      "second and each device's final state. Exit 0 only if every device was accepted (and, with --wait, completed).",
      run_request);
  common_options(req, *f);
  req->add_option("--variant", f->variant, "A, B or C (default C)")->check(CLI::IsMember({"A", "B", "C"}));
  req->add_option("--ttl", f->ttl, "seconds each device's jobs may take (default: the server's)")
      ->check(CLI::Range(60, 365 * 24 * 3600));
  req->add_flag("--wait", f->wait, "follow the batch until every change completed or failed");
  req->add_option("FILE", f->file, "NDJSON file of devices ('-' = stdin)")->required();

  auto [st, g] = add_command<Flags>(
      *oc, "status", "Show a bulk operator change (GET /api/v1/operator-change-batches/{id}); exit 0 only if every change completed",
      run_status);
  common_options(st, *g);
  st->add_flag("--wait", g->wait, "follow the batch until every change completed or failed");
  st->add_option("BATCH", g->batch_id, "the batch id")->required()->check(CLI::PositiveNumber);
  add_operator_change_query_commands(oc);
}

}  // namespace m2mdm::cli
