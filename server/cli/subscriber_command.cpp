// `m2mdm subscriber ...` (subscriber_command.hpp): the operator's REST calls for subscribers
// (POST/GET /api/v1/subscribers, POST/DELETE /api/v1/subscribers/{id}/devices) and the
// subscriber's own token signer (mo/cli change_token_commands.cpp).
#include "subscriber_command.hpp"

#include "change_token_commands.hpp"
#include "cli_support.hpp"
#include "rest_cli.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace m2mdm::cli {
namespace {

using json = nlohmann::json;

struct Flags : RestTargetFlags {
  std::string name;                  // create
  std::int64_t id = 0;               // assign, remove, devices
  std::vector<std::string> dev_ids;  // assign, remove
  std::string file;                  // assign: one DevId per line ("-" = stdin)
  bool json_out = false;
};

void add_target_flags(CLI::App& cmd, Flags& f) {
  add_rest_target_flags(cmd, f, "file whose first line is the operator bearer token");
}

void run_create(const Flags& f) {
  const RestTarget server = f.target();
  const json j = call_json(server, "create subscriber " + f.name, 201, "POST", "/api/v1/subscribers",
                           json{{"name", f.name}}.dump());
  if (f.json_out) {
    std::cout << j.dump() << "\n";
    return;
  }
  // The token is shown once: the subscriber's bearer token for its devices.
  std::cout << "subscriber " << j.value("id", std::int64_t{0}) << " " << j.value("name", std::string()) << "\n"
            << "token: " << j.value("token", std::string()) << "\n";
}

void run_list(const Flags& f) {
  const RestTarget server = f.target();
  const json j = call_json(server, "list subscribers", 200, "GET", "/api/v1/subscribers");
  if (f.json_out) {
    std::cout << j.dump() << "\n";
    return;
  }
  for (const auto& s : j.value("subscribers", json::array()))
    std::cout << s.value("id", std::int64_t{0}) << " " << s.value("name", std::string()) << "\n";
}

void run_assign(const Flags& f) {
  std::vector<std::string> ids = f.dev_ids;
  if (!f.file.empty())
    for (auto& line : read_ndjson_lines(f.file)) ids.push_back(line);  // one DevId per line
  if (ids.empty()) fail("no DevIds: name them, or give --file");
  const RestTarget server = f.target();
  std::size_t assigned = 0, changed = 0;
  constexpr std::size_t kPerRequest = 1000;  // the server's limit per request
  for (std::size_t start = 0; start < ids.size(); start += kPerRequest) {
    const std::size_t end = std::min(ids.size(), start + kPerRequest);
    const std::vector<std::string> part(ids.begin() + static_cast<std::ptrdiff_t>(start),
                                        ids.begin() + static_cast<std::ptrdiff_t>(end));
    const json j = call_json(server, "devices " + std::to_string(start + 1) + "-" + std::to_string(end), 200, "POST",
                             "/api/v1/subscribers/" + std::to_string(f.id) + "/devices",
                             json{{"devIds", part}}.dump());
    assigned += j.value("assigned", std::size_t{0});
    changed += j.value("changed", std::size_t{0});
    if (ids.size() > kPerRequest) std::cerr << "assigned " << end << "/" << ids.size() << std::endl;
  }
  std::cout << "subscriber " << f.id << ": " << assigned << " device(s) assigned, " << changed << " changed\n";
}

void run_remove(const Flags& f) {
  const RestTarget server = f.target();
  for (const auto& dev : f.dev_ids) {
    call_json(server, "remove " + dev, 200, "DELETE", "/api/v1/subscribers/" + std::to_string(f.id) + "/devices/" + dev);
    std::cout << "removed " << dev << " from subscriber " << f.id << "\n";
  }
}

void run_devices(const Flags& f) {
  const RestTarget server = f.target();
  std::string after;
  json all = json::array();
  for (;;) {  // every page
    const json j = call_json(server, "devices of subscriber " + std::to_string(f.id), 200, "GET",
                             "/api/v1/subscribers/" + std::to_string(f.id) + "/devices?limit=1000" +
                                 (after.empty() ? "" : "&after=" + after));
    const auto page = j.value("devices", json::array());
    for (const auto& d : page) all.push_back(d);
    if (page.size() < 1000) break;
    after = page.back().value("devId", std::string());
  }
  if (f.json_out) {
    std::cout << json{{"devices", all}}.dump() << "\n";
    return;
  }
  for (const auto& d : all)
    std::cout << d.value("devId", std::string()) << " " << d.value("state", std::string()) << " sho "
              << (d.contains("shoId") ? std::to_string(d["shoId"].get<std::int64_t>()) : std::string("-")) << "\n";
}

}  // namespace

void add_subscriber_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "subscriber",
      "Subscribers, the devices' owners (seed 004 \"M2ME U/S\"): the operator creates them and assigns devices "
      "over the REST API; a subscriber authorises its devices' operator changes (docs/operator-change.md)");
  sub->require_subcommand(1);

  auto f = std::make_shared<Flags>();
  CLI::App* create = sub->add_subcommand("create", "Create a subscriber; prints its id and its bearer token (shown once)");
  add_target_flags(*create, *f);
  create->add_flag("--json", f->json_out, "print the server's JSON answer");
  create->add_option("NAME", f->name, "the subscriber's name = the CN of its signing certificate ([A-Za-z0-9._-])")
      ->required();
  create->callback([f] { run_create(*f); });

  CLI::App* list = sub->add_subcommand("list", "List the subscribers (id and name)");
  add_target_flags(*list, *f);
  list->add_flag("--json", f->json_out, "print the server's JSON answer");
  list->callback([f] { run_list(*f); });

  CLI::App* assign = sub->add_subcommand(
      "assign", "Make subscriber ID the owner of the devices (all or nothing per 1000: an unknown DevId assigns none)");
  add_target_flags(*assign, *f);
  assign->add_option("--file", f->file, "file of DevIds, one per line ('-' = stdin)");
  assign->add_option("ID", f->id, "the subscriber's id")->required()->check(CLI::PositiveNumber);
  assign->add_option("DEVID", f->dev_ids, "DevIds of its devices");
  assign->callback([f] { run_assign(*f); });

  CLI::App* remove = sub->add_subcommand("remove", "Remove devices from subscriber ID (they then have no owner)");
  add_target_flags(*remove, *f);
  remove->add_option("ID", f->id, "the subscriber's id")->required()->check(CLI::PositiveNumber);
  remove->add_option("DEVID", f->dev_ids, "DevIds")->required();
  remove->callback([f] { run_remove(*f); });

  CLI::App* devices = sub->add_subcommand("devices", "List the devices of subscriber ID");
  add_target_flags(*devices, *f);
  devices->add_flag("--json", f->json_out, "print the devices as JSON");
  devices->add_option("ID", f->id, "the subscriber's id")->required()->check(CLI::PositiveNumber);
  devices->callback([f] { run_devices(*f); });

  add_subscriber_change_token_command(*sub);
}

}  // namespace m2mdm::cli
