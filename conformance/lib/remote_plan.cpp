// The plan of a client vector played to a real device: reset and verify sessions around the
// case's own, session starts, and the expectations that stay in-process (remote_plan.hpp).
#include "m2mdm/conformance/remote_plan.hpp"

#include "m2mdm/conformance/script.hpp"
#include "m2mdm/syncml/xml_text.hpp"

#include <algorithm>

namespace m2mdm::conformance {
namespace {

using nlohmann::json;

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// The server's first message of a reset/verify session: its credential (or an HMAC header, set
// on the step), 212 + a Chal with a fresh nonce for the device, 200 for Alert 1200 and the
// DevInfo Replace, then @p body (CmdIDs from 4), then @p tail.
std::string first_message(const std::string& auth, const std::string& nonce_name, const std::string& body,
                          const std::string& tail) {
  const bool hmac = auth == "HMAC";
  const std::string type = hmac ? "syncml:auth-MAC" : auth == "BASIC" ? "syncml:auth-basic" : "syncml:auth-md5";
  const std::string chal =
      auth == "BASIC" ? "<Chal><Meta><Type xmlns=\"syncml:metinf\">" + type +
                            "</Type><Format xmlns=\"syncml:metinf\">b64</Format></Meta></Chal>"
                      : "<Chal><Meta><Type xmlns=\"syncml:metinf\">" + type +
                            "</Type><Format xmlns=\"syncml:metinf\">b64</Format><NextNonce "
                            "xmlns=\"syncml:metinf\">{{Nonce:" +
                            nonce_name + "}}</NextNonce></Meta></Chal>";
  return "<SyncML xmlns=\"SYNCML:SYNCML1.2\">\n  <SyncHdr>\n    <VerDTD>1.2</VerDTD>\n    <VerProto>DM/1.2</VerProto>\n"
         "    <SessionID>{{SessionID}}</SessionID>\n    <MsgID>1</MsgID>\n"
         "    <Target><LocURI>{{DevId}}</LocURI></Target>\n    <Source><LocURI>{{ServerURI}}</LocURI></Source>\n    " +
         std::string(hmac ? "" : "{{ServerCred}}") +
         "\n  </SyncHdr>\n  <SyncBody>\n"
         "    <Status><CmdID>1</CmdID><MsgRef>{{MsgRef}}</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>"
         "<TargetRef>{{ServerURI}}</TargetRef><SourceRef>{{DevId}}</SourceRef>" +
         chal +
         "<Data>212</Data></Status>\n"
         "    <Status><CmdID>2</CmdID><MsgRef>{{MsgRef}}</MsgRef><CmdRef>{{CmdRef:Alert 1200}}</CmdRef><Cmd>Alert</Cmd>"
         "<Data>200</Data></Status>\n"
         "    <Status><CmdID>3</CmdID><MsgRef>{{MsgRef}}</MsgRef><CmdRef>{{CmdRef:Replace}}</CmdRef><Cmd>Replace</Cmd>"
         "<Data>200</Data></Status>\n" +
         body + tail + "    <Final/>\n  </SyncBody>\n</SyncML>\n";
}

// The server's last message: 200 for the device's SyncHdr, nothing to do.
std::string end_message() {
  return "<SyncML xmlns=\"SYNCML:SYNCML1.2\">\n  <SyncHdr>\n    <VerDTD>1.2</VerDTD>\n    <VerProto>DM/1.2</VerProto>\n"
         "    <SessionID>{{SessionID}}</SessionID>\n    <MsgID>2</MsgID>\n"
         "    <Target><LocURI>{{DevId}}</LocURI></Target>\n    <Source><LocURI>{{ServerURI}}</LocURI></Source>\n"
         "  </SyncHdr>\n  <SyncBody>\n"
         "    <Status><CmdID>1</CmdID><MsgRef>{{MsgRef}}</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>"
         "<TargetRef>{{ServerURI}}</TargetRef><SourceRef>{{DevId}}</SourceRef><Data>200</Data></Status>\n"
         "    <Final/>\n  </SyncBody>\n</SyncML>\n";
}

json auth_step(const std::string& auth, json step) {
  if (auth == "HMAC") step["hmac"] = "valid";
  return step;
}

std::string cred_kind(const std::string& auth) { return auth == "HMAC" ? "hmac" : auth == "BASIC" ? "basic" : "md5"; }

bool mentions(const CaseFiles& c, std::string_view what) {
  return std::any_of(c.files.begin(), c.files.end(),
                     [&](const auto& f) { return f.second.find(what) != std::string::npos; });
}

// Reset: every pending Generic Alert acknowledged (the in-process device starts with an empty
// outbox), ./Test deleted (200, or 404 when there is none) and the case's device.nodes added.
PlannedSession reset_session(const CaseFiles& c, const RemoteOptions& o, CasePlan& plan) {
  std::string body =
      "    <Delete><CmdID>4</CmdID><Item><Target><LocURI>./Test</LocURI></Target></Item></Delete>\n";
  json statuses = json::array({{{"cmd", "Delete"}, {"cmd_ref", 4}, {"code", json::array({200, 404})}}});
  std::uint32_t id = 5;
  // Nodes outside ./Test the case creates (case.json remote.reset).
  for (const auto& uri : c.spec.value("remote", json::object()).value("reset", json::array())) {
    body += "    <Delete><CmdID>" + std::to_string(id) + "</CmdID><Item><Target><LocURI>" + uri.get<std::string>() +
            "</LocURI></Target></Item></Delete>\n";
    statuses.push_back({{"cmd", "Delete"}, {"cmd_ref", id}, {"code", json::array({200, 404})}});
    ++id;
  }
  const auto nodes = c.spec.value("device", json::object()).value("nodes", json::array());
  if (!nodes.empty()) {
    body += "    <Add><CmdID>" + std::to_string(id) +
            "</CmdID><Item><Target><LocURI>./Test</LocURI></Target><Meta><Format "
            "xmlns=\"syncml:metinf\">node</Format></Meta></Item></Add>\n";
    statuses.push_back({{"cmd", "Add"}, {"cmd_ref", id}, {"code", 200}});
    ++id;
    for (const auto& n : nodes) {
      body += "    <Add><CmdID>" + std::to_string(id) + "</CmdID><Item><Target><LocURI>";
      syncml::append_xml_text(body, n.at("uri").get<std::string>());
      body += "</LocURI></Target><Meta><Format xmlns=\"syncml:metinf\">chr</Format></Meta><Data>";
      syncml::append_xml_text(body, value_spec(n.at("value")));
      body += "</Data></Item></Add>\n";
      statuses.push_back({{"cmd", "Add"}, {"cmd_ref", id}, {"code", 200}});
      ++id;
    }
  }
  plan.generated["_reset1.xml"] = first_message(o.auth, "_reset", body, "{{StatusEach:90:200:Alert 1226}}");
  plan.generated["_end.xml"] = end_message();
  PlannedSession s;
  s.label = "reset";
  s.session = {{"package1", {{"cred", cred_kind(o.auth)}}},
               {"steps", json::array({auth_step(o.auth, {{"send", "_reset1.xml"},
                                                         {"reply", {{"statuses", statuses}}}}),
                                      auth_step(o.auth, {{"send", "_end.xml"}, {"reply", {{"none", true}}}})})}};
  s.session["steps"][0]["reply"]["statuses"].push_back({{"cmd", "SyncHdr"}, {"code", 212}});
  return s;
}

// Verify after a case session: what `expect` says about the stored state, read over the wire.
PlannedSession verify_session(const json& expect, const RemoteOptions& o, std::size_t after, CasePlan& plan) {
  json statuses = json::array({{{"cmd", "SyncHdr"}, {"code", 212}}});
  // A Get of ./DevInfo/DevId first: the device must answer (and show it took the credential).
  std::string body =
      "    <Get><CmdID>4</CmdID><Item><Target><LocURI>./DevInfo/DevId</LocURI></Target></Item></Get>\n";
  statuses.push_back({{"cmd", "Get"}, {"cmd_ref", 4}, {"code", 200}});
  json results = json::array({{{"source", "./DevInfo/DevId"}, {"data", "{{DevId}}"}}});
  std::uint32_t id = 5;
  const json tree = expect.value("tree", json::object());
  for (const auto& [uri, v] : tree.items()) {
    body += "    <Get><CmdID>" + std::to_string(id) + "</CmdID><Item><Target><LocURI>" + uri +
            "</LocURI></Target></Item></Get>\n";
    statuses.push_back({{"cmd", "Get"}, {"cmd_ref", id}, {"code", v.is_null() ? 404 : 200}});
    if (!v.is_null()) results.push_back({{"source", uri}, {"data", v}});
    ++id;
  }
  const std::string n = std::to_string(after);
  // Pending Generic Alerts are answered 503: read, not acknowledged (the case decides that).
  plan.generated["_verify" + n + ".xml"] =
      first_message(o.auth, "_verify" + n, body, "{{StatusEach:90:503:Alert 1226}}");
  plan.generated["_end.xml"] = end_message();
  json package1 = {{"cred", cred_kind(o.auth)}};
  if (expect.contains("outbox")) {
    json alerts = json::array();
    for (const auto& a : expect.at("outbox"))
      alerts.push_back({{"type", a.at("type")}, {"correlator", a.value("correlator", "")}, {"code", a.at("code")},
                        {"mark", a.value("mark", "")}});
    package1["generic_alerts"] = alerts;
  }
  json reply = {{"statuses", statuses}, {"results", results}};
  PlannedSession s;
  s.label = "verify after session " + n;
  s.session = {{"package1", package1},
               {"steps", json::array({auth_step(o.auth, {{"send", "_verify" + n + ".xml"}, {"reply", reply}}),
                                      auth_step(o.auth, {{"send", "_end.xml"}, {"reply", {{"none", true}}}})})}};
  return s;
}

// The next package 0 SessionID whose hex form has digits only (the device's text is unambiguous).
std::uint16_t next_notification_id(std::uint16_t& id) {
  auto has_letter = [](unsigned v) {
    for (; v; v >>= 4)
      if ((v & 0xf) > 9) return true;
    return false;
  };
  do {
    ++id;
  } while (id == 0 || has_letter(id));
  return id;
}

}  // namespace

PlannedSession plan_sync_session(const RemoteOptions& o, std::map<std::string, std::string>& files,
                                 std::uint16_t& next_session_id) {
  const bool hmac = o.auth == "HMAC";
  const std::string type = hmac ? "syncml:auth-MAC" : "syncml:auth-md5";
  auto chal = [&](const std::string& name) {
    return "<Chal><Meta><Type xmlns=\"syncml:metinf\">" + type +
           "</Type><Format xmlns=\"syncml:metinf\">b64</Format><NextNonce xmlns=\"syncml:metinf\">{{Nonce:" + name +
           "}}</NextNonce></Meta></Chal>";
  };
  auto message = [&](int msg_id, const std::string& body) {
    return "<SyncML xmlns=\"SYNCML:SYNCML1.2\">\n  <SyncHdr>\n    <VerDTD>1.2</VerDTD>\n    <VerProto>DM/1.2</VerProto>\n"
           "    <SessionID>{{SessionID}}</SessionID>\n    <MsgID>" +
           std::to_string(msg_id) +
           "</MsgID>\n    <Target><LocURI>{{DevId}}</LocURI></Target>\n"
           "    <Source><LocURI>{{ServerURI}}</LocURI></Source>\n    " +
           std::string(hmac ? "" : "{{ServerCred}}") + "\n  </SyncHdr>\n  <SyncBody>\n" + body +
           "    <Final/>\n  </SyncBody>\n</SyncML>\n";
  };
  const std::string hdr = "<Status><CmdID>1</CmdID><MsgRef>{{MsgRef}}</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>"
                          "<TargetRef>{{ServerURI}}</TargetRef><SourceRef>{{DevId}}</SourceRef>";
  // 1: the device's credential refused with a fresh nonce; nothing else (DM_Protocol 1.2 §2.4.1
  // asks a Status for every command: the Alert and the Replace get 401 too).
  files["_sync1.xml"] = message(1, "    " + hdr + chal("_sync1") + "<Data>401</Data></Status>\n" +
                                       "    <Status><CmdID>2</CmdID><MsgRef>{{MsgRef}}</MsgRef><CmdRef>{{CmdRef:Alert "
                                       "1200}}</CmdRef><Cmd>Alert</Cmd><Data>401</Data></Status>\n"
                                       "    <Status><CmdID>3</CmdID><MsgRef>{{MsgRef}}</MsgRef><CmdRef>{{CmdRef:Replace}}"
                                       "</CmdRef><Cmd>Replace</Cmd><Data>401</Data></Status>\n");
  // 2: accepted, a fresh nonce again (kept by the device: the server has authenticated by now).
  files["_sync2.xml"] = message(2, "    " + hdr + chal("_sync2") + "<Data>212</Data></Status>\n" +
                                       "    <Status><CmdID>2</CmdID><MsgRef>{{MsgRef}}</MsgRef><CmdRef>{{CmdRef:Alert "
                                       "1200}}</CmdRef><Cmd>Alert</Cmd><Data>200</Data></Status>\n"
                                       "    <Status><CmdID>3</CmdID><MsgRef>{{MsgRef}}</MsgRef><CmdRef>{{CmdRef:Replace}}"
                                       "</CmdRef><Cmd>Replace</Cmd><Data>200</Data></Status>\n"
                                       "    <Get><CmdID>4</CmdID><Item><Target><LocURI>./DevInfo/DevId</LocURI></Target>"
                                       "</Item></Get>\n");
  files["_end3.xml"] = message(3, "    " + hdr + "<Data>200</Data></Status>\n");
  const std::string cred = hmac ? "hmac" : "md5";
  PlannedSession s;
  s.label = "nonce sync";
  s.from_case = false;
  if (o.package0) {
    s.start = SessionStart::package0;
    s.notification_session_id = next_notification_id(next_session_id);
    s.reset_nonce = true;
  } else {
    s.start = SessionStart::client;
    s.alert_alias = {{1201, 1200}, {1200, 1201}};
  }
  s.session = {
      {"steps", json::array({auth_step(o.auth, {{"send", "_sync1.xml"}, {"reply", {{"cred", cred}, {"alerts", {1200}}}}}),
                             auth_step(o.auth, {{"send", "_sync2.xml"},
                                                {"reply", {{"cred", hmac ? "hmac" : "none"},
                                                           {"statuses", json::array({{{"cmd", "SyncHdr"}, {"code", json::array({200, 212})}},
                                                                                     {{"cmd", "Get"}, {"cmd_ref", 4}, {"code", 200}}})}}}}),
                             auth_step(o.auth, {{"send", "_end3.xml"}, {"reply", {{"none", true}}}})})}};
  return s;
}

std::string rule_clause(const std::string& rule) {
  const auto colon = rule.find(": ");
  return colon == std::string::npos ? rule : rule.substr(0, colon);
}

CasePlan plan_remote_case(const CaseFiles& c, const RemoteOptions& o, std::uint16_t& next_session_id) {
  CasePlan plan;
  plan.id = c.name;
  plan.rule = c.spec.value("rule", std::string{});
  plan.clause = rule_clause(plan.rule);
  const json device = c.spec.value("device", json::object());
  const auto not_run = [&](std::string why) {
    if (plan.runnable) plan.not_run_reason = std::move(why);
    plan.runnable = false;
  };
  const std::string client_auth = upper(device.value("client_auth", "DIGEST"));
  const std::string server_auth = upper(device.value("server_auth", "DIGEST"));
  if (client_auth != o.auth || server_auth != o.auth)
    not_run("needs a " + client_auth + "/" + server_auth + " account (this run's account is " + o.auth + ")");
  if (!device.value("outbox", json::array()).empty())
    not_run("needs a Generic Alert pending in the device before the session; exec_correlator_* and "
            "generic_alert_resent_* make one on the wire");
  if (c.spec.contains("remote") && c.spec.at("remote").contains("not_run"))
    not_run(c.spec.at("remote").at("not_run").get<std::string>());
  if (c.spec.contains("remote") && c.spec.at("remote").contains("device_max_obj_size_below"))
    plan.device_max_obj_size_below = c.spec.at("remote").at("device_max_obj_size_below").get<std::uint64_t>();
  if (!o.m2msimmobj && mentions(c, "./M2MSIMMobj")) not_run("uses the M2MSIMMobj, which this device does not have");
  const bool client_only = c.spec.value("client_initiated_only", false);

  auto next_id = [&] { return next_notification_id(next_session_id); };
  // A session written for Alert 1201 (the case's `start: client`) or 1200 (reset, verify),
  // started as it can be; the other opening Alert is read in its place.
  auto starts = [&](PlannedSession& s, bool wants_client, int written_for) {
    if (wants_client || !o.package0) {
      s.start = SessionStart::client;
    } else {
      s.start = SessionStart::package0;
      s.notification_session_id = next_id();
    }
    if ((s.start == SessionStart::client) != (written_for == 1201)) s.alert_alias = {{1201, 1200}, {1200, 1201}};
  };

  PlannedSession reset = reset_session(c, o, plan);
  starts(reset, false, 1200);
  plan.sessions.push_back(std::move(reset));

  const auto& sessions = c.spec.value("sessions", json::array());
  std::vector<std::string> omitted;
  auto omit = [&](const std::string& what) {
    if (std::find(omitted.begin(), omitted.end(), what) == omitted.end()) omitted.push_back(what);
  };
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    const json& js = sessions[i];
    PlannedSession s;
    s.label = "session " + std::to_string(i + 1);
    s.session = js;
    s.from_case = true;
    const json start = js.value("start", json("client"));
    if (start.is_object() && start.contains("server_initiated")) {
      if (!o.package0) not_run("needs package 0: give the device's push address (--push)");
      s.start = SessionStart::package0;
      s.notification_session_id = start.at("server_initiated").get<std::uint16_t>();
    } else {
      starts(s, client_only, 1201);
    }
    const json expect = js.value("expect", json::object());
    for (const char* key : {"state", "abort_reason_contains", "tree_unchanged", "report"})
      if (expect.contains(key)) omit(key);
    for (const auto& a : expect.value("outbox", json::array()))
      if (a.contains("min_attempts")) omit("outbox min_attempts");
    plan.sessions.push_back(std::move(s));
    if (expect.contains("tree") || expect.contains("outbox") || expect.contains("client_nonce") ||
        expect.contains("server_nonce_persisted")) {
      PlannedSession v = verify_session(expect, o, i + 1, plan);
      starts(v, false, 1200);
      plan.sessions.push_back(std::move(v));
    }
  }
  plan.not_on_wire = std::move(omitted);
  return plan;
}

}  // namespace m2mdm::conformance
