// The typed events of client::Device (m2mdm/client/events.hpp) in a whole provisioning run
// against the real DPF session engine (server::DmServerSession) in-process: bootstrap push ->
// registration session -> package 0 -> sealed MCIM installed in the TRE -> session completed,
// each step one event, in order, with its typed fields. Then the refusals (bootstrap with the
// wrong PIN, garbage push, package 0 unknown or forged, session before any bootstrap) as
// events, a Device running on a Tre and an AlertOutbox given by the caller, and a sink that
// throws. (In tests/server because only this suite links both m2mdm::client and m2mdm::server.)
#include "m2mdm/bootstrap/builder.hpp"
#include "m2mdm/bootstrap/error.hpp"
#include "m2mdm/bootstrap/security.hpp"
#include "m2mdm/bootstrap/wsp.hpp"
#include "m2mdm/client/device.hpp"
#include "m2mdm/client/error.hpp"
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

#include <algorithm>
#include <stdexcept>

namespace m2mdm {
namespace {

namespace fs = std::filesystem;
namespace bs = m2mdm::bootstrap;
using client::DeviceEvent;
using K = client::DeviceEventKind;

constexpr std::string_view kDevId = test::kTestDevId;
constexpr std::string_view kServerId = test::kTestServerId;
constexpr std::string_view kPin = test::kTestPin;

using test::slurp;

// An AlertOutbox of the caller's: a MemoryAlertOutbox that counts what the Device queued.
class CountingOutbox final : public client::AlertOutbox {
 public:
  Result<std::uint64_t> add(std::string_view server_id, const mo::GenericAlertPayload& payload) override {
    ++added;
    return inner.add(server_id, payload);
  }
  std::vector<client::PendingAlert> pending(std::string_view server_id) const override { return inner.pending(server_id); }
  Result<void> mark_sent(std::uint64_t id) override { return inner.mark_sent(id); }
  Result<void> acknowledge(std::uint64_t id) override { return inner.acknowledge(id); }
  client::MemoryAlertOutbox inner;
  int added = 0;
};

class DeviceEventsTest : public test::InProcessDeviceTest {
 protected:
  DeviceEventsTest() : InProcessDeviceTest("devevents") {}

  client::DeviceOptions options(std::string_view pin = kPin) {
    client::DeviceOptions o = in_process_options(pin);
    o.on_event = [this](const DeviceEvent& e) { events_.push_back(e); };
    return o;
  }

  std::unique_ptr<client::Device> open(client::DeviceOptions o) {
    auto d = client::Device::open(std::move(o));
    EXPECT_TRUE(d) << (d ? "" : d.error().message());
    return d ? std::move(*d) : nullptr;
  }

  // An install job for the profile of docs/examples, sealed by the test SHO to the device's PfC.
  void add_install_job(std::int64_t id) {
    auto pfc = mo::Certificate::from_pem(slurp(pki_.at("pfc")));
    ASSERT_TRUE(pfc);
    test::SealSpec spec;
    spec.dev_id = std::string(kDevId);
    spec.transaction_id = "tx-" + std::to_string(id);
    auto sealed = test::seal_example_mcim(pki_, *pfc, spec);
    ASSERT_TRUE(sealed) << sealed.error().message();
    server::Job job;
    job.id = id;
    job.dev_id = std::string(kDevId);
    job.correlator = "job-" + std::to_string(id);
    job.payload = *sealed;
    backend_.jobs.push_back(job);
  }

  Bytes package0(std::string_view password, std::uint16_t session_id = 0x0042) const {
    syncml::Notification n;
    n.server_id = std::string(kServerId);
    n.session_id = session_id;
    auto p = syncml::encode_notification(n, password, backend_.creds.server_nonce);
    EXPECT_TRUE(p);
    return *p;
  }

  std::vector<K> kinds() const {
    std::vector<K> out;
    for (const auto& e : events_) out.push_back(e.kind);
    return out;
  }
  // The events since @p from (and forgets nothing).
  std::vector<DeviceEvent> since(std::size_t from) const { return {events_.begin() + static_cast<long>(from), events_.end()}; }

  std::vector<DeviceEvent> events_;
};

TEST_F(DeviceEventsTest, AProvisioningRunReportsEveryStepInOrderWithItsFields) {
  auto device = open(options());
  ASSERT_TRUE(device);
  ASSERT_EQ(kinds(), (std::vector<K>{K::device_ready}));
  EXPECT_EQ(events_[0].device_id, kDevId);
  EXPECT_TRUE(events_[0].contexts.empty());
  EXPECT_EQ(events_[0].mcim_count, 0u);

  // Steps 10-11: the bootstrap.
  auto boot = device->apply_bootstrap_push(bootstrap_push());
  ASSERT_TRUE(boot) << boot.error().message();
  ASSERT_EQ(events_.size(), 2u);
  const auto& applied = events_[1];
  EXPECT_EQ(applied.kind, K::bootstrap_applied);
  EXPECT_EQ(applied.contexts, boot->contexts);
  EXPECT_EQ(applied.servers, (std::vector<std::string>{std::string(kServerId)}));
  EXPECT_EQ(applied.sec_method, bs::sec_method_name(bs::SecMethod::userpin));
  EXPECT_FALSE(applied.error);

  // Steps 11-12: the registration session.
  auto reg = device->run_client_session();
  ASSERT_TRUE(reg) << reg.error().message();
  auto ev = since(2);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, K::session_started);
  EXPECT_EQ(ev[1].kind, K::session_completed);
  for (const auto& e : ev) {
    EXPECT_EQ(e.server_id, kServerId);
    EXPECT_EQ(e.initiator, "client");
    EXPECT_FALSE(e.session_id.empty());
  }
  EXPECT_EQ(ev[0].session_id, ev[1].session_id);
  ASSERT_TRUE(ev[1].report);
  EXPECT_EQ(ev[1].report->messages_sent, reg->messages_sent);
  EXPECT_GT(ev[1].report->messages_sent, 0u);
  EXPECT_TRUE(ev[1].report->server_authenticated);
  EXPECT_FALSE(backend_.pfc.empty()) << "the DPF read the PfC in that session";

  // Steps 18-20: package 0, the sealed MCIM delivered and installed, the session completed.
  add_install_job(7);
  auto install = device->handle_notification(package0("server-secret"));
  ASSERT_TRUE(install) << install.error().message();
  ev = since(4);
  std::vector<K> got;
  for (const auto& e : ev) got.push_back(e.kind);
  ASSERT_EQ(got, (std::vector<K>{K::package0_verified, K::session_started, K::mcim_installed, K::session_completed}));
  EXPECT_EQ(ev[0].server_id, kServerId);
  EXPECT_EQ(ev[0].session_id, syncml::session_id_hex(0x0042));
  EXPECT_FALSE(ev[0].nonce.empty());
  EXPECT_EQ(ev[1].initiator, "server");
  const auto& installed = ev[2];
  EXPECT_EQ(installed.server_id, kServerId);
  EXPECT_EQ(installed.correlator, "job-7");
  EXPECT_EQ(installed.result, static_cast<std::uint16_t>(mo::M2msimResult::Success));
  EXPECT_NE(installed.mcim.find("Download/"), std::string::npos) << installed.mcim;
  ASSERT_TRUE(device->registry().active());
  EXPECT_NE(installed.detail.find(device->registry().active()->iccid), std::string::npos) << installed.detail;
  ASSERT_TRUE(ev[3].report);
  EXPECT_EQ(ev[3].report->alerts_acknowledged, 1u);
  EXPECT_EQ(backend_.states[7], server::JobState::awaiting_result);

  // Every event carries a human message too (not an interface, but never empty).
  for (const auto& e : events_) EXPECT_FALSE(e.message.empty()) << client::to_string(e.kind);

  // A restart reports the bootstrapped context and the installed MCIM.
  device.reset();
  events_.clear();
  device = open(options());
  ASSERT_EQ(kinds(), (std::vector<K>{K::device_ready}));
  EXPECT_EQ(events_[0].contexts, boot->contexts);
  EXPECT_EQ(events_[0].mcim_count, 1u);
}

TEST_F(DeviceEventsTest, RefusalsAreEventsAndTheCallersTreAndOutboxAreUsed) {
  auto tre = client::SoftwareTre::open(pki_.at("tre-dir"));
  ASSERT_TRUE(tre) << tre.error().message();
  std::shared_ptr<client::Tre> own_tre(std::move(*tre));
  auto outbox = std::make_shared<CountingOutbox>();
  auto with_own = [&](std::string_view pin) {
    auto o = options(pin);
    o.tre = own_tre;
    o.outbox = outbox;
    o.tre_dir = dir_ / "no-such-tre";  // not used when a Tre is given
    return o;
  };

  auto device = open(with_own("9999"));  // not the PIN the RO used
  ASSERT_TRUE(device);
  EXPECT_EQ(&device->tre(), own_tre.get());
  EXPECT_EQ(device->software_tre(), nullptr);
  EXPECT_EQ(events_.at(0).device_id, kDevId);

  auto refused = device->apply_bootstrap_push(bootstrap_push());
  ASSERT_FALSE(refused);
  ASSERT_EQ(events_.back().kind, K::bootstrap_refused);
  EXPECT_EQ(events_.back().error, refused.error());
  EXPECT_EQ(events_.back().error, make_error_code(bs::errc::sec_mac_mismatch));
  EXPECT_FALSE(events_.back().detail.empty());

  const Bytes garbage{0x01, 0x06, 0xFF};
  ASSERT_FALSE(device->handle_push(garbage));
  EXPECT_EQ(events_.back().kind, K::push_refused);
  EXPECT_TRUE(events_.back().error);

  auto unknown = device->handle_notification(package0("server-secret"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(events_.back().kind, K::package0_refused);
  EXPECT_EQ(events_.back().server_id, kServerId);
  EXPECT_EQ(events_.back().error, make_error_code(client::errc::not_bootstrapped));

  auto no_session = device->run_client_session();
  ASSERT_FALSE(no_session);
  EXPECT_EQ(events_.back().kind, K::session_failed);
  EXPECT_EQ(events_.back().error, no_session.error());
  EXPECT_FALSE(events_.back().report) << "no session was started";

  // The right PIN: applied; a forged package 0 is refused before any session.
  device.reset();
  device = open(with_own(kPin));
  ASSERT_TRUE(device->apply_bootstrap_push(bootstrap_push()));
  EXPECT_EQ(events_.back().kind, K::bootstrap_applied);
  const auto before = events_.size();
  auto forged = device->handle_notification(package0("not-the-server-secret"));
  ASSERT_FALSE(forged);
  ASSERT_EQ(since(before).size(), 1u) << "no session after a forged package 0";
  EXPECT_EQ(events_.back().kind, K::package0_refused);
  EXPECT_EQ(events_.back().error, make_error_code(client::errc::push_unverified));

  // The install alert goes to the caller's outbox, and no outbox.json is written.
  add_install_job(3);
  ASSERT_TRUE(device->handle_notification(package0("server-secret")));
  const auto installed = std::find_if(events_.begin() + static_cast<long>(before), events_.end(),
                                      [](const DeviceEvent& e) { return e.kind == K::mcim_installed; });
  ASSERT_NE(installed, events_.end());
  EXPECT_EQ(installed->correlator, "job-3");
  EXPECT_EQ(outbox->added, 1);
  EXPECT_EQ(backend_.alerts.size(), 1u);
  EXPECT_FALSE(fs::exists(dir_ / "state" / "outbox.json"));
  // The MCIM is in the caller's TRE.
  auto reread = client::McimRegistry::open(*own_tre);
  ASSERT_TRUE(reread);
  EXPECT_TRUE(reread->active());
}

TEST_F(DeviceEventsTest, ASinkThatThrowsDoesNotReachTheCaller) {
  auto o = options();
  int calls = 0;
  o.on_event = [&](const DeviceEvent&) {
    ++calls;
    throw std::runtime_error("sink failure");
  };
  auto device = open(std::move(o));
  ASSERT_TRUE(device);
  auto r = device->apply_bootstrap_push(bootstrap_push());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(calls, 2);  // device_ready, bootstrap_applied
  EXPECT_EQ(device->contexts().size(), 1u);
}

}  // namespace
}  // namespace m2mdm
