// Conformance runner over conformance/vectors/client/: scripted DM servers replayed against the
// client session engine (m2mdm::client::ClientSession) on a real device tree, a real software
// TRE and a file outbox. One directory per case, named after the rule it tests; the format
// (case.json + server message templates) is described in conformance/vectors/client/README.md.
//
// Besides each case's own expectations, every message the device sends is checked for the
// rules that hold always: it decodes, VerDTD 1.2 / VerProto DM/1.2, the session's SessionID,
// MsgIDs 1, 2, 3..., Source = DevId, every Status has a CmdID, every Results follows the Status
// of the same command (DM_RepPro 1.2 §6.6.12), and it is no larger than the MaxMsgSize the
// server announced (DM_RepPro 1.2 §7.1).
#include "m2mdm/client/alert_outbox.hpp"
#include "m2mdm/client/m2msim_agent.hpp"
#include "m2mdm/client/mcim_registry.hpp"
#include "m2mdm/client/session.hpp"
#include "m2mdm/client/software_tre.hpp"
#include "m2mdm/conformance/remote_plan.hpp"
#include "m2mdm/conformance/script.hpp"
#include "m2mdm/conformance/vectors.hpp"
#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/standard_objects.hpp"
#include "m2mdm/mo/trust.hpp"
#include "m2mdm/syncml/auth.hpp"
#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/syncml/status.hpp"
#include "m2mdm/test/device_fixture.hpp"
#include "m2mdm/test/files.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace m2mdm::client {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using m2mdm::test::kTestDevId;  // the DevId the vectors name: the fixtures' test device
constexpr std::string_view kServerId = "ro-dpf";
constexpr std::string_view kServerUri = "http://127.0.0.1/dm";

const fs::path kDir = fs::path(M2MDM_VECTORS_DIR) / "client";

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  if (fs::is_directory(kDir)) {
    for (const auto& e : fs::directory_iterator(kDir))
      if (e.is_directory() && fs::exists(e.path() / "case.json")) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

using m2mdm::test::slurp;

using conformance::value_spec;

Bytes b64_field(const json& j, const char* name) {
  if (!j.contains(name)) return {};
  auto d = base64_decode(j.at(name).get<std::string>());
  EXPECT_TRUE(d) << name << " is not base64";
  return d ? *d : Bytes{};
}

// The test PKI and a TRE directory made once per process; each case copies the TRE directory.
struct SharedPki {
  fs::path root;
  fs::path tre_dir;
  std::string sho_ca_pem;
};

const SharedPki& shared_pki() {
  static const SharedPki pki = [] {
    SharedPki p;
    p.root = fs::temp_directory_path() / ("m2mdm-client-conf-" + std::to_string(::getpid()));
    fs::remove_all(p.root);
    fs::create_directories(p.root);
    auto files = m2mdm::test::make_test_pki(p.root / "pki", kTestDevId);
    EXPECT_TRUE(files) << files.error().message();
    if (files) {
      p.sho_ca_pem = slurp(files->at("sho-ca"));
      p.tre_dir = files->at("tre-dir");
    }
    return p;
  }();
  return pki;
}

class PkiCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(fs::temp_directory_path() / ("m2mdm-client-conf-" + std::to_string(::getpid())), ec);
  }
};
[[maybe_unused]] const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new PkiCleanup);

// Node contents that matter for "the tree did not change" (nonces excluded: a device that
// refuses a server still issues it a fresh challenge, DM_Security 1.2 §5.3).
std::map<std::string, std::string> tree_image(const mo::Tree& tree) {
  std::map<std::string, std::string> out;
  for (const auto& [uri, node] : tree.nodes()) {
    if (uri.ends_with("/AAuthData")) continue;
    std::string v = std::string(mo::format_name(node.format)) + "|" + node.type + "|" + node.acl.format() + "|";
    if (node.value) v += std::string(as_chars(*node.value));
    out[uri] = std::move(v);
  }
  return out;
}

std::optional<Bytes> account_nonce(const mo::Tree& tree, std::string_view level) {
  auto account = mo::find_dm_account(tree, kServerId);
  if (!account) return std::nullopt;
  for (const auto& a : account->app_auth)
    if (a.level == level) return a.data;
  return std::nullopt;
}

// The outbox the agent and the sessions share: the file, reopened at the start of every session
// (so a session sees only what was persisted), behind one stable reference.
class ReopenedOutbox final : public AlertOutbox {
 public:
  explicit ReopenedOutbox(fs::path path) : path_(std::move(path)) {}
  Result<void> reopen() {
    auto box = FileAlertOutbox::open(path_);
    if (!box) return fail(box.error());
    box_.emplace(std::move(*box));
    return {};
  }
  Result<std::uint64_t> add(std::string_view server_id, const mo::GenericAlertPayload& payload) override {
    return box_->add(server_id, payload);
  }
  std::vector<PendingAlert> pending(std::string_view server_id) const override { return box_->pending(server_id); }
  Result<void> mark_sent(std::uint64_t id) override { return box_->mark_sent(id); }
  Result<void> acknowledge(std::uint64_t id) override { return box_->acknowledge(id); }

 private:
  fs::path path_;
  std::optional<FileAlertOutbox> box_;
};

// ---------------------------------------------------------------------------------------------

class ClientConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    case_dir_ = kDir / GetParam();
    spec_ = json::parse(slurp(case_dir_ / "case.json"));
    work_ = fs::temp_directory_path() /
            ("m2mdm-client-case-" + std::to_string(::getpid()) + "-" + GetParam());
    fs::remove_all(work_);
    fs::create_directories(work_);
    const auto& pki = shared_pki();
    ASSERT_FALSE(pki.tre_dir.empty());
    fs::copy(pki.tre_dir, work_ / "tre", fs::copy_options::recursive);
    auto tre = SoftwareTre::open(work_ / "tre");
    ASSERT_TRUE(tre) << tre.error().message();
    tre_ = std::move(*tre);
    auto registry = McimRegistry::open(*tre_);
    ASSERT_TRUE(registry) << registry.error().message();
    registry_.emplace(std::move(*registry));

    const json device = spec_.value("device", json::object());
    m2mdm::test::DeviceTreeSpec tree;
    tree.dev_id = std::string(kTestDevId);
    tree.model = "conformance-1";
    tree.server_id = std::string(kServerId);
    tree.server_name = "Registration Operator";
    tree.server_uri = std::string(kServerUri);
    tree.client_auth = device.value("client_auth", "DIGEST");
    tree.client_secret = device.value("client_secret", "client-secret");
    tree.client_nonce = b64_field(device, "client_nonce_b64");
    tree.server_auth = device.value("server_auth", "DIGEST");
    tree.server_secret = device.value("server_secret", "server-secret");
    tree.server_nonce = b64_field(device, "server_nonce_b64");
    tree.pfc_der = tre_->platform_certificate();
    ASSERT_EQ(m2mdm::test::install_device_tree(tree_, tree), "");
    for (const auto& n : device.value("nodes", json::array())) {
      const auto uri = n.at("uri").get<std::string>();
      const auto parent = uri.substr(0, uri.rfind('/'));
      ASSERT_TRUE(syncml::is_success(tree_.ensure_interior(parent))) << parent;
      ASSERT_TRUE(syncml::is_success(tree_.set_text(uri, value_spec(n.at("value"))))) << uri;
      if (n.contains("acl")) {
        auto acl = mo::Acl::parse(n.at("acl").get<std::string>());
        ASSERT_TRUE(acl);
        ASSERT_TRUE(syncml::is_success(tree_.set_acl(uri, *acl)));
        ASSERT_TRUE(syncml::is_success(tree_.set_acl(parent, *acl)));
      }
    }

    auto anchors = mo::TrustAnchors::from_pem(pki.sho_ca_pem, mo::AnchorKind::test);
    ASSERT_TRUE(anchors) << anchors.error().message();
    outbox_path_ = work_ / "outbox.json";
    // The agent writes outcomes into this outbox; sessions reopen the file, so what they see
    // is what was persisted.
    outbox_.emplace(outbox_path_);
    ASSERT_TRUE(outbox_->reopen());
    for (const auto& a : device.value("outbox", json::array())) {
      auto payload = mo::make_m2msim_alert(a.at("type").get<std::string>(), a.value("source", ""),
                                           a.value("correlator", ""),
                                           static_cast<mo::M2msimResult>(a.at("code").get<int>()),
                                           a.value("message", ""));
      ASSERT_TRUE(outbox_->add(kServerId, payload));
    }
    agent_.emplace(tree_, *tre_, *registry_, *outbox_, std::move(*anchors));
    agent_->attach();
    account_.dev_id = std::string(kTestDevId);
    account_.server_id = std::string(kServerId);
    account_.server_uri = std::string(kServerUri);
    account_.client_auth = tree.client_auth;
    account_.server_auth = tree.server_auth;
    account_.client_secret = tree.client_secret;
    account_.server_secret = tree.server_secret;
    account_.man = "m2mdm";
    account_.mod = tree.model;
    wire_.start(b64_field(device, "server_nonce_b64"), b64_field(device, "client_nonce_b64"));
  }

  void TearDown() override {
    agent_.reset();
    registry_.reset();
    tre_.reset();
    std::error_code ec;
    fs::remove_all(work_, ec);
  }

  // ---- per-session context --------------------------------------------------------------

  // What the scripted server knows from the wire (m2mdm::conformance::Wire), across sessions.
  conformance::Wire wire_;
  conformance::Account account_;

  // The lib's findings as test failures; true when the script can go on.
  static bool report(const conformance::Findings& f, const std::string& where) {
    for (const auto& what : f.failures) ADD_FAILURE() << where << ": " << what;
    return !f.fatal;
  }

  bool accept_device_message(conformance::SessionCtx& ctx, const Outgoing& out, const std::string& where) {
    if (std::getenv("M2MDM_TRACE")) std::fprintf(stderr, "device> %s\n", std::string(as_chars(out.body)).c_str());
    return report(conformance::accept_device_message(ctx, wire_, account_, {out.body, out.hmac_header}), where);
  }

  bool check_reply(conformance::SessionCtx& ctx, const json& want, const std::string& where) {
    return report(conformance::check_reply(ctx, wire_, account_, want), where);
  }

  void check_session_end(const conformance::SessionCtx& ctx, ClientSession& session, const json& want,
                         const std::map<std::string, std::string>& before) {
    if (want.contains("state")) {
      const std::string s = want.at("state").get<std::string>();
      const auto expected = s == "Completed" ? SessionState::Completed
                            : s == "Aborted" ? SessionState::Aborted
                                             : SessionState::AwaitingResponse;
      EXPECT_EQ(session.state(), expected) << "abort reason: " << session.report().abort_reason;
    }
    if (want.contains("abort_reason_contains")) {
      EXPECT_NE(session.report().abort_reason.find(want.at("abort_reason_contains").get<std::string>()),
                std::string::npos)
          << session.report().abort_reason;
    }
    if (want.value("tree_unchanged", false)) {
      EXPECT_EQ(tree_image(tree_), before) << "the tree changed";
    }
    const json tree_want = want.value("tree", json::object());
    for (const auto& [uri, v] : tree_want.items()) {
      if (v.is_null()) {
        EXPECT_FALSE(tree_.exists(uri)) << uri << " exists";
      } else {
        EXPECT_EQ(tree_.get_text(uri).value_or("<absent>"), value_spec(v)) << uri;
      }
    }
    report(conformance::check_assembled(ctx, want), "session end");
    if (want.contains("report")) {
      const auto& r = want.at("report");
      const auto& got = session.report();
      if (r.contains("server_authenticated")) {
        EXPECT_EQ(got.server_authenticated, r.at("server_authenticated").get<bool>());
      }
      if (r.contains("client_authenticated")) {
        EXPECT_EQ(got.client_authenticated, r.at("client_authenticated").get<bool>());
      }
      if (r.contains("alerts_acknowledged")) {
        EXPECT_EQ(got.alerts_acknowledged, r.at("alerts_acknowledged").get<unsigned>());
      }
    }
    if (want.contains("client_nonce")) {
      // The nonce the server gave for the device's next credential is the one persisted.
      const auto& name = want.at("client_nonce").get<std::string>();
      ASSERT_TRUE(wire_.nonces.contains(name));
      EXPECT_EQ(account_nonce(tree_, "CLCRED").value_or(Bytes{}), wire_.nonces.at(name))
          << "CLCRED AAuthData does not hold the server's NextNonce";
    }
    if (want.value("server_nonce_persisted", false)) {
      ASSERT_TRUE(wire_.last_chal_nonce) << "the device never challenged the server";
      EXPECT_EQ(account_nonce(tree_, "SRVCRED").value_or(Bytes{}), *wire_.last_chal_nonce)
          << "SRVCRED AAuthData does not hold the last NextNonce the device sent";
    }
    if (want.contains("outbox")) {
      auto box = FileAlertOutbox::open(outbox_path_);
      ASSERT_TRUE(box);
      const auto pending = box->pending(kServerId);
      const auto& list = want.at("outbox");
      ASSERT_EQ(pending.size(), list.size()) << "alerts pending in the persisted outbox";
      for (std::size_t i = 0; i < pending.size(); ++i) {
        EXPECT_EQ(pending[i].payload.type, list[i].at("type").get<std::string>());
        EXPECT_EQ(pending[i].payload.correlator, list[i].value("correlator", ""));
        auto parsed = mo::parse_m2msim_alert_data(pending[i].payload.data);
        ASSERT_TRUE(parsed);
        EXPECT_EQ(parsed->first, list[i].at("code").get<int>());
        if (list[i].contains("min_attempts")) {
          EXPECT_GE(pending[i].attempts, list[i].at("min_attempts").get<std::uint32_t>());
        }
      }
    }
  }

  // ---- one session --------------------------------------------------------------------------

  void run_session(const json& s, std::size_t index) {
    const std::string label = "session " + std::to_string(index + 1);
    SCOPED_TRACE(label);
    const json cfg_j = s.value("config", spec_.value("config", json::object()));
    SessionConfig cfg;
    if (cfg_j.contains("max_msg_size")) cfg.max_msg_size = cfg_j.at("max_msg_size").get<std::uint64_t>();
    if (cfg_j.contains("max_obj_size")) cfg.max_obj_size = cfg_j.at("max_obj_size").get<std::uint64_t>();
    if (cfg_j.contains("max_auth_attempts")) cfg.max_auth_attempts = cfg_j.at("max_auth_attempts").get<unsigned>();
    if (cfg_j.value("encoding", "xml") == "wbxml") cfg.encoding = syncml::Encoding::Wbxml;

    ASSERT_TRUE(outbox_->reopen()) << "the outbox file does not reopen";
    ClientSession session(tree_, *outbox_, std::string(kServerId), cfg);
    const auto before = tree_image(tree_);

    conformance::SessionCtx ctx;
    Result<Outgoing> first = [&]() -> Result<Outgoing> {
      const json start = s.value("start", json("client"));
      if (start.is_object() && start.contains("server_initiated")) {
        syncml::Notification n;
        n.server_id = std::string(kServerId);
        n.session_id = start.at("server_initiated").get<std::uint16_t>();
        return session.start_server_initiated(n);
      }
      return session.start_client_initiated();
    }();
    ASSERT_TRUE(first) << first.error().message();
    ctx.session_id = session.session_id();
    if (s.contains("session_id")) {
      EXPECT_EQ(ctx.session_id, s.at("session_id").get<std::string>());
    }
    if (!accept_device_message(ctx, *first, "package 1")) return;
    if (!check_reply(ctx, s.value("package1", json::object()), "package 1")) return;
    std::optional<Outgoing> pending = std::move(*first);

    std::size_t step_no = 0;
    for (const auto& step : s.at("steps")) {
      ++step_no;
      const std::string where = "step " + std::to_string(step_no) + " (" + step.at("send").get<std::string>() + ")";
      SCOPED_TRACE(where);
      ASSERT_TRUE(pending) << "the session ended before this step";
      const std::string raw = slurp(case_dir_ / step.at("send").get<std::string>());
      conformance::Findings built;
      const auto message = conformance::build_server_message(ctx, wire_, account_, step, raw, built);
      if (!report(built, where)) return;
      if (std::getenv("M2MDM_TRACE")) std::fprintf(stderr, "server> %s\n", message.text.c_str());
      auto reply = session.on_response(message.body, message.content_type, message.hmac);
      const json want = step.value("reply", json::object());
      if (!reply || !*reply) {
        pending.reset();
        EXPECT_TRUE(want.value("none", false))
            << "the device sent nothing: " << (reply ? "session over" : reply.error().message()) << " / "
            << session.report().abort_reason;
        continue;
      }
      EXPECT_FALSE(want.value("none", false)) << "the device answered a message it should not have";
      pending = std::move(**reply);
      if (!accept_device_message(ctx, *pending, where)) return;
      if (!check_reply(ctx, want, where)) return;
    }
    if (s.value("ends_after_steps", true)) {
      EXPECT_NE(session.state(), SessionState::AwaitingResponse)
          << "the script ended but the device still waits for an answer";
    }
    check_session_end(ctx, session, s.value("expect", json::object()), before);
    conformance::end_session(ctx, wire_);
  }

  fs::path case_dir_;
  json spec_;
  fs::path work_;
  std::unique_ptr<SoftwareTre> tre_;
  std::optional<McimRegistry> registry_;
  mo::Tree tree_;
  fs::path outbox_path_;
  std::optional<ReopenedOutbox> outbox_;
  std::optional<M2msimAgent> agent_;
};

TEST_P(ClientConformance, ScriptedServer) {
  SCOPED_TRACE(spec_.value("rule", std::string{}));
  const auto& sessions = spec_.at("sessions");
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    run_session(sessions[i], i);
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Vectors, ClientConformance, ::testing::ValuesIn(case_names()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace m2mdm::client

namespace m2mdm::conformance {
namespace {

// `m2mdm conformance` plays the copy of the vectors embedded at build time: it must be the
// source tree's, file for file.
TEST(ClientVectors, EmbeddedCopyIsTheSourceTree) {
  auto from_dir = load_cases(std::filesystem::path(M2MDM_VECTORS_DIR) / "client");
  ASSERT_TRUE(from_dir) << from_dir.error().message();
  auto embedded = embedded_client_cases();
  ASSERT_TRUE(embedded) << embedded.error().message();
  ASSERT_EQ(embedded->size(), from_dir->size());
  ASSERT_GT(embedded->size(), 30u);
  for (std::size_t i = 0; i < embedded->size(); ++i) {
    EXPECT_EQ((*embedded)[i].name, (*from_dir)[i].name);
    EXPECT_EQ((*embedded)[i].spec, (*from_dir)[i].spec) << (*from_dir)[i].name;
    EXPECT_EQ((*embedded)[i].files, (*from_dir)[i].files) << (*from_dir)[i].name;
  }
}

// How a case is played to a real device: reset first, a verify session after a session whose
// expect names tree values, in-process-only expectations listed, Alert 1201 read as 1200 when
// package 0 starts a `start: client` session, cases the account cannot run refused with a reason.
TEST(ClientVectors, RemotePlan) {
  auto cases = embedded_client_cases();
  ASSERT_TRUE(cases);
  auto find = [&](const std::string& name) -> const CaseFiles& {
    return *std::find_if(cases->begin(), cases->end(), [&](const CaseFiles& c) { return c.name == name; });
  };
  RemoteOptions o;
  o.package0 = true;
  std::uint16_t sid = 0x1000;
  const auto plan = plan_remote_case(find("atomic_rollback_216_507"), o, sid);
  EXPECT_TRUE(plan.runnable);
  EXPECT_EQ(plan.clause, "DM_RepPro 1.2 §6.6.4");
  ASSERT_EQ(plan.sessions.size(), 3u);
  EXPECT_EQ(plan.sessions[0].label, "reset");
  EXPECT_EQ(plan.sessions[1].label, "session 1");
  EXPECT_EQ(plan.sessions[2].label, "verify after session 1");
  EXPECT_EQ(plan.sessions[1].alert_alias.at(1201), 1200);
  EXPECT_TRUE(plan.sessions[0].alert_alias.empty());  // written for package 0
  for (const auto& s : plan.sessions) {
    EXPECT_EQ(s.start, SessionStart::package0);
    EXPECT_NE(s.notification_session_id, 0);
    for (unsigned v = s.notification_session_id; v; v >>= 4) EXPECT_LE(v & 0xfu, 9u) << "SessionID with a hex letter";
  }
  EXPECT_EQ(plan.not_on_wire, std::vector<std::string>{"state"});
  // The verify session Gets the three tree URIs: 200 "k", 404, 404.
  const auto& verify = plan.generated.at("_verify1.xml");
  EXPECT_NE(verify.find("<LocURI>./Test/Keep</LocURI>"), std::string::npos);
  EXPECT_NE(verify.find("<LocURI>./Test/A</LocURI>"), std::string::npos);

  const auto hmac = plan_remote_case(find("auth_hmac_both_directions"), o, sid);
  EXPECT_FALSE(hmac.runnable);
  EXPECT_NE(hmac.not_run_reason.find("HMAC"), std::string::npos);
  o.auth = "HMAC";
  EXPECT_TRUE(plan_remote_case(find("auth_hmac_both_directions"), o, sid).runnable);

  o = RemoteOptions{};  // no push address: sessions opened by the device, none by package 0
  const auto client = plan_remote_case(find("client_initiated_1201_package1_devinfo"), o, sid);
  EXPECT_TRUE(client.runnable);
  EXPECT_EQ(client.sessions[1].start, SessionStart::client);
  EXPECT_TRUE(client.sessions[1].alert_alias.empty());
  EXPECT_FALSE(plan_remote_case(find("server_initiated_1200_with_notification_session_id"), o, sid).runnable);
}

}  // namespace
}  // namespace m2mdm::conformance
