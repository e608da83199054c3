// Conformance runner over conformance/vectors/server/: the DPF (DpfService on a real SQLite
// store, exactly what `POST /dm` reaches) driven by scripted device messages. Each case is a
// directory with case.json and SyncML XML templates; see conformance/vectors/server/README.md.
// Test names: Vectors/ServerConformance.ScriptedDevice/<case>.
#include "m2mdm/server/dpf_service.hpp"
#include "m2mdm/server/sqlite_store.hpp"
#include "m2mdm/syncml/auth.hpp"
#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/syncml/status.hpp"
#include "m2mdm/test/files.hpp"
#include "m2mdm/conformance/placeholders.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace m2mdm::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kDir = fs::path(M2MDM_VECTORS_DIR) / "server";
constexpr std::string_view kServerUri = "http://127.0.0.1/dm";
constexpr std::int64_t kNow = 1'700'000'000;

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kDir))
    if (e.is_directory()) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

/// The DPF, its store and the scripted device's view of the session.
struct World {
  m2mdm::test::TempDir dir;
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<DpfService> dpf;
  std::string dev_id;
  std::string client_user;
  std::string client_secret;
  Bytes client_nonce;                        // what the server expects our next digest over
  std::map<std::string, std::string> correlators;  // job name -> correlator
  std::map<std::string, std::int64_t> job_ids;
  std::map<std::string, std::int64_t> command_ids;  // command name -> id
  std::string target = "/dm";                // where the next message goes (RespURI path)
  std::uint32_t last_server_msg = 0;
  syncml::Message last_reply;                // the server's last message

  /// {{Ack}}: the device's Status 212 for the server's last SyncHdr and one for each of its
  /// commands (Exec 202 "accepted for processing", everything else 200), CmdIDs from 100.
  std::string ack() const {
    std::string out;
    std::uint32_t id = 100;
    auto status = [&](std::uint32_t ref, std::string_view cmd, int code, std::string_view extra) {
      out += "<Status><CmdID>" + std::to_string(id++) + "</CmdID><MsgRef>" + std::to_string(last_server_msg) +
             "</MsgRef><CmdRef>" + std::to_string(ref) + "</CmdRef><Cmd>" + std::string(cmd) + "</Cmd>" +
             std::string(extra) + "<Data>" + std::to_string(code) + "</Data></Status>";
    };
    status(0, "SyncHdr", 212, "<TargetRef>" + std::string(kServerUri) + "</TargetRef><SourceRef>" + dev_id + "</SourceRef>");
    for (const auto& command : last_reply.body) {
      if (std::holds_alternative<syncml::Status>(command.value)) continue;
      const auto kind = command.kind();
      status(command.cmd_id(), syncml::command_name(kind), kind == syncml::CommandKind::Exec ? 202 : 200, "");
    }
    return out;
  }

  /// {{CmdID:<Kind>}}: the CmdID of the first `<Kind>` command (searched inside Atomic/Sequence
  /// too) of the latest server message that held one: a device answers a Get over several
  /// messages when its Results is a large object.
  std::map<std::string, std::uint32_t> seen_cmd_ids;
  void remember_cmd_ids(const syncml::Message& m) {
    std::map<std::string, std::uint32_t> now;
    auto note = [&](const syncml::Command& c) { now.emplace(syncml::command_name(c.kind()), c.cmd_id()); };
    for (const auto& command : m.body) {
      if (std::holds_alternative<syncml::Status>(command.value)) continue;
      note(command);
      if (const auto* box = std::get_if<syncml::Container>(&command.value))
        for (const auto& inner : box->commands) note(inner);
    }
    for (const auto& [k, v] : now) seen_cmd_ids[k] = v;
  }
  std::optional<std::string> cmd_id_of(const std::string& kind) const {
    auto it = seen_cmd_ids.find(kind);
    if (it == seen_cmd_ids.end()) return std::nullopt;
    return std::to_string(it->second);
  }

  std::string cred(std::string_view password) const {
    auto digest = syncml::md5_digest_credential(client_user, password, client_nonce);
    if (!digest) return {};
    return "<Cred><Meta><Type xmlns=\"syncml:metinf\">syncml:auth-md5</Type>"
           "<Format xmlns=\"syncml:metinf\">b64</Format></Meta><Data>" +
           *digest + "</Data></Cred>";
  }

  /// Replaces {{DevId}}, {{ServerURI}}, {{MsgRef}}, {{ClientCred}}, {{ClientCred:wrong}},
  /// {{Correlator:<job>}}, {{Ack}}.
  std::string expand(const std::string& text) const {
    std::string unknown;
    auto out = m2mdm::conformance::expand_placeholders(
        text,
        [&](const std::string& name, const std::string& arg) -> std::optional<std::string> {
          if (name == "DevId") return dev_id;
          if (name == "ServerURI") return std::string(kServerUri);
          if (name == "MsgRef") return std::to_string(last_server_msg);
          if (name == "Ack") return ack();
          if (name == "ClientCred") return cred(arg == "wrong" ? client_secret + "-wrong" : client_secret);
          if (name == "Correlator" && correlators.contains(arg)) return correlators.at(arg);
          if (name == "CmdID") return cmd_id_of(arg);
          return std::nullopt;
        },
        &unknown);
    if (!unknown.empty()) ADD_FAILURE() << "unknown placeholder {{" << unknown << "}}";
    return out;
  }
};

void set_up(World& w, const json& c) {
  auto box = mo::SecretBox::from_key(Bytes(mo::SecretBox::key_size, 0x42));
  ASSERT_TRUE(box);
  auto store = SqliteStore::open(w.dir.path() / "ro.sqlite", std::move(*box));
  ASSERT_TRUE(store) << store.error().message();
  w.store = std::move(*store);
  auto sho = w.store->create_sho("sho", hash_token("sho-token"), kNow);
  ASSERT_TRUE(sho);

  const json dev = c.value("device", json::object());
  Device d;
  d.dev_id = dev.value("dev_id", "IMEI:490154203237518");
  d.pcid = "001010000000001";
  d.sho_id = sho->id;
  d.dpf_address = std::string(kServerUri);
  d.dm.server_id = "ro-dpf";
  d.dm.server_username = "ro-dpf";
  d.dm.server_password = "server-secret";
  d.dm.client_username = d.dev_id;
  d.dm.client_password = dev.value("client_secret", "client-secret");
  const std::string nonce = dev.value("client_nonce", "nonce-1");
  d.dm.client_nonce = Bytes(nonce.begin(), nonce.end());
  ASSERT_TRUE(w.store->upsert_devices(std::span(&d, 1), kNow));
  // A device whose PfC the RO already holds is not asked for it (no Get before the jobs).
  if (dev.value("pfc_known", true)) {
    ASSERT_TRUE(w.store->set_device_pfc(d.dev_id, Bytes{0x30, 0x00}, kNow));
  }
  w.dev_id = d.dev_id;
  w.client_user = d.dm.client_username;
  w.client_secret = d.dm.client_password;
  w.client_nonce = d.dm.client_nonce;

  for (const auto& j : c.value("jobs", json::array())) {
    NewJob job;
    job.dev_id = w.dev_id;
    job.sho_id = sho->id;
    job.kind = job_kind_from_string(j.value("kind", "install")).value_or(JobKind::install);
    job.payload = Bytes(j.value("payload_size", 64), 0x5a);
    auto created = w.store->create_job(job, kNow);
    ASSERT_TRUE(created) << created.error().message();
    w.correlators[j.at("name").get<std::string>()] = created->correlator;
    w.job_ids[j.at("name").get<std::string>()] = created->id;
  }
  // Generic management commands queued for the device: [{"name", "wrap", "ops": [{"verb", "target", ...}]}].
  for (const auto& m : c.value("commands", json::array())) {
    MgmtCommand cmd;
    cmd.dev_id = w.dev_id;
    cmd.submitted_by = "operator";
    cmd.wrap = mgmt_wrap_from_string(m.value("wrap", "none")).value_or(MgmtWrap::none);
    for (const auto& o : m.at("ops")) {
      MgmtOp op;
      op.verb = mgmt_verb_from_string(o.value("verb", "Get")).value_or(MgmtVerb::get);
      op.target = o.value("target", "");
      op.source = o.value("source", "");
      if (o.contains("data")) op.data = o["data"].get<std::string>();
      op.format = o.value("format", "");
      cmd.ops.push_back(std::move(op));
    }
    auto created = w.store->create_command(cmd, AuditEntry{0, kNow, "operator", "command.submit", {}, {}}, kNow);
    ASSERT_TRUE(created) << created.error().message();
    w.command_ids[m.at("name").get<std::string>()] = created->id;
  }
  DpfOptions options;
  options.server_uri = std::string(kServerUri);
  options.public_base = "http://127.0.0.1";
  options.clock = [] { return kNow; };
  w.dpf = std::make_unique<DpfService>(*w.store, options);
}

const syncml::Status* find_status(const syncml::Message& m, const json& want) {
  for (const auto& command : m.body) {
    const auto* st = std::get_if<syncml::Status>(&command.value);
    if (!st || st->cmd != want.at("cmd").get<std::string>()) continue;
    if (want.contains("cmd_ref") && st->cmd_ref != want["cmd_ref"].get<std::uint32_t>()) continue;
    return st;
  }
  return nullptr;
}

void check_reply(const std::string& where, const syncml::Message& m, const json& expect) {
  for (const auto& want : expect.value("statuses", json::array())) {
    const auto* st = find_status(m, want);
    if (!st) {
      ADD_FAILURE() << where << ": no Status for " << want.dump();
      continue;
    }
    if (want.contains("code")) {
      EXPECT_EQ(st->data, want["code"].get<int>()) << where << ": " << want.dump();
    }
    if (want.contains("chal")) {
      EXPECT_EQ(st->chal.has_value(), want["chal"].get<bool>()) << where << ": " << want.dump();
    }
  }
  if (expect.value("only_statuses", false)) {
    for (const auto& command : m.body)
      EXPECT_TRUE(std::holds_alternative<syncml::Status>(command.value))
          << where << ": a " << syncml::command_name(command.kind()) << " in a reply that may hold only Statuses";
  }
  if (expect.contains("status_count")) {
    const auto n = std::count_if(m.body.begin(), m.body.end(),
                                 [](const syncml::Command& c) { return std::holds_alternative<syncml::Status>(c.value); });
    EXPECT_EQ(n, expect["status_count"].get<long>()) << where;
  }
  for (const auto& name : expect.value("has_commands", json::array())) {
    const bool found = std::any_of(m.body.begin(), m.body.end(), [&](const syncml::Command& c) {
      return syncml::command_name(c.kind()) == name.get<std::string>();
    });
    EXPECT_TRUE(found) << where << ": no " << name << " in the reply";
  }
  if (expect.contains("final")) {
    EXPECT_EQ(m.final, expect["final"].get<bool>()) << where;
  }
}

void check_after(World& w, const json& after) {
  const json jobs = after.value("jobs", json::object());
  for (const auto& [name, state] : jobs.items()) {
    auto job = w.store->get_job(w.job_ids.at(name));
    ASSERT_TRUE(job);
    EXPECT_EQ(to_string(job->state), state.get<std::string>()) << "job " << name;
  }
  for (const auto& name : after.value("jobs_without_result", json::array())) {
    auto result = w.store->get_result(w.job_ids.at(name.get<std::string>()));
    ASSERT_TRUE(result);
    EXPECT_FALSE(result->has_value()) << "job " << name << " has a result: " << (*result)->code;
  }
  if (after.contains("device_state")) {
    auto d = w.store->get_device(w.dev_id);
    ASSERT_TRUE(d);
    EXPECT_EQ(to_string(d->state), after["device_state"].get<std::string>());
  }
  // "commands": {"<name>": {"state", "statuses": [{"cmd", "code"}] (each present),
  //              "results": ["<data>", ...] (exactly these, in order), "status_count"}}.
  const json commands = after.value("commands", json::object());
  for (const auto& [name, want] : commands.items()) {
    auto cmd = w.store->get_command(w.command_ids.at(name));
    ASSERT_TRUE(cmd);
    if (want.contains("state")) {
      EXPECT_EQ(to_string(cmd->state), want["state"].get<std::string>()) << "command " << name << ": " << cmd->error;
    }
    for (const auto& st : want.value("statuses", json::array())) {
      const bool found = std::any_of(cmd->statuses.begin(), cmd->statuses.end(), [&](const MgmtStatus& s) {
        return s.cmd == st.at("cmd").get<std::string>() && s.code == st.at("code").get<int>();
      });
      EXPECT_TRUE(found) << "command " << name << ": no status " << st.dump();
    }
    if (want.contains("status_count")) {
      EXPECT_EQ(cmd->statuses.size(), want["status_count"].get<std::size_t>()) << "command " << name;
    }
    if (want.contains("results")) {
      std::vector<std::string> got;
      for (const auto& r : cmd->results) got.push_back(r.data);
      EXPECT_EQ(got, want["results"].get<std::vector<std::string>>()) << "command " << name;
    }
  }
  auto audit = w.store->list_audit(1000);
  ASSERT_TRUE(audit);
  for (const auto& action : after.value("audit", json::array())) {
    const bool found = std::any_of(audit->begin(), audit->end(),
                                   [&](const AuditEntry& e) { return e.action == action.get<std::string>(); });
    EXPECT_TRUE(found) << "no audit entry " << action;
  }
  // "audit_details": texts that must each be part of some audit entry's detail (e.g. the DevInfo
  // values of a dm.session entry).
  for (const auto& text : after.value("audit_details", json::array())) {
    const bool found = std::any_of(audit->begin(), audit->end(), [&](const AuditEntry& e) {
      return e.detail.find(text.get<std::string>()) != std::string::npos;
    });
    EXPECT_TRUE(found) << "no audit entry whose detail holds " << text;
  }
}

class ServerConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(ServerConformance, ScriptedDevice) {
  const fs::path dir = kDir / GetParam();
  const auto c = json::parse(m2mdm::test::slurp(dir / "case.json"), nullptr, false);
  ASSERT_FALSE(c.is_discarded()) << "case.json of " << GetParam() << " is not JSON";
  RecordProperty("rule", c.value("rule", ""));
  World w;
  set_up(w, c);
  if (HasFatalFailure()) return;

  int n = 0;
  for (const auto& step : c.at("steps")) {
    const std::string where = GetParam() + " step " + std::to_string(++n);
    HttpRequest req;
    req.method = "POST";
    req.target = w.target;
    req.headers = {{"Host", "127.0.0.1"}, {"Content-Type", std::string(dm_xml_content_type)}};
    req.body = w.expand(m2mdm::test::slurp(dir / step.at("send").get<std::string>()));
    req.peer = "127.0.0.1:40000";
    const HttpResponse resp = w.dpf->handle_dm(req);
    const json expect = step.value("expect", json::object());
    EXPECT_EQ(resp.status, expect.value("http_status", 200)) << where << ": " << resp.body;
    if (resp.status != 200) continue;
    auto reply = syncml::decode_xml(as_bytes(resp.body));
    ASSERT_TRUE(reply) << where << ": the server's reply does not decode: " << reply.error().message();
    check_reply(where, *reply, expect);
    w.last_server_msg = reply->hdr.msg_id;
    w.last_reply = *reply;
    w.remember_cmd_ids(*reply);
    if (reply->hdr.resp_uri) {
      const auto& uri = *reply->hdr.resp_uri;
      const auto path = uri.find('/', uri.find("://") == std::string::npos ? 0 : uri.find("://") + 3);
      if (path != std::string::npos) w.target = uri.substr(path);
    }
    // The server's challenge, if any, names the nonce our next digest is over.
    for (const auto& command : reply->body) {
      const auto* st = std::get_if<syncml::Status>(&command.value);
      if (st && st->cmd == "SyncHdr" && st->chal && st->chal->meta.next_nonce) {
        if (auto nonce = base64_decode(*st->chal->meta.next_nonce)) w.client_nonce = *nonce;
      }
    }
  }
  check_after(w, c.value("after", json::object()));
}

INSTANTIATE_TEST_SUITE_P(Vectors, ServerConformance, ::testing::ValuesIn(case_names()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace m2mdm::server
