// The client and server DM session engines against each other, in memory: a whole
// provisioning session (auth both ways, DevInfo, PfC, sealed MCIM in large-object chunks,
// Exec Install, Generic Alert) with a real software TRE, real CMS sealing and a real tree.
#include "m2mdm/client/alert_outbox.hpp"
#include "m2mdm/client/m2msim_agent.hpp"
#include "m2mdm/client/mcim_registry.hpp"
#include "m2mdm/client/session.hpp"
#include "m2mdm/client/software_tre.hpp"
#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/mo/mcim_profile.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/seal.hpp"
#include "m2mdm/mo/standard_objects.hpp"
#include "m2mdm/mo/trust.hpp"
#include "m2mdm/server/dm_session.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace m2mdm {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kDevId = "IMEI:490154203237518";
constexpr std::string_view kServerId = "ro-dpf";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The DPF side, in memory.
class FakeBackend final : public server::DmBackend {
 public:
  server::DmCredentials creds;
  std::map<std::string, std::string> devinfo;
  Bytes pfc;
  std::vector<server::Job> jobs;
  std::map<std::int64_t, server::JobState> states;
  std::vector<server::DeviceAlert> alerts;
  std::vector<std::pair<int, std::string>> failures;
  bool refuse_alerts = false;

  Result<server::DmCredentials> credentials(std::string_view dev_id) override {
    if (dev_id != kDevId) return fail(std::make_error_code(std::errc::no_such_device));
    return creds;
  }
  void save_nonces(std::string_view, ByteView server_nonce, ByteView client_nonce) override {
    creds.server_nonce.assign(server_nonce.begin(), server_nonce.end());
    creds.client_nonce.assign(client_nonce.begin(), client_nonce.end());
  }
  void on_device_info(std::string_view, const std::map<std::string, std::string>& info) override { devinfo = info; }
  bool wants_pfc(std::string_view) override { return pfc.empty(); }
  void on_pfc(std::string_view, ByteView der) override { pfc.assign(der.begin(), der.end()); }
  std::optional<server::Job> next_job(std::string_view) override {
    for (auto& j : jobs)
      if (!states.contains(j.id)) {
        states[j.id] = server::JobState::delivering;
        return j;
      }
    return std::nullopt;
  }
  void on_job_state(const server::Job& job, server::JobState to) override { states[job.id] = to; }
  void on_job_failed(const server::Job& job, int code, std::string_view message) override {
    states[job.id] = server::JobState::failed;
    failures.emplace_back(code, std::string(message));
  }
  bool on_generic_alert(std::string_view, const server::DeviceAlert& alert) override {
    if (refuse_alerts) return false;
    alerts.push_back(alert);
    return true;
  }
};

class DmEnginesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("m2mdm-engines-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto pki = mo::init_test_pki(dir_ / "pki");
    ASSERT_TRUE(pki) << pki.error().message();
    for (const auto& f : *pki) pki_[f.name] = f.path;
    auto device = mo::issue_test_device(dir_ / "pki", kDevId);
    ASSERT_TRUE(device) << device.error().message();
    for (const auto& f : *device) pki_[f.name] = f.path;

    auto tre = client::SoftwareTre::open(pki_.at("tre-dir"));
    ASSERT_TRUE(tre) << tre.error().message();
    tre_ = std::move(*tre);
    auto registry = client::McimRegistry::open(*tre_);
    ASSERT_TRUE(registry) << registry.error().message();
    registry_.emplace(std::move(*registry));

    // The device tree: DevInfo, the DM account from the bootstrap, the M2MSIMMobj.
    mo::DevInfo info;
    info.dev_id = std::string(kDevId);
    info.man = "m2mdm";
    info.mod = "sim-1";
    ASSERT_TRUE(syncml::is_success(mo::install_devinfo(tree_, info)));
    ASSERT_TRUE(syncml::is_success(mo::install_dmacc(tree_)));
    mo::DmAccountView acc;
    acc.node_name = "RO";
    acc.server_id = std::string(kServerId);
    acc.name = "Registration Operator";
    acc.app_addr.push_back(mo::DmAppAddr{"1", "http://127.0.0.1/dm", "URI", {}});
    acc.aauth_pref = "DIGEST";
    acc.app_auth.push_back(mo::DmAppAuth{"CLCRED", "CLCRED", "DIGEST", std::string(kDevId), "client-secret", {}});
    acc.app_auth.push_back(mo::DmAppAuth{"SRVCRED", "SRVCRED", "DIGEST", std::string(kServerId), "server-secret", {}});
    ASSERT_TRUE(syncml::is_success(mo::write_dm_account(tree_, acc)));
    mo::M2msimConfig m2msim;
    m2msim.pfc_der = tre_->platform_certificate();
    m2msim.dev_id = std::string(kDevId);
    m2msim.servers = {std::string(kServerId)};
    ASSERT_TRUE(syncml::is_success(mo::install_m2msim_object(tree_, m2msim)));

    auto anchors = mo::TrustAnchors::from_pem(slurp(pki_.at("sho-ca")), mo::AnchorKind::test);
    ASSERT_TRUE(anchors) << anchors.error().message();
    agent_.emplace(tree_, *tre_, *registry_, outbox_, std::move(*anchors));
    agent_->attach();

    backend_.creds.server_id = std::string(kServerId);
    backend_.creds.server_username = std::string(kServerId);
    backend_.creds.server_password = "server-secret";
    backend_.creds.client_username = std::string(kDevId);
    backend_.creds.client_password = "client-secret";
  }
  void TearDown() override { fs::remove_all(dir_); }

  Bytes seal(std::uint64_t counter) {
    auto profile = mo::parse_profile(as_bytes(slurp(fs::path(M2MDM_SOURCE_DIR) / "docs/examples/mcim-profile.json")));
    EXPECT_TRUE(profile) << profile.error().message();
    mo::McimBinding b;
    b.device_id = std::string(kDevId);
    b.transaction_id = "tx-" + std::to_string(counter);
    b.issued = now_s() - 10;
    b.expires = now_s() + 3600;
    b.counter = counter;
    profile->binding = b;
    auto signer = mo::Certificate::from_pem(slurp(pki_.at("sho-cert")));
    auto key = mo::PrivateKey::from_pem(slurp(pki_.at("sho-key")));
    auto pfc = mo::Certificate::from_der(tre_->platform_certificate());
    EXPECT_TRUE(signer && key && pfc);
    auto sealed = mo::seal_profile(*profile, *signer, *key, *pfc);
    EXPECT_TRUE(sealed) << sealed.error().message();
    return *sealed;
  }

  // Runs one client-initiated session to its end; returns the number of round trips.
  int run_session(client::SessionConfig cfg = {}, server::DmServerConfig scfg = {}) {
    client::ClientSession session(tree_, outbox_, std::string(kServerId), cfg);
    server::DmServerSession dpf(backend_, scfg);
    auto out = session.start_client_initiated();
    EXPECT_TRUE(out) << out.error().message();
    if (!out) return -1;
    int trips = 0;
    std::optional<client::Outgoing> next = std::move(*out);
    while (next && trips < 100) {
      ++trips;
      if (std::getenv("M2MDM_TRACE")) std::fprintf(stderr, "C>S %s\n", std::string(as_chars(next->body)).c_str());
      auto reply = dpf.handle(next->body, next->content_type, next->hmac_header);
      EXPECT_TRUE(reply) << reply.error().message() << " / " << dpf.report().abort_reason;
      if (!reply) return -1;
      if (std::getenv("M2MDM_TRACE")) std::fprintf(stderr, "S>C %s\n", std::string(as_chars(reply->body)).c_str());
      auto resp = session.on_response(reply->body, reply->content_type, reply->hmac_header);
      EXPECT_TRUE(resp) << resp.error().message() << " / " << session.report().abort_reason;
      if (!resp) return -1;
      next = std::move(*resp);
      if (reply->session_over) {
        EXPECT_FALSE(next) << "the client answered a message that ended the session";
        break;
      }
    }
    client_state_ = session.state();
    client_report_ = session.report();
    server_report_ = dpf.report();
    return trips;
  }

  // Runs a session whose peers are expected to fall out: stops at the first refusal.
  static void exchange_until_refused(client::ClientSession& session, server::DmServerSession& dpf) {
    auto out = session.start_client_initiated();
    ASSERT_TRUE(out);
    std::optional<client::Outgoing> next = std::move(*out);
    for (int i = 0; i < 10 && next; ++i) {
      auto reply = dpf.handle(next->body, next->content_type, next->hmac_header);
      if (!reply) break;
      auto resp = session.on_response(reply->body, reply->content_type, reply->hmac_header);
      if (!resp) break;
      next = std::move(*resp);
    }
  }

  fs::path dir_;
  std::map<std::string, fs::path> pki_;
  std::unique_ptr<client::SoftwareTre> tre_;
  std::optional<client::McimRegistry> registry_;
  mo::Tree tree_;
  client::MemoryAlertOutbox outbox_;
  std::optional<client::M2msimAgent> agent_;
  FakeBackend backend_;
  client::SessionState client_state_ = client::SessionState::Idle;
  client::SessionReport client_report_;
  server::DmServerReport server_report_;
};

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

TEST_F(DmEnginesTest, DeliversSealedMcimInChunksAndReportsInstall) {
  server::Job job;
  job.id = 7;
  job.dev_id = std::string(kDevId);
  job.correlator = "job-7-abc";
  job.payload = seal(1);
  backend_.jobs.push_back(job);
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
  server::Job job;
  job.id = 8;
  job.dev_id = std::string(kDevId);
  job.correlator = "job-8";
  job.payload = seal(1);
  job.payload[job.payload.size() / 2] ^= 0x01;
  backend_.jobs.push_back(job);
  run_session();
  EXPECT_EQ(client_state_, client::SessionState::Completed) << client_report_.abort_reason;
  ASSERT_EQ(backend_.alerts.size(), 1u);
  auto parsed = mo::parse_m2msim_alert_data(backend_.alerts[0].data);
  ASSERT_TRUE(parsed);
  EXPECT_NE(parsed->first, 1200);
  EXPECT_FALSE(registry_->active());
}

TEST_F(DmEnginesTest, UnacknowledgedAlertIsResentInTheNextSession) {
  server::Job job;
  job.id = 9;
  job.dev_id = std::string(kDevId);
  job.correlator = "job-9";
  job.payload = seal(1);
  backend_.jobs.push_back(job);
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
  server::Job job;
  job.id = 10;
  job.dev_id = std::string(kDevId);
  job.correlator = "job-10";
  job.payload = seal(1);
  backend_.jobs.push_back(job);
  client::ClientSession session(tree_, outbox_, std::string(kServerId));
  server::DmServerSession dpf(backend_, {});
  exchange_until_refused(session, dpf);
  EXPECT_EQ(session.state(), client::SessionState::Aborted);
  EXPECT_FALSE(dpf.report().device_authenticated);
  EXPECT_TRUE(backend_.states.empty()) << "no job may be claimed for an unauthenticated device";
  EXPECT_FALSE(registry_->active());
}

TEST_F(DmEnginesTest, ServerWithWrongSecretIsRefusedByTheDevice) {
  backend_.creds.server_password = "impostor";
  server::Job job;
  job.id = 11;
  job.dev_id = std::string(kDevId);
  job.correlator = "job-11";
  job.payload = seal(1);
  backend_.jobs.push_back(job);
  client::ClientSession session(tree_, outbox_, std::string(kServerId));
  server::DmServerSession dpf(backend_, {});
  exchange_until_refused(session, dpf);
  EXPECT_EQ(session.state(), client::SessionState::Aborted);
  EXPECT_FALSE(session.report().server_authenticated);
  EXPECT_FALSE(registry_->active()) << "an impostor server must not install anything";
  EXPECT_TRUE(mo::list_mcim_entries(tree_).empty());
}

TEST_F(DmEnginesTest, WbxmlSessionWorksToo) {
  server::Job job;
  job.id = 12;
  job.dev_id = std::string(kDevId);
  job.correlator = "job-12";
  job.payload = seal(1);
  backend_.jobs.push_back(job);
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
    server::Job job;
    job.id = id++;
    job.kind = server::JobKind::activate;
    job.dev_id = std::string(kDevId);
    job.correlator = "job-" + std::to_string(job.id);
    job.payload = Bytes(name.begin(), name.end());
    backend_.jobs.push_back(job);
  }
  server::Job good;
  good.id = 40;
  good.dev_id = std::string(kDevId);
  good.correlator = "job-40";
  good.payload = seal(1);
  backend_.jobs.push_back(good);
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

}  // namespace
}  // namespace m2mdm
