// Endpoints for generic management commands (docs/server.md "Management commands"): the
// operator or the device's SHO queues DM commands for one device and reads what it answered.
// The device's ACLs decide; the server reports every Status and Results item.
#include "api/json_body.hpp"
#include "api/request_parts.hpp"
#include "api/responses.hpp"
#include "api/rest_api.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/rest_json.hpp"
#include "m2mdm/syncml/encoding.hpp"

namespace m2mdm::server {
using json = nlohmann::json;

namespace {

json command_json(const MgmtCommand& c) {
  json ops = json::array();
  for (const auto& op : c.ops) {
    json o{{"verb", to_string(op.verb)}, {"target", op.target}};
    if (!op.source.empty()) o["source"] = op.source;
    if (op.data) o["data"] = *op.data;
    if (!op.format.empty()) o["format"] = op.format;
    if (!op.type.empty()) o["type"] = op.type;
    ops.push_back(std::move(o));
  }
  json statuses = json::array();
  for (const auto& s : c.statuses) {
    json o{{"cmd", s.cmd}, {"code", s.code}};
    if (s.index >= 0) o["index"] = s.index;
    statuses.push_back(std::move(o));
  }
  json results = json::array();
  for (const auto& r : c.results)
    // data: base64 of the bytes the device sent (its text; for Format b64, that base64 text).
    results.push_back({{"index", r.index},
                       {"source", r.source},
                       {"format", r.format},
                       {"type", r.type},
                       {"data", base64_encode(as_bytes(r.data))}});
  json j{{"id", c.id},          {"devId", c.dev_id},         {"state", to_string(c.state)},
         {"commands", ops},      {"statuses", statuses},      {"results", results},
         {"created", c.created}, {"updated", c.updated},      {"deadline", c.deadline}};
  if (c.wrap != MgmtWrap::none) j["wrap"] = to_string(c.wrap);
  if (!c.error.empty()) j["error"] = c.error;
  return j;
}

}  // namespace

HttpResponse RestApi::submit_command(Call& call) {
  auto sub = parse_json_body(call, parse_command_submission);
  if (!sub) return sub.error();
  const std::int64_t t = now();
  MgmtCommand c;
  c.dev_id = call.param("devId");
  c.submitted_by = call.caller.actor();
  c.wrap = sub->wrap;
  c.ops = std::move(sub->ops);
  c.deadline = t + sub->ttl_seconds.value_or(options_.default_job_ttl);
  std::string detail;
  for (const auto& op : c.ops) detail += std::string(detail.empty() ? "" : ", ") + std::string(to_string(op.verb)) + " " + op.target;
  auto created = store_.create_command(c, AuditEntry{0, t, call.caller.actor(), "command.submit", {}, c.dev_id + ": " + detail}, t);
  if (!created) return store_error(created.error());
  command_queued(*created);  // package 0 trigger
  auto r = json_response(202, command_json(*created));
  r.set_header("Location", "/api/v1/devices/" + created->dev_id + "/commands/" + std::to_string(created->id));
  return r;
}

HttpResponse RestApi::get_command(Call& call) {
  const auto id = positive_id(call.param("id"));
  if (!id) return HttpResponse::json_error(404, "not found");
  auto c = store_.get_command(*id);
  // Another device's command is not found here (the caller may see this device only).
  if (!c || c->dev_id != call.param("devId")) {
    if (!c && c.error() != make_error_code(errc::not_found)) return store_error(c.error());
    return HttpResponse::json_error(404, "not found");
  }
  return json_response(200, command_json(*c));
}

void RestApi::command_queued(const MgmtCommand& cmd) {
  if (auto listener = wired(&Wiring::command_listener)) listener(cmd);
}

HttpResponse RestApi::list_device_commands(Call& call) {
  auto page = id_page_params(call);
  if (!page) return page.error();
  auto list = store_.list_commands(call.param("devId"), page->after, page->limit);
  if (!list) return store_error(list.error());
  json arr = json::array();
  for (const auto& c : *list) arr.push_back(command_json(c));
  json out = {{"commands", arr}};
  if (!list->empty() && list->size() == page->limit) out["next"] = list->back().id;
  return json_response(200, out);
}

}  // namespace m2mdm::server
