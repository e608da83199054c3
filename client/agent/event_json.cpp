#include "event_json.hpp"

namespace m2mdm::agent {

void add_event_fields(const client::DeviceEvent& e, nlohmann::ordered_json& out) {
  using K = client::DeviceEventKind;
  out["event"] = std::string(client::to_string(e.kind));
  auto text = [&](const char* key, const std::string& v) {
    if (!v.empty()) out[key] = v;
  };
  auto list = [&](const char* key, const std::vector<std::string>& v) {
    if (!v.empty()) out[key] = v;
  };
  text("server_id", e.server_id);
  text("device_id", e.device_id);
  list("contexts", e.contexts);
  list("servers", e.servers);
  list("init_servers", e.init_servers);
  text("sec_method", e.sec_method);
  text("session_id", e.session_id);
  text("initiator", e.initiator);
  text("ui_mode", e.ui_mode);
  text("nonce", e.nonce);
  if (e.report) {
    const auto& r = *e.report;
    nlohmann::ordered_json j;
    j["messages_sent"] = r.messages_sent;
    j["messages_received"] = r.messages_received;
    j["commands_executed"] = r.commands_executed;
    j["commands_refused"] = r.commands_refused;
    j["alerts_acknowledged"] = r.alerts_acknowledged;
    j["server_authenticated"] = r.server_authenticated;
    j["client_authenticated"] = r.client_authenticated;
    if (!r.abort_reason.empty()) j["abort_reason"] = r.abort_reason;
    out["report"] = std::move(j);
  }
  text("operation", e.operation);
  text("correlator", e.correlator);
  text("mcim", e.mcim);
  switch (e.kind) {
    case K::mcim_installed:
    case K::mcim_install_failed:
    case K::mcim_operation:
    case K::mcim_blocked: out["result"] = e.result; break;
    case K::device_ready: out["mcim_count"] = e.mcim_count; break;
    default: break;
  }
  if (e.error) out["error"] = {{"category", e.error.category().name()}, {"value", e.error.value()},
                               {"message", e.error.message()}};
  text("detail", e.detail);
  text("address", e.address);
  if (e.port != 0) out["port"] = e.port;
  if (e.kind == K::push_received) out["bytes"] = e.bytes;
}

}  // namespace m2mdm::agent
