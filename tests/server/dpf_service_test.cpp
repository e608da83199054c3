// The DPF's session table against unauthenticated floods (hardening finding 2): DevIds are not
// secret, so messages that merely name a device must neither fill the table for everyone nor
// write to the store. Real SqliteStore on a temp file, real DmServerSession behind DpfService.
#include "m2mdm/server/api.hpp"
#include "m2mdm/server/dpf_service.hpp"
#include "m2mdm/syncml/auth.hpp"
#include "m2mdm/syncml/codec.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

namespace m2mdm::server {
namespace {

using test::TempDir;

/// Package 1 of a session from @p dev_id with an md5 credential over @p nonce (@p password
/// wrong or right).
HttpRequest package1(std::string_view dev_id, std::string_view session_id, std::string_view password,
                     ByteView nonce, std::string_view peer, bool with_devinfo = false) {
  syncml::Message m;
  m.hdr.session_id = std::string(session_id);
  m.hdr.msg_id = 1;
  m.hdr.target.loc_uri = "https://ro.example/dm";
  m.hdr.source.loc_uri = std::string(dev_id);
  syncml::Cred cred;
  cred.meta.type = std::string(syncml::kAuthTypeMd5);
  cred.meta.format = "b64";
  cred.data = syncml::make_credential(syncml::AuthType::md5, dev_id, password, nonce).value();
  m.hdr.cred = cred;
  syncml::Alert alert;
  alert.cmd_id = 1;
  alert.data = 1201;
  m.body.push_back(syncml::Command{alert});
  if (with_devinfo) {  // DM_StdObj 1.2: the device's DevInfo in package 1
    syncml::ItemCommand rep;
    rep.kind = syncml::CommandKind::Replace;
    rep.cmd_id = 2;
    for (const auto& [leaf, value] : {std::pair{"DevId", std::string(dev_id)}, {"Man", std::string("m2mdm")},
                                      {"Mod", std::string("test")}, {"DmV", std::string("1.2")}}) {
      syncml::Item item;
      item.source = syncml::Location{std::string("./DevInfo/") + leaf, std::nullopt};
      item.data = value;
      rep.items.push_back(std::move(item));
    }
    m.body.push_back(syncml::Command{rep});
  }
  m.final = true;
  HttpRequest r;
  r.method = "POST";
  r.target = "/dm";
  r.headers = {{"Content-Type", "application/vnd.syncml.dm+xml"}, {"Host", "127.0.0.1:8443"}};
  r.body = std::string(as_chars(syncml::encode(m, syncml::Encoding::Xml).value()));
  r.peer = std::string(peer);
  r.tls = true;
  return r;
}

/// The status the DPF gave the SyncHdr of our message.
int hdr_status(const HttpResponse& r) {
  auto m = syncml::decode(as_bytes(r.body));
  if (!m) return -1;
  for (const auto& c : m->body)
    if (const auto* s = std::get_if<syncml::Status>(&c.value); s && s->cmd == "SyncHdr") return s->data;
  return -2;
}

class DpfFlood : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = test::open_store(dir_.path() / "ro.db");
    ASSERT_TRUE(store_);
    auto sho = store_->create_sho("sho-a", hash_token("token-a-0123456789"), 1000);
    ASSERT_TRUE(sho) << sho.error().message();
    std::vector<Device> devices;
    for (int i = 0; i < 3; ++i)
      devices.push_back(test::make_device("IMEI:10" + std::to_string(i), "PCID:" + std::to_string(i), sho->id));
    auto imported = store_->upsert_devices(devices, 1000);
    ASSERT_TRUE(imported) << imported.error().message();
  }
  DpfOptions options() {
    DpfOptions o;
    o.max_sessions = 40;
    o.max_unauthenticated_per_device = 2;
    o.max_unauthenticated_per_peer = 8;
    o.max_unauthenticated = 20;
    return o;
  }
  Device device(std::string_view id) { return store_->get_device(id).value(); }

  TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(DpfFlood, UnauthenticatedMessagesNamingOneDeviceNeitherFillTheTableNorWriteTheStore) {
  DpfService dpf(*store_, options());
  const Device before = device("IMEI:100");
  for (int i = 0; i < 500; ++i) {
    auto r = dpf.handle_dm(package1("IMEI:100", std::to_string(i), "guess", before.dm.client_nonce, "127.0.0.66:4000"));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(hdr_status(r), 401);
  }
  EXPECT_LE(dpf.stats().sessions_unauthenticated, 2u);
  EXPECT_LE(dpf.stats().sessions_open, 2u);
  EXPECT_GE(dpf.stats().unauthenticated_evicted, 498u);
  // Nothing about the device changed in the store (nonces included).
  const Device after = device("IMEI:100");
  EXPECT_EQ(after.dm.client_nonce, before.dm.client_nonce);
  EXPECT_EQ(after.dm.server_nonce, before.dm.server_nonce);
  EXPECT_EQ(after.updated, before.updated);
  // The real device gets in at once, from anywhere.
  auto ok = dpf.handle_dm(package1("IMEI:100", "77", before.dm.client_password, before.dm.client_nonce, "127.0.0.9:5000"));
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(hdr_status(ok), 212);
  // ... and only then is a new nonce stored for its next session.
  EXPECT_NE(device("IMEI:100").dm.client_nonce, before.dm.client_nonce);
}

TEST_F(DpfFlood, OnePeerNamingManyDevicesIsBoundedAndOthersStillGetIn) {
  auto o = options();
  DpfService dpf(*store_, o);
  // One peer cycles through every known DevId (and unknown ones).
  for (int i = 0; i < 300; ++i) {
    const std::string dev = i % 4 == 3 ? "IMEI:unknown" : "IMEI:10" + std::to_string(i % 3);
    auto r = dpf.handle_dm(package1(dev, std::to_string(i), "guess", {}, "127.0.0.66:4000"));
    EXPECT_EQ(r.status, i % 4 == 3 ? 400 : 200);
  }
  EXPECT_LE(dpf.stats().sessions_unauthenticated, o.max_unauthenticated_per_peer);
  // Many peers: the overall bound holds, and a table full of unauthenticated sessions still
  // admits a device that authenticates.
  for (int i = 0; i < 200; ++i) {
    auto r = dpf.handle_dm(package1("IMEI:10" + std::to_string(i % 3), "p" + std::to_string(i), "guess", {},
                                    "127.0.1." + std::to_string(i % 50) + ":4000"));
    EXPECT_EQ(r.status, 200);
  }
  EXPECT_LE(dpf.stats().sessions_unauthenticated, o.max_unauthenticated);
  for (int d = 0; d < 3; ++d) {
    const Device dev = device("IMEI:10" + std::to_string(d));
    auto ok = dpf.handle_dm(package1(dev.dev_id, "ok" + std::to_string(d), dev.dm.client_password, dev.dm.client_nonce,
                                     "127.0.0.9:5000"));
    ASSERT_EQ(ok.status, 200);
    EXPECT_EQ(hdr_status(ok), 212) << dev.dev_id;
  }
}

TEST_F(DpfFlood, AuthenticatedSessionsAreNeverDroppedForUnauthenticatedOnes) {
  auto o = options();
  o.max_sessions = 3;
  DpfService dpf(*store_, o);
  // Three devices hold authenticated sessions (package 1 answered; the sessions stay open).
  for (int d = 0; d < 3; ++d) {
    const Device dev = device("IMEI:10" + std::to_string(d));
    auto ok = dpf.handle_dm(package1(dev.dev_id, "a" + std::to_string(d), dev.dm.client_password, dev.dm.client_nonce,
                                     "127.0.0.9:5000"));
    ASSERT_EQ(hdr_status(ok), 212);
  }
  ASSERT_EQ(dpf.stats().sessions_open, 3u);
  ASSERT_EQ(dpf.stats().sessions_unauthenticated, 0u);
  auto refused = dpf.handle_dm(package1("IMEI:100", "x", "guess", {}, "127.0.0.66:4000"));
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(dpf.stats().sessions_open, 3u);
}

// Issue 13: what one DM message changes about its device (the nonces it announces, last seen, the
// session's audit entry) is written in one transaction, before the reply leaves.
TEST_F(DpfFlood, AMessageCommitsWhatItChangedOnce) {
  DpfService dpf(*store_, options());
  const Device dev = device("IMEI:101");
  const auto before = store_->stats().value();
  auto ok = dpf.handle_dm(
      package1(dev.dev_id, "c1", dev.dm.client_password, dev.dm.client_nonce, "127.0.0.9:5000", /*with_devinfo=*/true));
  ASSERT_EQ(hdr_status(ok), 212);
  const auto after = store_->stats().value();
  EXPECT_EQ(after.commits - before.commits, 1u);
  const Device now = device("IMEI:101");
  EXPECT_NE(now.dm.client_nonce, dev.dm.client_nonce) << "the challenge the reply announced is stored";
  EXPECT_EQ(now.state, DeviceState::registered);
  EXPECT_GT(now.last_seen, 0);
  auto audit = store_->list_audit(5).value();
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.front().action, "dm.session");
  EXPECT_EQ(audit.front().subject, "IMEI:101");
}

// Hardening finding 6 (pre-authentication work): a 0.7 MB message of empty Items naming a known
// DevId cost 13 MB and 0.57 s of CPU before authentication. Before the device has authenticated,
// a message over 128 KiB is refused before it is decoded, and commands are bounded; the real
// device's package 1 is unaffected. Also: VerDTD must be 1.2.
TEST_F(DpfFlood, PreAuthenticationWorkIsBoundedAndVerDtdChecked) {
  DpfService dpf(*store_, options());
  const Device dev = device("IMEI:100");
  HttpRequest big = package1("IMEI:100", "1", "guess", {}, "127.0.0.66:4000");
  const std::string items = [] {
    std::string s;
    for (int i = 0; i < 100'000; ++i) s += "<Item/>";
    return s;
  }();
  const auto at = big.body.find("</Alert>");
  ASSERT_NE(at, std::string::npos);
  big.body.insert(at, items);
  ASSERT_GT(big.body.size(), 700'000u);
  EXPECT_EQ(dpf.handle_dm(big).status, 400);
  HttpRequest many = package1("IMEI:100", "2", dev.dm.client_password, dev.dm.client_nonce, "127.0.0.66:4000");
  std::string alerts;
  for (int i = 0; i < 600; ++i) alerts += "<Alert><CmdID>" + std::to_string(10 + i) + "</CmdID><Data>1222</Data></Alert>";
  many.body.insert(many.body.find("</SyncBody>"), alerts);
  EXPECT_EQ(dpf.handle_dm(many).status, 400);  // 601 commands before authentication
  EXPECT_EQ(dpf.stats().sessions_open, 0u);
  // VerDTD other than 1.2.
  HttpRequest dtd = package1("IMEI:100", "3", dev.dm.client_password, dev.dm.client_nonce, "127.0.0.66:4000");
  const auto v = dtd.body.find("<VerDTD>1.2</VerDTD>");
  ASSERT_NE(v, std::string::npos);
  dtd.body.replace(v, 20, "<VerDTD>1.1</VerDTD>");
  auto r = dpf.handle_dm(dtd);
  ASSERT_EQ(r.status, 200);  // answered with Alert 1223 (session abort)
  EXPECT_NE(r.body.find("1223"), std::string::npos) << r.body;
  // The device's own package 1 still goes through.
  auto ok = dpf.handle_dm(package1("IMEI:100", "4", dev.dm.client_password, dev.dm.client_nonce, "127.0.0.9:5000"));
  EXPECT_EQ(hdr_status(ok), 212);
}

}  // namespace
}  // namespace m2mdm::server
