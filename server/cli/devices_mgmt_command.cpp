// `m2mdm devices get|replace|exec`: one generic management command for one device over the REST
// API (POST /api/v1/devices/{devId}/commands), then waits for the device's answer
// (GET .../commands/{id}) with a progress line on stderr, and prints the value (Get) or the
// status. The device's ACLs decide: a refusal is printed with its code (exit 2).
#include "devices_command.hpp"

#include "cli_support.hpp"
#include "rest_cli.hpp"

#include "m2mdm/syncml/encoding.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace m2mdm::cli {
namespace {
using json = nlohmann::json;

struct MgmtFlags : RestTargetFlags {
  std::string verb;  // Get, Replace, Exec
  std::string dev_id;
  std::string uri;
  std::string value;
  bool has_value = false;
  std::string format;  // Meta Format of the value (Replace default chr)
  std::string type;
  unsigned timeout_s = 120;
  bool print_json = false;
};

bool is_success(int code) { return code >= 200 && code < 300; }

// Ends the command with exit code @p code (0 returns normally through CLI11), output flushed.
void finish(int code) {
  std::cout.flush();
  if (code != 0) throw CLI::RuntimeError(code);
}

void run_mgmt(const MgmtFlags& f) {
  RestTarget server = f.target();
  server.timeout = std::chrono::seconds(std::min(f.timeout_s, 60u));
  json op{{"verb", f.verb}, {"target", f.uri}};
  if (f.has_value) op["data"] = f.value;
  if (!f.format.empty())
    op["format"] = f.format;
  else if (f.verb == "Replace")
    op["format"] = "chr";
  if (!f.type.empty()) op["type"] = f.type;
  const json body{{"commands", json::array({op})}, {"ttlSeconds", std::max(1u, f.timeout_s)}};
  const std::string base = "/api/v1/devices/" + url_escape(f.dev_id) + "/commands";
  const auto posted = server.call("POST", base, "application/json", body.dump());
  if (!posted.error.empty()) fail(posted.error);
  if (posted.status != 202) fail("HTTP " + std::to_string(posted.status) + ": " + error_text(posted));
  const json created = json::parse(posted.body, nullptr, false);
  if (!created.is_object() || !created.contains("id")) fail("the server's answer is not a command");
  const std::string id = std::to_string(created["id"].get<std::int64_t>());
  std::cerr << "command " << id << ": " << f.verb << " " << f.uri << " queued for " << f.dev_id << "\n";

  // Wait: the device takes it in its next DM session (package 0 when it has a push address).
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::seconds(f.timeout_s);
  std::string state = "queued";
  json cmd = created;
  auto last_note = start;
  while (true) {
    const auto got = server.call("GET", base + "/" + id);
    if (!got.error.empty()) fail(got.error);
    if (got.status != 200) fail("HTTP " + std::to_string(got.status) + ": " + error_text(got));
    cmd = json::parse(got.body, nullptr, false);
    if (!cmd.is_object()) fail("the server's answer is not a command");
    const std::string now_state = cmd.value("state", std::string{});
    const auto now = std::chrono::steady_clock::now();
    const auto waited = std::chrono::duration_cast<std::chrono::seconds>(now - start).count();
    if (now_state != state || now - last_note >= std::chrono::seconds(5)) {
      std::cerr << "command " << id << ": " << now_state << " (" << waited << " s)\n";
      state = now_state;
      last_note = now;
    }
    if (state == "completed" || state == "failed" || state == "expired") break;
    if (now >= deadline)
      fail("command " + id + " still " + state + " after " + std::to_string(f.timeout_s) +
           " s (it stays queued until the device's next session or its deadline)");
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  if (f.print_json) std::cout << cmd.dump(2) << "\n";
  if (state != "completed") {
    if (f.print_json) finish(1);
    fail("command " + id + " " + state + ": " + cmd.value("error", std::string{}));
  }
  // The device's word: every Status, and for a Get its Results.
  int worst = 200;
  for (const auto& s : cmd["statuses"]) {
    const int code = s.value("code", 0);
    if (!is_success(code)) worst = code;
  }
  if (f.print_json) {
    finish(is_success(worst) ? 0 : 2);
    return;
  }
  if (!is_success(worst)) {
    std::cout << f.verb << " " << f.uri << ": status " << worst << "\n";
    finish(2);
    return;
  }
  if (f.verb == "Get") {
    for (const auto& r : cmd["results"]) {
      auto data = base64_decode(r.value("data", std::string{}));
      if (!data) fail("the server's result is not base64");
      std::cout.write(reinterpret_cast<const char*>(data->data()), static_cast<std::streamsize>(data->size()));
      std::cout << "\n";
    }
    return;
  }
  std::cout << f.verb << " " << f.uri << ": status " << (cmd["statuses"].empty() ? 0 : cmd["statuses"][0].value("code", 0))
            << "\n";
}

void add_one(CLI::App* devices, const std::string& name, const std::string& verb, const std::string& help,
             bool value_allowed) {
  auto f = std::make_shared<MgmtFlags>();
  f->verb = verb;
  CLI::App* c = devices->add_subcommand(name, help);
  add_rest_target_flags(*c, *f, "file whose first line is the operator or the device's SHO token");
  c->add_option("--timeout", f->timeout_s, "seconds to wait for the device's answer (default 120)")
      ->check(CLI::Range(1, 86400));
  c->add_flag("--json", f->print_json, "print the whole command (statuses, results in base64) as JSON");
  if (value_allowed) {
    c->add_option("--format", f->format, "Meta Format of VALUE (chr, int, bool, b64, ...)");
    c->add_option("--type", f->type, "Meta Type of VALUE (a MIME type)");
  }
  c->add_option("DEVID", f->dev_id, "the device's DevId")->required();
  c->add_option("URI", f->uri, "the node, e.g. ./DevInfo/Mod")->required();
  CLI::Option* value = value_allowed ? c->add_option("VALUE", f->value, "the data to send") : nullptr;
  c->callback([f, value] {
    f->has_value = value != nullptr && value->count() > 0;
    if (f->verb == "Replace" && !f->has_value) fail("replace needs a VALUE");
    run_mgmt(*f);
  });
}

}  // namespace

void add_devices_mgmt_commands(CLI::App* devices) {
  add_one(devices, "get", "Get",
          "Get one node of a device (a management command, delivered in the device's next DM session) "
          "and print its value; progress on stderr. Exit 2 with the status when the device refuses.",
          false);
  add_one(devices, "replace", "Replace",
          "Replace one node's value on a device (delivered in its next DM session) and print the status. "
          "Exit 2 when the device refuses (its ACL decides).",
          true);
  add_one(devices, "exec", "Exec",
          "Exec one node on a device, with an optional VALUE as the Exec data, and print the status. "
          "Exit 2 when the device refuses.",
          true);
}

}  // namespace m2mdm::cli
