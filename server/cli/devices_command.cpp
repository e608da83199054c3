// `m2mdm devices import`: bulk device import over the REST API (POST /api/v1/devices:import,
// application/x-ndjson) in batches, with a progress line per batch on stderr; `m2mdm devices
// claim`: an SHO claims devices of the operator's registry by their device PIN.
#include "devices_command.hpp"

#include "cli_support.hpp"
#include "rest_cli.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace m2mdm::cli {
namespace {

// What `devices import` and `devices claim` share: the server, --timeout per request and an
// NDJSON FILE of devices.
struct NdjsonFlags : RestTargetFlags {
  std::string file;  // NDJSON, one device per line ("-" = stdin)
  unsigned timeout_s = 60;
};

// Declares --timeout and FILE (help @p file_help) on @p cmd.
void add_ndjson_flags(CLI::App& cmd, NdjsonFlags& f, const std::string& file_help) {
  cmd.add_option("--timeout", f.timeout_s, "seconds per request (default 60)")->check(CLI::Range(1, 3600));
  cmd.add_option("FILE", f.file, file_help)->required();
}

// The server of @p f (its timeout per request set) and the devices of its FILE, one line each;
// exit 1 when there are none.
std::pair<RestTarget, std::vector<std::string>> open_ndjson_run(const NdjsonFlags& f) {
  RestTarget server = f.target();
  server.timeout = std::chrono::seconds(f.timeout_s);
  auto lines = read_ndjson_lines(f.file);
  if (lines.empty()) fail(f.file + ": no devices");
  return {std::move(server), std::move(lines)};
}

struct ImportFlags : NdjsonFlags {  // the token: SHO or operator
  std::size_t batch = 500;
};

void run_import(const ImportFlags& f) {
  const auto [server, lines] = open_ndjson_run(f);

  std::size_t done = 0, inserted = 0, updated = 0, unchanged = 0;
  for (std::size_t start = 0; start < lines.size(); start += f.batch) {
    const std::size_t end = std::min(lines.size(), start + f.batch);
    std::string body;
    for (std::size_t i = start; i < end; ++i) body += lines[i] + "\n";
    const auto r = server.call("POST", "/api/v1/devices:import", "application/x-ndjson", std::move(body));
    const std::string range = "devices " + std::to_string(start + 1) + "-" + std::to_string(end);
    if (!r.error.empty()) fail(range + ": " + r.error + " (" + std::to_string(done) + " imported before)");
    const auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (r.status != 200)
      fail(range + ": HTTP " + std::to_string(r.status) + ": " + error_text(r) + " (" + std::to_string(done) +
           " imported before)");
    if (j.is_discarded() || !j.is_object()) fail(range + ": the server's answer is not JSON");
    inserted += j.value("inserted", std::size_t{0});
    updated += j.value("updated", std::size_t{0});
    unchanged += j.value("unchanged", std::size_t{0});
    done = end;
    std::cerr << "imported " << done << "/" << lines.size() << " (" << (100 * done / lines.size()) << "%)\n";
  }
  std::cout << "devices: " << lines.size() << " inserted: " << inserted << " updated: " << updated
            << " unchanged: " << unchanged << "\n";
}

using ClaimFlags = NdjsonFlags;  // the token: the SHO's; one {"devId","devicePin"} per line

// One POST /api/v1/devices:claim per line. The server answers a refused claim the same way
// whatever the reason (unknown DevId, wrong PIN, another SHO's device), so neither can we.
void run_claim(const ClaimFlags& f) {
  const auto [server, lines] = open_ndjson_run(f);
  std::size_t claimed = 0, refused = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto j = nlohmann::json::parse(lines[i], nullptr, false);
    const std::string where = "line " + std::to_string(i + 1);
    if (j.is_discarded() || !j.is_object() || !j.contains("devId") || !j["devId"].is_string())
      fail(where + ": not a JSON object with \"devId\" and \"devicePin\"");
    const std::string dev_id = j["devId"].get<std::string>();
    const auto r = server.call("POST", "/api/v1/devices:claim", "application/json", lines[i]);
    if (!r.error.empty()) fail(where + ": " + r.error + " (" + std::to_string(claimed) + " claimed before)");
    if (r.status == 200) {
      ++claimed;
      std::cout << "claimed " << dev_id << "\n";
    } else if (r.status == 404) {
      ++refused;
      std::cout << "not claimed " << dev_id << "\n";
    } else {
      fail(where + ": HTTP " + std::to_string(r.status) + ": " + error_text(r) + " (" + std::to_string(claimed) +
           " claimed before)");
    }
  }
  std::cout << "claims: " << lines.size() << " claimed: " << claimed << " not claimed: " << refused << "\n";
  std::cout << std::flush;
  if (refused != 0) fail(std::to_string(refused) + " of " + std::to_string(lines.size()) + " devices not claimed");
}

}  // namespace

void add_devices_command(CLI::App& app) {
  CLI::App* devices = add_command_group(app, "devices", "Manage devices on a running RO server over its REST API");
  auto [imp, f] = add_command<ImportFlags>(
      *devices, "import",
      "Bulk import devices (NDJSON, one device object per line, fields as POST /api/v1/devices:import "
      "in docs/openapi.yaml) in batches; progress on stderr, totals on stdout "
      "('devices: N inserted: I updated: U unchanged: C'). Exit 1 with the failing batch named.",
      run_import);
  add_rest_target_flags(*imp, *f, "file whose first line is the SHO or operator bearer token");
  imp->add_option("--batch", f->batch, "devices per request (default 500)")->check(CLI::Range(1, 100000));
  add_ndjson_flags(*imp, *f, "NDJSON file of devices ('-' = stdin)");

  auto [claim, c] = add_command<ClaimFlags>(
      *devices, "claim",
      "Claim devices the operator registered without an SHO by proving possession (NDJSON, one "
      "{\"devId\",\"devicePin\"} per line, as POST /api/v1/devices:claim). One line per device on stdout "
      "('claimed DEVID' or 'not claimed DEVID'), then 'claims: N claimed: C not claimed: R'. Exit 1 when "
      "any was not claimed or on an error (429: too many failed claims).",
      run_claim);
  add_rest_target_flags(*claim, *c, "file whose first line is the SHO's bearer token");
  add_ndjson_flags(*claim, *c, "NDJSON file of {\"devId\",\"devicePin\"} ('-' = stdin)");
  add_devices_mgmt_commands(devices);
  add_devices_query_commands(devices);
}

}  // namespace m2mdm::cli
