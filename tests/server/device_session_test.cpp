// The whole client::Device (state directory, software TRE, registry, outbox, tree store) against
// the real DPF session engine (server::DmServerSession) in-process: bootstrap push -> client-
// initiated and server-initiated (package 0) sessions -> sealed MCIM delivered and installed ->
// Generic Alert acknowledged -> restart from the state directory. Then power loss at every TRE
// write step of a second install (old or new MCIM usable after restart, never neither).
// (In tests/server because only this suite links both m2mdm::client and m2mdm::server.)
#include "m2mdm/bootstrap/builder.hpp"
#include "m2mdm/bootstrap/security.hpp"
#include "m2mdm/bootstrap/wsp.hpp"
#include "m2mdm/client/device.hpp"
#include "m2mdm/client/error.hpp"
#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/mo/mcim_profile.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/seal.hpp"
#include "m2mdm/server/dm_session.hpp"
#include "m2mdm/syncml/notification.hpp"
#include "m2mdm/test/device_fixture.hpp"
#include "m2mdm/test/files.hpp"
#include "m2mdm/test/in_process_device.hpp"
#include "m2mdm/test/test_dir.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <ctime>
#include <map>

namespace m2mdm {
namespace {

namespace fs = std::filesystem;
namespace bs = m2mdm::bootstrap;

constexpr std::string_view kDevId = test::kTestDevId;
constexpr std::string_view kServerId = test::kTestServerId;

using test::slurp;

class DeviceSessionTest : public test::InProcessDeviceTest {
 protected:
  DeviceSessionTest() : InProcessDeviceTest("devsess") {}

  client::DeviceOptions options() {
    client::DeviceOptions o = in_process_options();
    o.session.max_msg_size = 4096;  // the ~2 KB package arrives in chunks
    o.transport = [this](const client::TransportParams& p) -> Result<std::unique_ptr<client::Transport>> {
      params_seen_.push_back(p);
      auto t = std::make_unique<test::InProcessTransport>(backend_);
      t->set_link_lost(&link_lost_);
      return std::unique_ptr<client::Transport>(std::move(t));
    };
    return o;
  }

  std::unique_ptr<client::Device> open() {
    auto d = client::Device::open(options());
    EXPECT_TRUE(d) << (d ? "" : d.error().message());
    return d ? std::move(*d) : nullptr;
  }

  Bytes seal(std::uint64_t counter, std::string_view iccid = {}, std::string_view imsi = {}) {
    auto pfc = mo::Certificate::from_pem(slurp(pki_.at("pfc")));
    EXPECT_TRUE(pfc);
    test::SealSpec spec;
    spec.dev_id = std::string(kDevId);
    spec.counter = counter;
    spec.iccid = std::string(iccid);
    spec.imsi = std::string(imsi);
    auto sealed = test::seal_example_mcim(pki_, *pfc, spec);
    EXPECT_TRUE(sealed) << sealed.error().message();
    return *sealed;
  }

  void add_job(std::int64_t id, std::uint64_t counter, std::string_view iccid = {}, std::string_view imsi = {}) {
    backend_.add_job(id, "job-" + std::to_string(id), seal(counter, iccid, imsi));
  }

  std::vector<client::TransportParams> params_seen_;
  bool link_lost_ = false;
};

TEST_F(DeviceSessionTest, BootstrapThenSessionsInstallTheMcimAndSurviveRestart) {
  {
    auto device = open();
    ASSERT_TRUE(device->apply_bootstrap_push(bootstrap_push()));
    // Registration session: DevInfo and the PfC.
    auto first = device->run_client_session();
    ASSERT_TRUE(first) << first.error().message();
    EXPECT_TRUE(first->server_authenticated);
    EXPECT_TRUE(first->client_authenticated);
    EXPECT_FALSE(backend_.pfc.empty());
    ASSERT_EQ(params_seen_.size(), 1u);
    ASSERT_TRUE(params_seen_[0].spki_sha256) << "the bootstrap pin must reach the transport";
    EXPECT_EQ(*params_seen_[0].spki_sha256, Bytes(32, 0x5A));
    EXPECT_EQ(params_seen_[0].server_uri, "https://127.0.0.1/dm");
  }
  // Restart: the nonces agreed in the first session were persisted with the tree.
  add_job(7, 1);
  auto device = open();
  ASSERT_TRUE(device);
  const Bytes server_nonce = backend_.creds.server_nonce;
  syncml::Notification n;
  n.server_id = std::string(kServerId);
  n.session_id = 0x0042;
  auto pkg0 = syncml::encode_notification(n, "server-secret", server_nonce);
  ASSERT_TRUE(pkg0);
  auto second = device->handle_notification(*pkg0);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(backend_.states[7], server::JobState::awaiting_result);
  ASSERT_EQ(backend_.alerts.size(), 1u);
  EXPECT_EQ(backend_.alerts[0].correlator, "job-7");
  auto parsed = mo::parse_m2msim_alert_data(backend_.alerts[0].data);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->first, 1200) << parsed->second;
  ASSERT_TRUE(device->registry().active());
  EXPECT_EQ(device->registry().active()->imsi, "001010000000001");
  EXPECT_TRUE(device->pending_alerts(kServerId).empty());
  device.reset();
  // After a restart the MCIM is still there and the tree shows it.
  device = open();
  ASSERT_TRUE(device->registry().active());
  auto entries = mo::list_mcim_entries(device->tree());
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].state, mo::McimState::Active);
  // A third session with nothing to do completes with the persisted nonces.
  auto third = device->run_client_session();
  ASSERT_TRUE(third) << third.error().message();
}

TEST_F(DeviceSessionTest, AReBootstrapTheDeviceNeverGotDoesNotCutItOff) {
  auto device = open();
  ASSERT_TRUE(device->apply_bootstrap_push(bootstrap_push()));
  ASSERT_TRUE(device->run_client_session());
  // The RO issued a re-bootstrap (new credentials pending) that never reached the device: the
  // device still holds, and authenticates with, its current credentials.
  server::DmCredentials next = backend_.creds;
  next.client_password = "re-bootstrapped-client-secret";
  next.server_password = "re-bootstrapped-server-secret";
  backend_.pending = next;
  auto again = device->run_client_session();
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_TRUE(again->client_authenticated);
  EXPECT_TRUE(again->server_authenticated);
  EXPECT_EQ(backend_.pending_used, 0);
  EXPECT_TRUE(backend_.pending.has_value()) << "the pending credentials wait until the device uses them";
  EXPECT_EQ(backend_.creds.client_password, "client-secret");
}

TEST_F(DeviceSessionTest, TheRoArmsAReBootstrapWithAJob) {
  auto device = open();
  ASSERT_TRUE(device->apply_bootstrap_push(bootstrap_push()));
  ASSERT_TRUE(device->run_client_session());
  EXPECT_FALSE(mo::rebootstrap_armed(device->tree(), std::time(nullptr)));
  // docs/bootstrap.md: the RO's arm_rebootstrap job Execs ReBootstrap/Operations/Arm with the
  // validity; the device arms at once (200) and the job succeeds without a Generic Alert.
  auto& job = backend_.add_job(9, "arm-9", Bytes{'3', '0', '0'});
  job.kind = server::JobKind::arm_rebootstrap;
  auto session = device->run_client_session();
  ASSERT_TRUE(session) << session.error().message();
  EXPECT_EQ(backend_.states[9], server::JobState::succeeded);
  EXPECT_TRUE(mo::rebootstrap_armed(device->tree(), std::time(nullptr)));
  EXPECT_FALSE(mo::rebootstrap_armed(device->tree(), std::time(nullptr) + 301));
  EXPECT_EQ(device->tree().get_text(mo::m2msim_uri("ReBootstrap/ArmedBy")), kServerId);
}

TEST_F(DeviceSessionTest, PowerLossAtEveryTreWriteOfAnInstallLeavesOldOrNewMcimUsable) {
  // Count the TRE write steps of one uninterrupted second install first.
  int steps = 0;
  {
    auto device = open();
    ASSERT_TRUE(device->apply_bootstrap_push(bootstrap_push()));
    add_job(1, 1, "8999900000000000014", "001010000000011");
    ASSERT_TRUE(device->run_client_session());
    ASSERT_TRUE(device->registry().active());
    add_job(2, 2, "8999900000000000022", "001010000000022");
    device->software_tre()->set_crash_hook_for_testing([&](std::string_view, std::string_view) {
      ++steps;
      return false;
    });
    ASSERT_TRUE(device->run_client_session());
    ASSERT_EQ(device->registry().active()->imsi, "001010000000022");
  }
  ASSERT_GT(steps, 0);
  fs::remove_all(dir_);

  for (int crash_at = 0; crash_at < steps; ++crash_at) {
    SCOPED_TRACE("power loss at TRE write step " + std::to_string(crash_at) + " of " + std::to_string(steps));
    SetUp();
    backend_.jobs.clear();
    backend_.states.clear();
    backend_.alerts.clear();
    backend_.pfc.clear();
    link_lost_ = false;
    {
      auto device = open();
      ASSERT_TRUE(device->apply_bootstrap_push(bootstrap_push()));
      add_job(1, 1, "8999900000000000014", "001010000000011");
      ASSERT_TRUE(device->run_client_session());
      add_job(2, 2, "8999900000000000022", "001010000000022");
      int seen = 0;
      // From the crash on, the TRE writes nothing more and the link is gone (power is off).
      device->software_tre()->set_crash_hook_for_testing([&](std::string_view, std::string_view) {
        if (seen++ >= crash_at) link_lost_ = true;
        return link_lost_;
      });
      (void)device->run_client_session();
    }
    // Power back: restart from the state directory and the TRE directory.
    link_lost_ = false;
    auto device = open();
    ASSERT_TRUE(device);
    const auto active = device->registry().active();
    ASSERT_TRUE(active) << "no usable MCIM after the power loss";
    EXPECT_TRUE(active->imsi == "001010000000011" || active->imsi == "001010000000022") << active->imsi;
    auto profile = device->registry().profile(active->id);
    ASSERT_TRUE(profile) << profile.error().message();
    EXPECT_EQ(profile->imsi, active->imsi);
    int active_count = 0;
    for (const auto& e : device->registry().entries()) active_count += e.state == client::McimState::active;
    EXPECT_EQ(active_count, 1);
    device.reset();
    TearDown();
  }
}

}  // namespace
}  // namespace m2mdm
