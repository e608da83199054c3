// The Device over a real state directory and software TRE: bootstraps built and MAC'd with the
// bootstrap library (accepted; refused with a wrong PIN, another SEC method, a tampered body or
// a second time, leaving every stored byte unchanged), package 0 verified (stored and reset
// nonce) or refused before any byte reaches the server, sessions over HTTPS with the pin from
// the bootstrap against a scripted server, and a real UDP push through the PushListener.
#include "test_server.hpp"

#include "m2mdm/bootstrap/builder.hpp"
#include "m2mdm/bootstrap/security.hpp"
#include "m2mdm/bootstrap/wsp.hpp"
#include "m2mdm/client/device.hpp"
#include "m2mdm/client/error.hpp"
#include "m2mdm/client/push_listener.hpp"
#include "m2mdm/client/state_key.hpp"
#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/tree_store.hpp"
#include "m2mdm/syncml/notification.hpp"
#include "m2mdm/test/device_bootstrap.hpp"
#include "m2mdm/test/device_fixture.hpp"
#include "m2mdm/test/files.hpp"
#include "m2mdm/test/pki_test.hpp"
#include "m2mdm/test/refused.hpp"
#include "m2mdm/test/test_dir.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>

#include <unistd.h>

#include <map>

namespace m2mdm::client {
namespace {

namespace fs = std::filesystem;
namespace bs = m2mdm::bootstrap;

constexpr std::string_view kDevId = "IMEI:490154203237518";
constexpr std::string_view kServerId = "dpf.ro.example";
constexpr std::string_view kAppServerId = "app.ro.example";
constexpr std::string_view kPin = "8372";
const Bytes kServerNonce{9, 8, 7};

using m2mdm::test::slurp;

// Every regular file below @p dir with its bytes.
std::map<std::string, std::string> files_of(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = slurp(e.path());
  return out;
}

class DeviceTest : public m2mdm::test::PkiTest {
 protected:
  DeviceTest() : PkiTest("device") {}
  void SetUp() override {
    PkiTest::SetUp();
    if (HasFatalFailure()) return;
    tls_pki_ = test::TestPki::create(dir_);
    auto [cert, key] = tls_pki_.server_cert({"IP:127.0.0.1"}, test::TestPki::now() - 60, test::TestPki::now() + 3600);
    server_tls_ = test::TlsSetup{cert, key};
  }

  DeviceOptions options(std::string pin = std::string(kPin)) const {
    DeviceOptions o = m2mdm::test::device_options(dir_ / "state", pki_);
    o.sec = bs::SecMethod::userpin;
    o.sec_credentials.pin = std::move(pin);
    o.ca_file = tls_pki_.ca_file;
    return o;
  }

  std::unique_ptr<Device> open(DeviceOptions o) {
    auto d = Device::open(std::move(o));
    EXPECT_TRUE(d) << (d ? "" : d.error().message());
    return d ? std::move(*d) : nullptr;
  }

  // The RO's bootstrap for one MCIM provisioning context (and, with @p with_app, an M2M
  // application context beside it, as the DRF issues), as a WSP push PDU.
  Bytes bootstrap_push(std::string addr, std::string_view pin = kPin, std::uint32_t sec = bs::wsp::kSecUserpin,
                       bool tamper = false, std::string rebootstrap_token = {}, bool with_app = false) const {
    bs::ContextSpec c = m2mdm::test::dm_context(kDevId, kServerId, std::move(addr), {1, 2, 3, 4}, kServerNonce);
    c.nap.name = "RO APN";
    c.server.name = "RO DPF";
    c.server.spki_sha256 = server_tls_.cert.spki_sha256();
    c.server.rebootstrap_token = rebootstrap_token;
    bs::BootstrapSpec spec = m2mdm::test::ro_bootstrap(c);
    if (with_app) {
      bs::ContextSpec app = c;
      app.role = bs::ContextRole::m2m_application;
      app.nap.napid = "NAP-APP";
      app.server.server_id = std::string(kAppServerId);
      app.server.name = "M2M application";
      spec.contexts.push_back(app);
    }
    return m2mdm::test::userpin_push(spec, pin, sec, tamper);
  }

  // What an earlier (authenticated) session of server @p by leaves in the stored tree: the
  // re-bootstrap armed for 600 s.
  void arm(std::string_view by) {
    auto tre = SoftwareTre::open(pki_.at("tre-dir"));  // the tree is sealed with the TRE's state key
    ASSERT_TRUE(tre) << tre.error().message();
    mo::TreeStore store(dir_ / "state" / "tree.m2mt", tre_tree_sealer(**tre));
    auto tree = store.load();
    ASSERT_TRUE(tree) << tree.error().message();
    ASSERT_EQ(mo::arm_rebootstrap(*tree, by, test::TestPki::now() + 600), syncml::StatusCode::Ok);
    ASSERT_TRUE(store.save(*tree));
  }

  Bytes package0(std::string_view password, ByteView nonce, std::uint16_t session_id = 0x1A2B) const {
    syncml::Notification n;
    n.server_id = std::string(kServerId);
    n.session_id = session_id;
    auto p = syncml::encode_notification(n, password, nonce);
    EXPECT_TRUE(p);
    return *p;
  }

  test::TestPki tls_pki_;
  test::TlsSetup server_tls_;
};

TEST_F(DeviceTest, BootstrapPushCreatesAccountPinAndM2msimObjectAndSurvivesRestart) {
  {
    auto device = open(options());
    ASSERT_TRUE(device);
    EXPECT_TRUE(device->contexts().empty());
    auto r = device->apply_bootstrap_push(bootstrap_push("https://127.0.0.1:1/dm"));
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->server_ids.size(), 1u);
    EXPECT_EQ(r->server_ids[0], kServerId);
    EXPECT_EQ(r->contexts[0], "mcim-provisioning");
  }
  auto device = open(options());
  ASSERT_TRUE(device);
  const auto ctx = device->contexts();
  ASSERT_EQ(ctx.size(), 1u);
  EXPECT_EQ(ctx[0].server_id, kServerId);
  ASSERT_TRUE(ctx[0].spki_sha256);
  EXPECT_EQ(*ctx[0].spki_sha256, server_tls_.cert.spki_sha256());
  auto account = mo::find_dm_account(device->tree(), kServerId);
  ASSERT_TRUE(account);
  EXPECT_EQ(account->app_addr.at(0).addr, "https://127.0.0.1:1/dm");
  EXPECT_EQ(device->tree().get_text("./DevInfo/DevId"), kDevId);
  EXPECT_TRUE(device->tree().exists(mo::m2msim_uri("Download")));
  // The DPF may use the M2MSIMMobj, another server may not even read the bootstrap record.
  EXPECT_EQ(device->tree().get(mo::Caller::server(kServerId), mo::m2msim_uri("DevId")).status, syncml::StatusCode::Ok);
  EXPECT_NE(device->tree().get(mo::Caller::server("intruder"), "./Vendor/m2mdm/Bootstrap").status,
            syncml::StatusCode::Ok);
}

TEST_F(DeviceTest, ReopeningAnUnchangedDeviceRewritesNothing) {
  { ASSERT_TRUE(open(options())); }
  {
    auto device = open(options());
    ASSERT_TRUE(device->apply_bootstrap_push(bootstrap_push("https://127.0.0.1:1/dm")));
  }
  const auto before = files_of(dir_ / "state");
  { ASSERT_TRUE(open(options())); }
  EXPECT_EQ(files_of(dir_ / "state"), before);
}

// Issue 14 finding 6: the DM account secrets, the nonces and the bootstrap record are sealed at
// rest. Both generations (the bootstrap, then the arm written over it) are read byte by byte.
TEST_F(DeviceTest, NeitherTreeGenerationHoldsAnAccountSecretOrNonceInClear) {
  {
    auto device = open(options());
    ASSERT_TRUE(device->apply_bootstrap_push(
        bootstrap_push("https://127.0.0.1:1/dm", kPin, bs::wsp::kSecUserpin, false, "rb-token-0123456789abcdef")));
  }
  arm(kServerId);  // a second save: the bootstrapped tree becomes tree.m2mt.prev
  for (const char* name : {"tree.m2mt", "tree.m2mt.prev"}) {
    const std::string bytes = slurp(dir_ / "state" / name);
    ASSERT_FALSE(bytes.empty()) << name;
    for (const char* clear : {"client-secret", "server-secret", "rb-token-0123456789abcdef", "AAuthSecret",
                              "AAuthData", "DMAcc", "Bootstrap", "m2m.ro.example"})
      EXPECT_EQ(bytes.find(clear), std::string::npos) << clear << " in clear in " << name;
  }
  // The sealed tree opens again with the TRE's key: the account and its secret are intact.
  auto device = open(options());
  ASSERT_TRUE(device);
  auto account = mo::find_dm_account(device->tree(), kServerId);
  ASSERT_TRUE(account);
  bool found = false;
  for (const auto& a : account->app_auth) found = found || a.secret == "client-secret";
  EXPECT_TRUE(found);
}

TEST_F(DeviceTest, RefusedBootstrapsChangeNoStoredByte) {
  { ASSERT_TRUE(open(options())); }
  const auto state_before = files_of(dir_ / "state");
  const auto tre_before = files_of(pki_.at("tre-dir"));
  auto device = open(options("9999"));  // the device's PIN is not the one the RO used
  ASSERT_TRUE(device);
  auto wrong_pin = device->apply_bootstrap_push(bootstrap_push("https://127.0.0.1:1/dm"));
  ASSERT_TRUE(m2mdm::test::refused_with(wrong_pin, bs::errc::sec_mac_mismatch));
  device.reset();
  device = open(options());
  auto tampered = device->apply_bootstrap_push(bootstrap_push("https://127.0.0.1:1/dm", kPin, 1, true));
  ASSERT_TRUE(m2mdm::test::refused_with(tampered, bs::errc::sec_mac_mismatch));
  auto other_sec = device->apply_bootstrap_push(bootstrap_push("https://127.0.0.1:1/dm", kPin, bs::wsp::kSecNetwpin));
  ASSERT_TRUE(m2mdm::test::refused_with(other_sec, errc::push_unverified));
  Bytes garbage{0x01, 0x06, 0xFF};
  EXPECT_FALSE(device->handle_push(garbage));
  EXPECT_TRUE(device->contexts().empty());
  device.reset();
  EXPECT_EQ(files_of(dir_ / "state"), state_before);
  EXPECT_EQ(files_of(pki_.at("tre-dir")), tre_before);
}

TEST_F(DeviceTest, SecondBootstrapOfAContextIsRefusedWithoutArm) {
  auto device = open(options());
  ASSERT_TRUE(device->apply_bootstrap_push(bootstrap_push("https://127.0.0.1:1/dm")));
  const auto before = files_of(dir_ / "state");
  auto again = device->apply_bootstrap_push(bootstrap_push("https://127.0.0.1:2/dm"));
  ASSERT_TRUE(m2mdm::test::refused_with(again, bs::errc::already_bootstrapped));
  EXPECT_EQ(mo::find_dm_account(device->tree(), kServerId)->app_addr.at(0).addr, "https://127.0.0.1:1/dm");
  EXPECT_EQ(files_of(dir_ / "state"), before);
}

// The context's own DM server armed ./M2MSIMMobj/ReBootstrap in an earlier (authenticated)
// session; here the arm is written into the stored tree as that session would have left it.
TEST_F(DeviceTest, RebootstrapIsAcceptedOnlyWhileArmedByTheContextsServerAndOnce) {
  const std::string token = "rb-token-0123456789abcdef";
  {
    auto device = open(options());
    ASSERT_TRUE(device->apply_bootstrap_push(bootstrap_push("https://127.0.0.1:1/dm")));
  }
  // Armed by another server: refused.
  arm("intruder.example");
  {
    auto device = open(options());
    auto r = device->apply_bootstrap_push(bootstrap_push("https://127.0.0.1:2/dm", kPin, 1, false, token));
    EXPECT_TRUE(m2mdm::test::refused_with(r, bs::errc::already_bootstrapped));
  }
  // Armed by the context's server, but the new bootstrap carries no token: refused.
  arm(kServerId);
  {
    auto device = open(options());
    auto r = device->apply_bootstrap_push(bootstrap_push("https://127.0.0.1:2/dm"));
    ASSERT_TRUE(m2mdm::test::refused_with(r, bs::errc::already_bootstrapped));
    // With the token: accepted, the account replaced, the arm consumed.
    auto ok = device->apply_bootstrap_push(bootstrap_push("https://127.0.0.1:2/dm", kPin, 1, false, token));
    ASSERT_TRUE(ok) << ok.error().message();
    EXPECT_EQ(mo::find_dm_account(device->tree(), kServerId)->app_addr.at(0).addr, "https://127.0.0.1:2/dm");
    EXPECT_EQ(device->tree().get_text(mo::m2msim_uri("ReBootstrap/Armed")), "false");
    auto again = device->apply_bootstrap_push(bootstrap_push("https://127.0.0.1:3/dm", kPin, 1, false, token));
    EXPECT_TRUE(m2mdm::test::refused_with(again, bs::errc::already_bootstrapped));
  }
  auto device = open(options());
  EXPECT_EQ(mo::find_dm_account(device->tree(), kServerId)->app_addr.at(0).addr, "https://127.0.0.1:2/dm");
  EXPECT_EQ(device->contexts().size(), 1u);
}

// The DRF bootstraps the MCIM-provisioning context and an M2M application context together;
// operator change B (reset to the pristine state) needs both re-bootstrapped. The RO's server
// (the MCIM-provisioning context's) arms for every context; another server only for its own.
TEST_F(DeviceTest, TheRosArmingCoversEveryContextAnotherServersOnlyItsOwn) {
  const std::string token = "rb-token-0123456789abcdef";
  {
    auto device = open(options());
    ASSERT_TRUE(device->apply_bootstrap_push(bootstrap_push("https://127.0.0.1:1/dm", kPin, 1, false, {}, true)));
    ASSERT_EQ(device->contexts().size(), 2u);
  }
  arm(kAppServerId);  // the application server cannot let the RO's context be replaced
  {
    auto device = open(options());
    auto r = device->apply_bootstrap_push(bootstrap_push("https://127.0.0.1:2/dm", kPin, 1, false, token, true));
    EXPECT_TRUE(m2mdm::test::refused_with(r, bs::errc::already_bootstrapped));
  }
  arm(kServerId);
  auto device = open(options());
  auto ok = device->apply_bootstrap_push(bootstrap_push("https://127.0.0.1:2/dm", kPin, 1, false, token, true));
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->contexts.size(), 2u);
  EXPECT_EQ(mo::find_dm_account(device->tree(), kServerId)->app_addr.at(0).addr, "https://127.0.0.1:2/dm");
  EXPECT_EQ(mo::find_dm_account(device->tree(), kAppServerId)->app_addr.at(0).addr, "https://127.0.0.1:2/dm");
  EXPECT_EQ(device->tree().get_text(mo::m2msim_uri("ReBootstrap/Armed")), "false");
}

TEST_F(DeviceTest, VerifiedPackage0StartsAServerInitiatedSessionOverPinnedTls) {
  test::Script garbage;  // the scripted server answers with something that is not SyncML
  garbage.body = "not a SyncML message";
  test::ScriptedServer server(garbage, server_tls_, 2);
  auto device = open(options());
  ASSERT_TRUE(device->apply_bootstrap_push(bootstrap_push(server.url())));
  const auto before = files_of(dir_ / "state");
  // Stored server nonce.
  auto r = device->handle_notification(package0("server-secret", kServerNonce));
  EXPECT_FALSE(r) << "a session with a server that answers garbage cannot complete";
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u) << "package 0 verified, so package 1 must have been posted";
  EXPECT_NE(seen[0].body.find("<SessionID>1A2B</SessionID>"), std::string::npos) << seen[0].body;
  EXPECT_NE(seen[0].body.find("<Data>1200</Data>"), std::string::npos) << seen[0].body;
  // Reset nonce (DM_Notification 1.2 §6.1).
  r = device->handle_notification(
      package0("server-secret", ByteView(syncml::kNotificationResetNonce.data(), 4), 0x00AB));
  EXPECT_FALSE(r);
  seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_NE(seen[1].body.find("<SessionID>AB</SessionID>"), std::string::npos) << seen[1].body;
  // The malformed server answers changed nothing that is stored.
  device.reset();
  EXPECT_EQ(files_of(dir_ / "state"), before);
}

TEST_F(DeviceTest, UnverifiedPackage0NeverReachesTheServer) {
  test::ScriptedServer server(test::Script{}, server_tls_, 1);
  auto device = open(options());
  ASSERT_TRUE(device->apply_bootstrap_push(bootstrap_push(server.url())));
  const auto before = files_of(dir_ / "state");
  auto wrong_password = device->handle_notification(package0("not-the-secret", kServerNonce));
  ASSERT_TRUE(m2mdm::test::refused_with(wrong_password, errc::push_unverified));
  auto wrong_nonce = device->handle_notification(package0("server-secret", Bytes{1, 1, 1}));
  ASSERT_TRUE(m2mdm::test::refused_with(wrong_nonce, errc::push_unverified));
  Bytes truncated = package0("server-secret", kServerNonce);
  truncated.resize(20);
  ASSERT_TRUE(m2mdm::test::refused_with(device->handle_notification(truncated), errc::malformed));
  syncml::Notification other;
  other.server_id = "unknown.example";
  auto unknown = device->handle_notification(*syncml::encode_notification(other, "x", kServerNonce));
  ASSERT_TRUE(m2mdm::test::refused_with(unknown, errc::not_bootstrapped));
  EXPECT_TRUE(server.requests().empty());
  device.reset();
  EXPECT_EQ(files_of(dir_ / "state"), before);
}

TEST_F(DeviceTest, SessionWithAServerWhoseKeyIsNotThePinIsRefused) {
  auto [cert, key] = tls_pki_.server_cert({"IP:127.0.0.1"}, test::TestPki::now() - 60, test::TestPki::now() + 3600);
  test::ScriptedServer impostor(test::Script{}, test::TlsSetup{cert, key}, 1);  // valid chain, other key
  auto device = open(options());
  ASSERT_TRUE(device->apply_bootstrap_push(bootstrap_push(impostor.url())));
  const auto before = files_of(dir_ / "state");
  ASSERT_TRUE(m2mdm::test::refused_with(device->run_client_session(), errc::tls_pin_mismatch));
  EXPECT_TRUE(impostor.requests().empty());
  device.reset();
  EXPECT_EQ(files_of(dir_ / "state"), before);
}

TEST_F(DeviceTest, ClientSessionWithoutBootstrapIsRefused) {
  auto device = open(options());
  EXPECT_TRUE(m2mdm::test::refused_with(device->run_client_session(), errc::not_bootstrapped));
}

TEST_F(DeviceTest, PushListenerDeliversARealUdpBootstrapDatagram) {
  PushListenerOptions lo;
  lo.port = 0;
  auto listener = PushListener::open(lo);
  ASSERT_TRUE(listener) << listener.error().message();
  const auto datagram = bootstrap_push("https://127.0.0.1:1/dm");
  boost::asio::io_context io;
  boost::asio::ip::udp::socket sender(io, boost::asio::ip::udp::endpoint(boost::asio::ip::udp::v4(), 0));
  const boost::asio::ip::udp::endpoint to(boost::asio::ip::make_address("127.0.0.1"), (*listener)->port());
  sender.send_to(boost::asio::buffer(datagram), to);
  auto got = (*listener)->receive(std::chrono::milliseconds(5000));
  ASSERT_TRUE(got);
  ASSERT_TRUE(*got);
  EXPECT_EQ((*got)->payload, datagram);
  auto device = open(options());
  ASSERT_TRUE(device->handle_push((*got)->payload));
  EXPECT_EQ(device->contexts().size(), 1u);
  // Nothing more: a timeout is an empty result, not an error.
  auto none = (*listener)->receive(std::chrono::milliseconds(50));
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  // An oversized datagram is dropped with an error.
  sender.send_to(boost::asio::buffer(Bytes(lo.max_datagram + 100, 0x55)), to);
  EXPECT_TRUE(m2mdm::test::refused_with((*listener)->receive(std::chrono::milliseconds(5000)), errc::malformed));
}

TEST(PushListenerOpen, RefusesBadAddressAndBusyPort) {
  PushListenerOptions bad;
  bad.address = "not-an-address";
  EXPECT_EQ(PushListener::open(bad).error(), make_error_code(errc::invalid_argument));
  PushListenerOptions first;
  first.port = 0;
  auto a = PushListener::open(first);
  ASSERT_TRUE(a);
  PushListenerOptions second;
  second.port = (*a)->port();
  EXPECT_EQ(PushListener::open(second).error(), make_error_code(errc::io_error));
}

}  // namespace
}  // namespace m2mdm::client
