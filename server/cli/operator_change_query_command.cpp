// `m2mdm operator-change list|show`: a device's operator changes (GET
// /api/v1/devices/{devId}/operator-changes) and one change (GET /api/v1/operator-changes/{id}),
// for whichever role's token: each sees the fields its role may (docs/operator-change.md).
#include "operator_change_command.hpp"

#include "cli_support.hpp"
#include "query_support.hpp"

#include "m2mdm/server/store_types.hpp"

#include <iostream>
#include <string>

namespace m2mdm::cli {
namespace {
using json = nlohmann::json;

struct Flags : QueryFlags {
  std::string dev_id;
  std::string state;
  std::int64_t id = 0;
};

void run_list(const Flags& f) {
  const RestTarget server = f.target();
  // One device's changes, or those still in progress that the token takes part in.
  const json all = f.dev_id.empty()
                       ? all_pages(server, "operator changes", "/api/v1/operator-changes", "operatorChanges")
                       : call_json(server, "operator changes of " + f.dev_id, 200, "GET",
                                   "/api/v1/devices/" + url_escape(f.dev_id) + "/operator-changes")
                             .value("operatorChanges", json::array());
  const json changes = matching(all, "state", f.state);
  if (f.json_out) {
    std::cout << json{{"operatorChanges", changes}}.dump() << "\n";
    return;
  }
  changes_table(changes).print(std::cout);
}

void run_show(const Flags& f) {
  const RestTarget server = f.target();
  const json change = call_json(server, "operator change " + std::to_string(f.id), 200, "GET",
                                "/api/v1/operator-changes/" + std::to_string(f.id));
  print_object(change, f.json_out);
}

}  // namespace

void add_operator_change_query_commands(CLI::App* oc) {
  const std::string states = enum_names(server::ChangeState::failed);

  auto [list, l] = add_query_command<Flags>(
      *oc, "list",
      "A device's operator changes, oldest first, or without --device every change still in progress (GET "
      "/api/v1/operator-changes; operator or SHO): a table ID DEVID VARIANT STATE FROM TO RESULT DISCARDED ACKED "
      "UPDATED (an SHO sees the changes it took part in, with the fields its side may see), or --json",
      run_list);
  list->add_option("--device", l->dev_id, "the device's DevId (default: the changes in progress)");
  add_name_filter(*list, "--state", l->state, "operator change state", states, server::change_state_from_string);

  auto [show, s] = add_query_command<Flags>(
      *oc, "show", "One operator change (GET /api/v1/operator-changes/{id}) as 'key: value' lines, or --json", run_show);
  add_id_argument(*show, s->id, "the operator change's id");
}

}  // namespace m2mdm::cli
