// `m2mdm devices list|show`: the devices a token may see, page by page (GET /api/v1/devices),
// and one device with its jobs and operator changes (GET /api/v1/devices/{devId}, .../jobs,
// .../operator-changes).
#include "devices_command.hpp"

#include "cli_support.hpp"
#include "query_support.hpp"

#include "m2mdm/server/store_types.hpp"

#include <iostream>
#include <string>

namespace m2mdm::cli {
namespace {
using json = nlohmann::json;

struct ListFlags : QueryFlags {
  std::string state;
  std::string search;     // q: a DevId prefix or a PCID
  std::int64_t sho_id = 0;  // the operator's filter
  std::string after;
  unsigned limit = 100;
  bool all = false;
};

struct ShowFlags : QueryFlags {
  std::string dev_id;
};

constexpr unsigned kMaxPage = 1000;  // the server's largest page (docs/openapi.yaml)

void run_list(const ListFlags& f) {
  const RestTarget server = f.target();
  json devices = json::array();
  std::string after = f.after;
  std::size_t pages = 0, seen = 0;
  bool more = false;
  for (;;) {
    const unsigned page_size = f.all ? kMaxPage : f.limit;
    std::string path = "/api/v1/devices?limit=" + std::to_string(page_size);
    if (!after.empty()) path += "&after=" + url_escape(after);
    if (!f.state.empty()) path += "&state=" + f.state;
    if (!f.search.empty()) path += "&q=" + url_escape(f.search);
    if (f.sho_id > 0) path += "&shoId=" + std::to_string(f.sho_id);
    const json answer = call_json(server, "list devices", 200, "GET", path);
    const json page = answer.value("devices", json::array());
    ++pages;
    seen += page.size();
    for (const auto& d : page) devices.push_back(d);
    more = answer.contains("next") && answer["next"].is_string();
    if (more) after = answer["next"].get<std::string>();
    if (f.all && pages > 1) std::cerr << "listed " << seen << " devices" << std::endl;
    if (!f.all || !more) break;
  }
  if (f.json_out) {
    json out = {{"devices", devices}};
    if (more && !f.all) out["next"] = after;  // the --after of the next page
    std::cout << out.dump() << "\n";
    return;
  }
  TextTable t({"DEVID", "PCID", "STATE", "SHO", "SUBSCRIBER", "LAST SEEN"});
  for (const auto& d : devices)
    t.add({text_of(d, "devId"), text_of(d, "pcid"), text_of(d, "state"), number_of(d, "shoId"),
           number_of(d, "subscriberId"), utc_time(d.value("lastSeen", std::int64_t{0}))});
  t.print(std::cout);
  if (more && !f.all) std::cerr << "more devices: --after " << after << " (or --all)" << std::endl;
}

void run_show(const ShowFlags& f) {
  const RestTarget server = f.target();
  const std::string base = "/api/v1/devices/" + url_escape(f.dev_id);
  const json device = call_json(server, "device " + f.dev_id, 200, "GET", base);
  const json jobs = all_pages(server, "jobs of " + f.dev_id, base + "/jobs", "jobs");
  const json changes = call_json(server, "operator changes of " + f.dev_id, 200, "GET", base + "/operator-changes")
                           .value("operatorChanges", json::array());
  if (f.json_out) {
    std::cout << json{{"device", device}, {"jobs", jobs}, {"operatorChanges", changes}}.dump() << "\n";
    return;
  }
  print_fields(std::cout, device);
  std::cout << "\njobs: " << jobs.size() << "\n";
  if (!jobs.empty()) jobs_table(jobs).print(std::cout);
  std::cout << "\noperator changes: " << changes.size() << "\n";
  if (!changes.empty()) changes_table(changes).print(std::cout);
}

}  // namespace

void add_devices_query_commands(CLI::App* devices) {
  const std::string states = enum_names(server::DeviceState::failed);

  auto [list, l] = add_query_command<ListFlags>(
      *devices, "list",
      "The devices the token may see (the operator all, an SHO its own, a subscriber those it owns), ordered by DevId: a table DEVID "
      "PCID STATE SHO SUBSCRIBER LAST SEEN, or --json. One page (--limit) unless --all; when more follow, the "
      "--after to give is printed on stderr (JSON: \"next\")",
      run_list);
  add_name_filter(*list, "--state", l->state, "device state", states, server::device_state_from_string);
  list->add_option("--search", l->search, "a DevId prefix, or a PCID (IMSI) in full");
  list->add_option("--sho", l->sho_id, "only this SHO's devices (the operator's filter)")->check(CLI::PositiveNumber);
  list->add_option("--limit", l->limit, "devices per page (1-1000, default 100)")->check(CLI::Range(1u, kMaxPage));
  list->add_option("--after", l->after, "start after this DevId (the next page)");
  list->add_flag("--all", l->all, "every page (progress on stderr)");

  auto [show, s] = add_query_command<ShowFlags>(
      *devices, "show",
      "One device ('key: value' lines, no secrets), then its jobs and operator changes as tables; or --json "
      "{\"device\", \"jobs\", \"operatorChanges\"}",
      run_show);
  show->add_option("DEVID", s->dev_id, "the device's DevId")->required();
}

}  // namespace m2mdm::cli
