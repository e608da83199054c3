// The client and server DM session engines against each other, in memory: a whole
// provisioning session (auth both ways, DevInfo, PfC, sealed MCIM in large-object chunks,
// Exec Install, Generic Alert) with a real software TRE, real CMS sealing and a real tree.
#include "m2mdm/client/alert_outbox.hpp"
#include "m2mdm/client/error.hpp"
#include "m2mdm/client/m2msim_agent.hpp"
#include "m2mdm/client/mcim_registry.hpp"
#include "m2mdm/client/session.hpp"
#include "m2mdm/client/software_tre.hpp"
#include "m2mdm/client/transport.hpp"
#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/mo/mcim_profile.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/seal.hpp"
#include "m2mdm/mo/standard_objects.hpp"
#include "m2mdm/mo/trust.hpp"
#include "m2mdm/server/dm_session.hpp"
#include "m2mdm/test/device_fixture.hpp"
#include "m2mdm/test/files.hpp"
#include "m2mdm/test/test_dir.hpp"
#include "m2mdm/test/in_process.hpp"
#include "m2mdm/test/memory_backend.hpp"
#include "m2mdm/test/pki_test.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <map>

namespace m2mdm {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kDevId = "IMEI:490154203237518";
constexpr std::string_view kServerId = "ro-dpf";

using test::slurp;

class DmEnginesTest : public test::PkiTest {
 protected:
  DmEnginesTest() : PkiTest("engines") {}
  void SetUp() override {
    PkiTest::SetUp();
    if (HasFatalFailure()) return;
    auto tre = client::SoftwareTre::open(pki_.at("tre-dir"));
    ASSERT_TRUE(tre) << tre.error().message();
    tre_ = std::move(*tre);
    auto registry = client::McimRegistry::open(*tre_);
    ASSERT_TRUE(registry) << registry.error().message();
    registry_.emplace(std::move(*registry));

    // The device tree: DevInfo, the DM account from the bootstrap, the M2MSIMMobj.
    test::DeviceTreeSpec tree;
    tree.dev_id = std::string(kDevId);
    tree.server_id = std::string(kServerId);
    tree.server_name = "Registration Operator";
    tree.pfc_der = tre_->platform_certificate();
    ASSERT_EQ(test::install_device_tree(tree_, tree), "");

    auto anchors = mo::TrustAnchors::from_pem(slurp(pki_.at("sho-ca")), mo::AnchorKind::test);
    ASSERT_TRUE(anchors) << anchors.error().message();
    agent_.emplace(tree_, *tre_, *registry_, outbox_, std::move(*anchors));
    agent_->attach();

    backend_.creds = test::test_credentials(kServerId, kDevId);
  }

  Bytes seal(std::uint64_t counter) {
    auto pfc = mo::Certificate::from_der(tre_->platform_certificate());
    EXPECT_TRUE(pfc);
    test::SealSpec spec;
    spec.dev_id = std::string(kDevId);
    spec.counter = counter;
    auto sealed = test::seal_example_mcim(pki_, *pfc, spec);
    EXPECT_TRUE(sealed) << sealed.error().message();
    return *sealed;
  }

  // Runs one client-initiated session to its end; returns the number of round trips.
  int run_session(client::SessionConfig cfg = {}, server::DmServerConfig scfg = {}) {
    client::ClientSession session(tree_, outbox_, std::string(kServerId), cfg);
    server::DmServerSession dpf(backend_, scfg);
    const auto x = test::run_client_initiated(session, dpf);
    EXPECT_FALSE(x.error) << *x.error;
    if (x.error) return -1;
    EXPECT_FALSE(x.answered_after_end) << "the client answered a message that ended the session";
    client_state_ = session.state();
    client_report_ = session.report();
    server_report_ = dpf.report();
    return x.trips;
  }

  // Runs a session whose peers are expected to fall out: stops at the first refusal, keeps each
  // side's state and report as run_session does, and expects the client to have aborted.
  void run_until_refused() {
    client::ClientSession session(tree_, outbox_, std::string(kServerId));
    server::DmServerSession dpf(backend_, {});
    ASSERT_TRUE(test::run_client_initiated(session, dpf, 10).started);
    client_state_ = session.state();
    client_report_ = session.report();
    server_report_ = dpf.report();
    EXPECT_EQ(client_state_, client::SessionState::Aborted);
  }

  std::unique_ptr<client::SoftwareTre> tre_;
  std::optional<client::McimRegistry> registry_;
  mo::Tree tree_;
  client::MemoryAlertOutbox outbox_;
  std::optional<client::M2msimAgent> agent_;
  test::MemoryDmBackend backend_;
  client::SessionState client_state_ = client::SessionState::Idle;
  client::SessionReport client_report_;
  server::DmServerReport server_report_;
};

// A Transport whose server answers with @p content_type (the in-process DPF's bytes unchanged).
class RelabellingTransport final : public client::Transport {
 public:
  RelabellingTransport(server::DmBackend& backend, std::string content_type)
      : inner_(backend), content_type_(std::move(content_type)) {}
  Result<client::HttpReply> post(const client::Outgoing& message) override {
    auto reply = inner_.post(message);
    if (reply) reply->content_type = content_type_;
    return reply;
  }

 private:
  test::InProcessTransport inner_;
  std::string content_type_;
};

// run_session takes either DM media type as HTTP lets a server write it (case, parameters), the
// way the codec reads a Content-Type, and refuses any other type.
TEST_F(DmEnginesTest, RunSessionReadsTheMediaTypeLikeTheCodec) {
  for (const char* type : {"application/vnd.syncml.dm+xml; charset=utf-8", "Application/VND.SyncML.DM+XML"}) {
    client::ClientSession session(tree_, outbox_, std::string(kServerId));
    auto first = session.start_client_initiated();
    ASSERT_TRUE(first) << first.error().message();
    RelabellingTransport transport(backend_, type);
    auto report = client::run_session(session, transport, std::move(*first));
    EXPECT_TRUE(report) << type << ": " << (report ? "" : report.error().message());
  }
  client::ClientSession session(tree_, outbox_, std::string(kServerId));
  auto first = session.start_client_initiated();
  ASSERT_TRUE(first);
  RelabellingTransport transport(backend_, "text/html");
  auto report = client::run_session(session, transport, std::move(*first));
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error(), make_error_code(client::errc::bad_content_type));
}

TEST_F(DmEnginesTest, RegistrationSessionReadsDevInfoAndPfc) {
  const int trips = run_session();
  EXPECT_GT(trips, 0);
  EXPECT_EQ(client_state_, client::SessionState::Completed) << client_report_.abort_reason;
  EXPECT_TRUE(client_report_.server_authenticated);
  EXPECT_TRUE(client_report_.client_authenticated);
  EXPECT_TRUE(server_report_.device_authenticated);
  EXPECT_EQ(backend_.devinfo["DevId"], kDevId);
  EXPECT_EQ(backend_.devinfo["Man"], "m2mdm");
  EXPECT_EQ(backend_.pfc, tre_->platform_certificate());
  // Both sides now hold fresh nonces for the next session, and they agree.
  auto creds = client::read_account_credentials(tree_, kServerId);
  ASSERT_TRUE(creds);
  EXPECT_FALSE(creds->client_nonce.empty());
  EXPECT_EQ(creds->client_nonce, backend_.creds.client_nonce);
  EXPECT_EQ(creds->server_nonce, backend_.creds.server_nonce);
  // A second session authenticates with those nonces.
  EXPECT_GT(run_session(), 0);
  EXPECT_EQ(client_state_, client::SessionState::Completed) << client_report_.abort_reason;
}

// A MaxMsgSize that makes the device send its PfC in large-object chunks: the DPF stores the
// certificate once, whole, and the session completes (it used to store each chunk as the PfC,
// the last one winning).
TEST_F(DmEnginesTest, APfcSentInChunksIsStoredWhole) {
  const Bytes pfc = tre_->platform_certificate();
  ASSERT_GT(base64_encode(pfc).size(), 600u) << "the PfC must not fit one message of 1200 bytes";
  server::DmServerConfig small;
  small.max_msg_size = 1200;
  const int chunked_trips = run_session({}, small);
  EXPECT_EQ(client_state_, client::SessionState::Completed) << client_report_.abort_reason;
  EXPECT_GE(chunked_trips, 3) << "the PfC did not come in chunks";
  EXPECT_EQ(backend_.pfc, pfc);
}

TEST_F(DmEnginesTest, DeliversSealedMcimInChunksAndReportsInstall) {
  backend_.add_job(7, "job-7-abc", seal(1));
  client::SessionConfig small;
  small.max_msg_size = 2048;  // forces the ~2 KB package into several chunks
  const int trips = run_session(small);
  EXPECT_GT(trips, 3);
  EXPECT_EQ(client_state_, client::SessionState::Completed) << client_report_.abort_reason;
  EXPECT_TRUE(backend_.failures.empty()) << backend_.failures.front().second;
  EXPECT_EQ(backend_.states[7], server::JobState::awaiting_result);
  ASSERT_EQ(backend_.alerts.size(), 1u);
  EXPECT_EQ(backend_.alerts[0].correlator, "job-7-abc");
  EXPECT_EQ(backend_.alerts[0].type, mo::kAlertInstall);
  auto parsed = mo::parse_m2msim_alert_data(backend_.alerts[0].data);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->first, 1200) << parsed->second;
  auto active = registry_->active();
  ASSERT_TRUE(active);
  EXPECT_EQ(active->imsi, "001010000000001");
  EXPECT_TRUE(outbox_.all().empty()) << "the acknowledged alert must leave the outbox";
  auto entries = mo::list_mcim_entries(tree_);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].state, mo::McimState::Active);
}

TEST_F(DmEnginesTest, TamperedPackageIsReportedNotInstalled) {
  auto& job = backend_.add_job(8, "job-8", seal(1));
  job.payload[job.payload.size() / 2] ^= 0x01;
  run_session();
  EXPECT_EQ(client_state_, client::SessionState::Completed) << client_report_.abort_reason;
  ASSERT_EQ(backend_.alerts.size(), 1u);
  auto parsed = mo::parse_m2msim_alert_data(backend_.alerts[0].data);
  ASSERT_TRUE(parsed);
  EXPECT_NE(parsed->first, 1200);
  EXPECT_FALSE(registry_->active());
}

TEST_F(DmEnginesTest, UnacknowledgedAlertIsResentInTheNextSession) {
  backend_.add_job(9, "job-9", seal(1));
  backend_.refuse_alerts = true;  // the RO cannot record it now: answers 500
  run_session();
  EXPECT_EQ(outbox_.all().size(), 1u);
  backend_.refuse_alerts = false;
  run_session();
  EXPECT_EQ(client_state_, client::SessionState::Completed) << client_report_.abort_reason;
  ASSERT_EQ(backend_.alerts.size(), 1u);
  EXPECT_EQ(backend_.alerts[0].correlator, "job-9");
  EXPECT_TRUE(outbox_.all().empty());
}

TEST_F(DmEnginesTest, WrongDevicePasswordNeverRunsCommands) {
  backend_.creds.client_password = "not-the-secret";
  backend_.add_job(10, "job-10", seal(1));
  ASSERT_NO_FATAL_FAILURE(run_until_refused());
  EXPECT_FALSE(server_report_.device_authenticated);
  EXPECT_TRUE(backend_.states.empty()) << "no job may be claimed for an unauthenticated device";
  EXPECT_FALSE(registry_->active());
}

TEST_F(DmEnginesTest, ServerWithWrongSecretIsRefusedByTheDevice) {
  backend_.creds.server_password = "impostor";
  backend_.add_job(11, "job-11", seal(1));
  ASSERT_NO_FATAL_FAILURE(run_until_refused());
  EXPECT_FALSE(client_report_.server_authenticated);
  EXPECT_FALSE(registry_->active()) << "an impostor server must not install anything";
  EXPECT_TRUE(mo::list_mcim_entries(tree_).empty());
}

// A device whose nonces are not the ones the server stored (its state was restored from an older
// copy, or it was replaced with the same secrets) is challenged and challenges back, each side
// once, and the session completes with fresh nonces (DM_Security 1.2 §5.3). Found by the kill
// campaign: the load generator's fresh virtual devices could never authenticate again.
TEST_F(DmEnginesTest, StaleNoncesOnBothSidesAreChallengedAndTheSessionCompletes) {
  const std::string stale_c = "stale-client-nonce", stale_s = "stale-server-nonce";
  backend_.creds.client_nonce.assign(stale_c.begin(), stale_c.end());
  backend_.creds.server_nonce.assign(stale_s.begin(), stale_s.end());
  backend_.add_job(13, "job-13", seal(1));
  EXPECT_GT(run_session(), 0);
  EXPECT_EQ(client_state_, client::SessionState::Completed) << client_report_.abort_reason;
  EXPECT_TRUE(client_report_.server_authenticated);
  EXPECT_TRUE(client_report_.client_authenticated);
  EXPECT_TRUE(server_report_.device_authenticated);
  ASSERT_TRUE(registry_->active()) << "the job ran after both sides proved themselves";
  // The next session starts in step: no challenge needed either way.
  EXPECT_GT(run_session(), 0);
  EXPECT_EQ(client_state_, client::SessionState::Completed) << client_report_.abort_reason;
}

// Over HTTP each message of a session reaches the server's session by its RespURI. A device that
// answers a server not yet proven (here: stale nonces, so the server's first credential fails)
// follows a RespURI on the origin it already talks to — else its answer to the server's challenge
// would open a new session at the server that never saw it — but never one elsewhere.
TEST_F(DmEnginesTest, ARespUriOfAnUnprovenServerIsFollowedOnlyWithinTheSameOrigin) {
  const std::string stale_c = "stale-client-nonce", stale_s = "stale-server-nonce";
  for (const auto& [resp_uri, followed] : {std::pair{std::string("http://127.0.0.1/dm?s=abc"), true},
                                           std::pair{std::string("http://127.0.0.1:8443/dm?s=abc"), false},
                                           std::pair{std::string("https://127.0.0.1/dm?s=abc"), false},
                                           std::pair{std::string("http://evil.example/dm?s=abc"), false}}) {
    backend_.creds.client_nonce.assign(stale_c.begin(), stale_c.end());
    backend_.creds.server_nonce.assign(stale_s.begin(), stale_s.end());
    client::ClientSession session(tree_, outbox_, std::string(kServerId));
    server::DmServerConfig scfg;
    scfg.resp_uri = resp_uri;
    server::DmServerSession dpf(backend_, scfg);
    auto first = session.start_client_initiated();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->uri, "http://127.0.0.1/dm");
    auto reply = dpf.handle(first->body, first->content_type, first->hmac_header);
    ASSERT_TRUE(reply);
    std::optional<std::string_view> hmac;
    if (reply->hmac_header) hmac = *reply->hmac_header;
    auto second = session.on_response(reply->body, reply->content_type, hmac);
    ASSERT_TRUE(second) << session.report().abort_reason;
    ASSERT_TRUE(*second);
    EXPECT_FALSE(session.report().server_authenticated);
    EXPECT_EQ((*second)->uri, followed ? resp_uri : std::string("http://127.0.0.1/dm")) << resp_uri;
  }
}

TEST_F(DmEnginesTest, WbxmlSessionWorksToo) {
  backend_.add_job(12, "job-12", seal(1));
  client::SessionConfig cfg;
  cfg.encoding = syncml::Encoding::Wbxml;
  run_session(cfg);
  EXPECT_EQ(client_state_, client::SessionState::Completed) << client_report_.abort_reason;
  ASSERT_EQ(backend_.alerts.size(), 1u);
  EXPECT_TRUE(registry_->active());
}

// Hardening finding 3: a job whose MCIM name is not one node name (a path, NUL, 0xFF) made an
// Exec the server could not encode, and every session of the device failed until the job's TTL
// ended. Such a job now fails alone (400) and the jobs behind it are delivered in the same session.
TEST_F(DmEnginesTest, AJobWithAnInvalidMcimNameFailsAloneAndLaterJobsGoOn) {
  const std::string bad_names[] = {"../../DMAcc/x", std::string("m\0\xff", 3), ""};
  std::int64_t id = 30;
  for (const auto& name : bad_names) {
    const std::int64_t job_id = id++;
    backend_.add_job(job_id, "job-" + std::to_string(job_id), Bytes(name.begin(), name.end())).kind =
        server::JobKind::activate;
  }
  backend_.add_job(40, "job-40", seal(1));
  run_session();
  EXPECT_EQ(client_state_, client::SessionState::Completed) << client_report_.abort_reason;
  ASSERT_EQ(backend_.failures.size(), 3u);
  for (const auto& [code, why] : backend_.failures) EXPECT_EQ(code, 400) << why;
  for (std::int64_t j = 30; j < 33; ++j) EXPECT_EQ(backend_.states[j], server::JobState::failed);
  EXPECT_EQ(backend_.states[40], server::JobState::awaiting_result);
  ASSERT_EQ(backend_.alerts.size(), 1u);
  EXPECT_EQ(backend_.alerts[0].correlator, "job-40");
  EXPECT_TRUE(registry_->active());
}

// Hardening (generic): whatever makes a job's or a management command's SyncML unencodable
// (here a C0 control character XML 1.0 cannot carry, in a Correlator and in a Replace's data)
// fails that one alone with its reason; the session and what comes after it go on.
TEST_F(DmEnginesTest, AJobOrCommandThatCannotBeEncodedFailsAloneAndTheSessionGoesOn) {
  backend_.add_job(50, std::string("job-\x01", 5), {}).kind = server::JobKind::reset;
  backend_.add_job(51, "job-51", seal(1));
  server::MgmtCommand unencodable;
  unencodable.id = 1;
  server::MgmtOp rep;
  rep.verb = server::MgmtVerb::replace;
  rep.target = "./DevInfo/Mod";
  rep.data = std::string("a\x01b", 3);
  rep.format = "chr";
  unencodable.ops = {rep};
  server::MgmtCommand get;
  get.id = 2;
  server::MgmtOp op;
  op.target = "./DevInfo/Mod";
  get.ops = {op};
  backend_.commands = {unencodable, get};

  EXPECT_GT(run_session(), 0);
  EXPECT_EQ(client_state_, client::SessionState::Completed) << client_report_.abort_reason;
  ASSERT_EQ(backend_.failures.size(), 1u);
  EXPECT_EQ(backend_.failures[0].first, 400);
  EXPECT_NE(backend_.failures[0].second.find("cannot be encoded"), std::string::npos) << backend_.failures[0].second;
  EXPECT_EQ(backend_.states[50], server::JobState::failed);
  EXPECT_EQ(backend_.states[51], server::JobState::awaiting_result);
  EXPECT_TRUE(registry_->active());
  ASSERT_EQ(backend_.finished.size(), 2u);
  EXPECT_EQ(backend_.finished[0].state, server::MgmtState::failed);
  EXPECT_NE(backend_.finished[0].error.find("cannot be encoded"), std::string::npos) << backend_.finished[0].error;
  EXPECT_EQ(backend_.finished[1].state, server::MgmtState::completed) << backend_.finished[1].error;
  ASSERT_EQ(backend_.finished[1].results.size(), 1u);
  EXPECT_NE(tree_.get_text("./DevInfo/Mod").value_or(""), "a\x01b");
}

// ---- generic management commands (docs/server.md "Management commands") ----------------------

server::MgmtOp mgmt_op(server::MgmtVerb verb, std::string target, std::optional<std::string> data = std::nullopt) {
  server::MgmtOp op;
  op.verb = verb;
  op.target = std::move(target);
  op.data = std::move(data);
  if (op.data) op.format = "chr";
  return op;
}

const server::MgmtStatus* status_of(const server::MgmtCommand& c, int index) {
  for (const auto& s : c.statuses)
    if (s.index == index) return &s;
  return nullptr;
}

TEST_F(DmEnginesTest, ManagementCommandsRunOnTheRealTreeAndTheDeviceAclDecides) {
  const auto acc = mo::find_dm_account(tree_, kServerId);
  ASSERT_TRUE(acc);
  const std::string name_uri = "./DMAcc/" + acc->node_name + "/Name";
  server::MgmtCommand get;
  get.id = 1;
  get.ops = {mgmt_op(server::MgmtVerb::get, "./DevInfo/Mod")};
  server::MgmtCommand seq;  // Sequence: Replace the server's own DMAcc Name, then read it back
  seq.id = 2;
  seq.wrap = server::MgmtWrap::sequence;
  seq.ops = {mgmt_op(server::MgmtVerb::replace, name_uri, "renamed"), mgmt_op(server::MgmtVerb::get, name_uri)};
  server::MgmtCommand refused;  // ./DevInfo is Get-only: the device refuses, the server reports
  refused.id = 3;
  refused.ops = {mgmt_op(server::MgmtVerb::replace, "./DevInfo/Mod", "x")};
  backend_.commands = {get, seq, refused};
  EXPECT_GT(run_session(), 0);
  EXPECT_EQ(client_state_, client::SessionState::Completed) << client_report_.abort_reason;
  EXPECT_EQ(server_report_.commands_completed, 3u);
  ASSERT_EQ(backend_.finished.size(), 3u);

  const auto& g = backend_.finished[0];
  EXPECT_EQ(g.state, server::MgmtState::completed) << g.error;
  ASSERT_NE(status_of(g, 0), nullptr);
  EXPECT_EQ(status_of(g, 0)->code, 200);
  ASSERT_EQ(g.results.size(), 1u);
  EXPECT_EQ(g.results[0].data, tree_.get_text("./DevInfo/Mod").value_or("?"));
  EXPECT_EQ(g.results[0].index, 0);

  const auto& q = backend_.finished[1];
  EXPECT_EQ(q.state, server::MgmtState::completed) << q.error;
  ASSERT_NE(status_of(q, -1), nullptr);
  EXPECT_EQ(status_of(q, -1)->cmd, "Sequence");
  ASSERT_NE(status_of(q, 0), nullptr);
  EXPECT_EQ(status_of(q, 0)->code, 200);
  ASSERT_EQ(q.results.size(), 1u);
  EXPECT_EQ(q.results[0].data, "renamed");
  EXPECT_EQ(tree_.get_text(name_uri).value_or(""), "renamed");

  const auto& r = backend_.finished[2];
  EXPECT_EQ(r.state, server::MgmtState::completed) << r.error;
  ASSERT_NE(status_of(r, 0), nullptr);
  EXPECT_GE(status_of(r, 0)->code, 400) << "a Get-only node was replaced";
  EXPECT_NE(tree_.get_text("./DevInfo/Mod").value_or(""), "x");
}

// The device's Results for a Get larger than the server's MaxMsgSize come in chunks, the first
// possibly in a later message than the Get's Status (DM_RepPro 1.2 §6.6.12, §7): the command is
// complete only when the whole object is in.
TEST_F(DmEnginesTest, LargeResultsFromTheDeviceAreReassembled) {
  server::MgmtCommand get;
  get.id = 1;
  get.ops = {mgmt_op(server::MgmtVerb::get, mo::m2msim_uri("PfC"))};
  backend_.pfc = Bytes{1};  // known: the session does not Get it for itself
  // The same Get with room for the whole object, then with a MaxMsgSize that makes the device
  // send its Results in chunks (each answered 213 + Alert 1222): more round trips, one object.
  backend_.commands = {get};
  const int whole_trips = run_session();
  ASSERT_EQ(backend_.finished.size(), 1u);
  ASSERT_EQ(backend_.finished[0].results.size(), 1u);
  const std::string whole = backend_.finished[0].results[0].data;
  backend_.finished.clear();
  get.id = 2;
  backend_.commands = {get};
  server::DmServerConfig small;
  small.max_msg_size = 1200;
  const int chunked_trips = run_session({}, small);
  EXPECT_EQ(client_state_, client::SessionState::Completed) << client_report_.abort_reason;
  EXPECT_GE(chunked_trips, whole_trips + 2) << "the Results did not come in chunks";
  ASSERT_EQ(backend_.finished.size(), 1u);
  const auto& g = backend_.finished[0];
  EXPECT_EQ(g.state, server::MgmtState::completed) << g.error;
  ASSERT_EQ(g.results.size(), 1u) << "statuses: " << g.statuses.size();
  EXPECT_EQ(g.results[0].data, whole);
  const Bytes pfc = tre_->platform_certificate();
  ASSERT_GT(base64_encode(pfc).size(), 600u) << "the object must not fit one message of 1200 bytes";
  if (g.results[0].format == "b64") {
    auto der = base64_decode(g.results[0].data);
    ASSERT_TRUE(der);
    EXPECT_EQ(*der, pfc);
  } else {
    EXPECT_EQ(Bytes(g.results[0].data.begin(), g.results[0].data.end()), pfc);
  }
}

// A server MaxMsgSize that leaves no room for any chunk beside the Statuses each message must
// carry: the device used to answer Alert 1222 with Statuses only, for ever (until its message
// limit); it now ends the session at once with the reason, and the command fails.
TEST_F(DmEnginesTest, AMaxMsgSizeWithNoRoomForAChunkEndsTheSessionWithTheReason) {
  server::MgmtCommand get;
  get.id = 1;
  get.ops = {mgmt_op(server::MgmtVerb::get, mo::m2msim_uri("PfC"))};
  backend_.pfc = Bytes{1};
  backend_.commands = {get};
  server::DmServerConfig tiny;
  tiny.max_msg_size = 900;
  client::ClientSession session(tree_, outbox_, std::string(kServerId), {});
  {
    server::DmServerSession dpf(backend_, tiny);
    const auto x = test::run_client_initiated(session, dpf);
    ASSERT_TRUE(x.error);
    EXPECT_LT(x.trips, 10) << "the device went on asking for the next message";
  }
  EXPECT_EQ(session.state(), client::SessionState::Aborted);
  EXPECT_NE(session.report().abort_reason.find("MaxMsgSize (900 bytes) leaves no room"), std::string::npos)
      << session.report().abort_reason;
  ASSERT_EQ(backend_.finished.size(), 1u);
  EXPECT_EQ(backend_.finished[0].state, server::MgmtState::failed);
}

TEST_F(DmEnginesTest, AManagementCommandOfASessionThatDiesIsFailed) {
  server::MgmtCommand get;
  get.id = 1;
  get.ops = {mgmt_op(server::MgmtVerb::get, "./DevInfo/Mod")};
  backend_.commands = {get};
  // Sessions cut short after 1, 2, ... device messages: the first one whose last server message
  // carried the Get ends with the device gone before it answered.
  for (int trips = 1; trips <= 4 && !backend_.commands.empty(); ++trips) {
    server::DmServerSession dpf(backend_, {});
    client::ClientSession session(tree_, outbox_, std::string(kServerId), {});
    ASSERT_TRUE(test::run_client_initiated(session, dpf, trips).started);
  }
  ASSERT_TRUE(backend_.commands.empty()) << "no session took the command";
  ASSERT_EQ(backend_.finished.size(), 1u);
  EXPECT_EQ(backend_.finished[0].state, server::MgmtState::failed);
}

}  // namespace
}  // namespace m2mdm
