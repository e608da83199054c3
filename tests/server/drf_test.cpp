// The DRF: the I/O-free issuer (document, contexts, pin, credentials, MAC per SEC method, push
// PDU, SMS segments) checked with the device-side verifier; DrfService over a real SQLite store
// and a real UDP socket; the REST endpoint (authorisation, 409/re-bootstrap, SMS segments, PATCH).
#include "m2mdm/bootstrap/apply.hpp"
#include "m2mdm/bootstrap/sms.hpp"
#include "m2mdm/bootstrap/wsp.hpp"
#include "m2mdm/server/api.hpp"
#include "m2mdm/server/drf.hpp"
#include "m2mdm/server/drf_service.hpp"
#include "m2mdm/server/error.hpp"
#include "test_util.hpp"
#include "udp_receiver.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace m2mdm::server {
namespace {
namespace bs = m2mdm::bootstrap;
using test::TempDir;
using json = nlohmann::json;

DrfSettings settings() {
  DrfSettings s;
  s.provurl = "https://ro.example/drf";
  s.dpf.spki_sha256 = Bytes(32, 0xAB);
  return s;
}

Device device() {
  Device d = test::make_device("IMEI:490154203237518", "001010123456789", std::nullopt);
  d.dm = {};
  return d;
}

Result<bs::VerifiedBootstrap> verify(const IssuedBootstrap& b, bs::SecMethod sec, std::optional<std::string> pin,
                                     std::optional<std::string> imsi) {
  bs::SecCredentials c;
  c.pin = std::move(pin);
  c.imsi = std::move(imsi);
  return bs::verify_cp_bootstrap(b.wbxml, sec, c, b.mac);
}

TEST(DrfIssuer, TwoContextsPinAndFreshCredentialsVerifiedWithTheDevicePin) {
  const Device d = device();
  auto b = issue_bootstrap(d, settings(), bs::SecMethod::userpin, 0x01, 7);
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(b->mac.size(), 40u);
  auto v = verify(*b, bs::SecMethod::userpin, "123456", std::nullopt);
  ASSERT_TRUE(v) << v.error().message();
  const auto& r = v->result();
  EXPECT_EQ(r.provurl, "https://ro.example/drf");
  ASSERT_EQ(r.contexts.size(), 2u);
  const auto& mcim = r.contexts[0];
  EXPECT_EQ(mcim.role, bs::ContextRole::mcim_provisioning);
  EXPECT_EQ(mcim.account.server_id, "m2mdm-dpf");
  EXPECT_EQ(mcim.account.addr, d.dpf_address);
  EXPECT_TRUE(mcim.account.init);
  EXPECT_EQ(mcim.spki_sha256, Bytes(32, 0xAB));
  // APPSRV -> the client's credentials (what the DPF checks), CLIENT -> the server's.
  const auto* cl = mcim.account.credential("CLCRED");
  const auto* sv = mcim.account.credential("SRVCRED");
  ASSERT_TRUE(cl && sv);
  EXPECT_EQ(cl->name, d.dev_id);
  EXPECT_EQ(cl->secret, b->dm.client_password);
  EXPECT_EQ(cl->data, b->dm.client_nonce);
  EXPECT_EQ(sv->name, "m2mdm-dpf");
  EXPECT_EQ(sv->secret, b->dm.server_password);
  EXPECT_EQ(sv->data, b->dm.server_nonce);
  EXPECT_EQ(cl->type, "DIGEST");
  EXPECT_EQ(b->dm.client_password.size(), 32u);
  EXPECT_EQ(b->dm.server_nonce.size(), 16u);
  EXPECT_NE(b->dm.client_password, b->dm.server_password);
  const auto& app = r.contexts[1];
  EXPECT_EQ(app.role, bs::ContextRole::m2m_application);
  EXPECT_EQ(app.account.server_id, "m2m-app");
  EXPECT_FALSE(app.account.init);
  ASSERT_TRUE(app.account.credential("CLCRED"));
  EXPECT_EQ(app.account.credential("CLCRED")->secret, b->app.client_password);

  // A wrong PIN is refused before anything is decoded.
  EXPECT_FALSE(verify(*b, bs::SecMethod::userpin, "654321", std::nullopt));
  // Fresh credentials every time.
  auto b2 = issue_bootstrap(d, settings(), bs::SecMethod::userpin, 0x02, 8);
  ASSERT_TRUE(b2);
  EXPECT_NE(b2->dm.client_password, b->dm.client_password);
  EXPECT_NE(b2->dm.server_nonce, b->dm.server_nonce);
}

/// What one context of an issued bootstrap holds: its NAPDEF, its w7 and its VENDORCONFIG.
struct ExpectedContext {
  std::string napid;
  std::string nap_name;
  std::string apn;
  std::string server_id;
  std::string name;
  std::string addr;
  bool init = false;
  Bytes pin;
  std::string server_password;  ///< of the account issued for this context
};

void expect_context(const bs::BootstrapContext& c, const ExpectedContext& e) {
  ASSERT_TRUE(c.connectivity);
  EXPECT_EQ(c.connectivity->napid, e.napid);
  EXPECT_EQ(c.connectivity->name, e.nap_name);
  EXPECT_EQ(c.connectivity->apn, e.apn);
  EXPECT_EQ(c.account.server_id, e.server_id);
  EXPECT_EQ(c.account.name, e.name);
  EXPECT_EQ(c.account.addr, e.addr);
  EXPECT_EQ(c.account.pref_conref, e.napid);
  EXPECT_EQ(c.account.init, e.init);
  EXPECT_EQ(c.spki_sha256, e.pin);
  EXPECT_EQ(c.rebootstrap_token, "token-1");
  ASSERT_TRUE(c.account.credential("SRVCRED"));
  EXPECT_EQ(c.account.credential("SRVCRED")->type, "HMAC");
  EXPECT_EQ(c.account.credential("SRVCRED")->secret, e.server_password);
}

TEST(DrfIssuer, EachContextIsWrittenFromItsOwnServerSettings) {
  const Device d = device();
  auto s = settings();
  s.dpf = {"dpf-1", "DPF one", "apn.dpf", Bytes(32, 0xAB)};
  s.app = {"app-1", "App one", "apn.app", Bytes(32, 0xCD)};
  s.app_address = "https://app.example/dm";
  s.auth_type = "HMAC";
  auto b = issue_bootstrap(d, s, bs::SecMethod::userpin, 0x01, 7, "token-1");
  ASSERT_TRUE(b) << b.error().message();
  auto v = verify(*b, bs::SecMethod::userpin, "123456", std::nullopt);
  ASSERT_TRUE(v) << v.error().message();
  const auto& r = v->result();
  ASSERT_EQ(r.contexts.size(), 2u);
  expect_context(r.contexts[0], {"NAP-MCIM", "RO provisioning", "apn.dpf", "dpf-1", "DPF one", d.dpf_address, true,
                                 Bytes(32, 0xAB), b->dm.server_password});
  expect_context(r.contexts[1], {"NAP-APP", "M2M application", "apn.app", "app-1", "App one", "https://app.example/dm",
                                 false, Bytes(32, 0xCD), b->app.server_password});

  // Without its own address and pin the application context uses the DPF's.
  auto defaults = issue_bootstrap(d, settings(), bs::SecMethod::userpin, 0x02, 8);
  ASSERT_TRUE(defaults);
  auto dv = verify(*defaults, bs::SecMethod::userpin, "123456", std::nullopt);
  ASSERT_TRUE(dv);
  const auto& default_app = dv->result().contexts.at(1);
  EXPECT_EQ(default_app.account.addr, d.dpf_address);
  EXPECT_EQ(default_app.account.name, "M2M application");
  EXPECT_EQ(default_app.spki_sha256, Bytes(32, 0xAB));
  ASSERT_TRUE(default_app.connectivity);
  EXPECT_EQ(default_app.connectivity->apn, "iot.sho.example");
}

TEST(DrfIssuer, PushPduAndSmsSegmentsCarryTheSameBootstrap) {
  auto b = issue_bootstrap(device(), settings(), bs::SecMethod::userpin, 0x42, 9);
  ASSERT_TRUE(b);
  auto push = bs::wsp::decode_push(b->push_pdu);
  ASSERT_TRUE(push) << push.error().message();
  EXPECT_EQ(push->tid, 0x42);
  EXPECT_EQ(push->content_type.code, bs::wsp::kCtConnectivityWbxml);
  ASSERT_TRUE(push->content_type.sec());
  EXPECT_EQ(push->content_type.sec()->integer, 1u);
  EXPECT_EQ(push->content_type.mac(), b->mac);
  EXPECT_EQ(push->body, b->wbxml);
  ASSERT_GT(b->sms.size(), 1u);  // a two-context bootstrap does not fit one SMS
  bs::sms::Reassembler r;
  std::optional<bs::sms::Reassembled> done;
  for (const auto& seg : b->sms) {
    EXPECT_LE(seg.size(), 140u);
    auto out = r.feed("smsc", seg, std::chrono::steady_clock::now());
    ASSERT_TRUE(out) << out.error().message();
    if (*out) done = **out;
  }
  ASSERT_TRUE(done);
  EXPECT_EQ(done->payload, b->push_pdu);
  EXPECT_EQ(done->dst_port, 2948);
}

TEST(DrfIssuer, NetworkPinMethodsKeyOnThePcid) {
  const Device d = device();
  auto n = issue_bootstrap(d, settings(), bs::SecMethod::netwpin, 1, 1);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_TRUE(verify(*n, bs::SecMethod::netwpin, std::nullopt, d.pcid));
  EXPECT_FALSE(verify(*n, bs::SecMethod::netwpin, std::nullopt, "001010123456780"));
  auto un = issue_bootstrap(d, settings(), bs::SecMethod::usernetwpin, 1, 1);
  ASSERT_TRUE(un);
  EXPECT_TRUE(verify(*un, bs::SecMethod::usernetwpin, "123456", d.pcid));
  EXPECT_FALSE(verify(*un, bs::SecMethod::usernetwpin, "000000", d.pcid));
}

TEST(DrfIssuer, RefusesWhatItCannotBuild) {
  Device d = device();
  d.device_pin.clear();
  EXPECT_EQ(issue_bootstrap(d, settings(), bs::SecMethod::userpin, 1, 1).error(), make_error_code(errc::invalid_argument));
  EXPECT_TRUE(issue_bootstrap(d, settings(), bs::SecMethod::netwpin, 1, 1));  // no PIN needed
  d = device();
  d.pcid = "not-an-imsi";
  EXPECT_EQ(issue_bootstrap(d, settings(), bs::SecMethod::netwpin, 1, 1).error(), make_error_code(errc::invalid_argument));
  EXPECT_EQ(issue_bootstrap(device(), settings(), bs::SecMethod::userpinmac, 1, 1).error(),
            make_error_code(errc::invalid_argument));
  auto s = settings();
  s.dpf.spki_sha256.resize(20);
  EXPECT_EQ(issue_bootstrap(device(), s, bs::SecMethod::userpin, 1, 1).error(), make_error_code(errc::invalid_argument));
  d = device();
  d.dpf_address.clear();
  EXPECT_EQ(issue_bootstrap(d, settings(), bs::SecMethod::userpin, 1, 1).error(), make_error_code(errc::invalid_argument));
  EXPECT_FALSE(parse_drf_sec_method("USERPINMAC"));
  EXPECT_EQ(parse_drf_sec_method("userpin"), bs::SecMethod::userpin);
}

// ---------------------------------------------------------------- DrfService over SQLite + UDP

struct DrfServiceTest : ::testing::Test {
  TempDir dir;
  std::unique_ptr<SqliteStore> store = test::open_store(dir.path() / "s.sqlite");
  UdpPushSender sender;
  test::UdpReceiver udp;
  test::MockClock t{1'700'000'000};
  DrfService drf{*store, sender, settings(), t.fn()};

  void SetUp() override {
    ASSERT_TRUE(store);
    Device d = device();
    d.push_address = udp.address();
    ASSERT_TRUE(store->upsert_devices(std::span(&d, 1), t));
  }
  BootstrapRequest req(bool rebootstrap = false, bool may = true) {
    BootstrapRequest r;
    r.rebootstrap = rebootstrap;
    r.caller_may_rebootstrap = may;
    r.actor = "operator";
    return r;
  }
};

TEST_F(DrfServiceTest, PushesOverUdpStoresCredentialsAndRefusesASecondBootstrap) {
  auto out = drf.bootstrap("IMEI:490154203237518", req());
  ASSERT_TRUE(out) << out.error().reason;
  auto got = udp.receive();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, out->issued.push_pdu);
  auto dev = store->get_device("IMEI:490154203237518");
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->state, DeviceState::bootstrapped);
  EXPECT_EQ(dev->dm.client_password, out->issued.dm.client_password);
  EXPECT_EQ(dev->dm.server_nonce, out->issued.dm.server_nonce);
  auto active = store->active_bootstrap("IMEI:490154203237518");
  ASSERT_TRUE(active && *active);
  EXPECT_EQ((*active)->id, out->record.id);
  EXPECT_EQ((*active)->delivery, "udp");
  EXPECT_EQ((*active)->sec_method, "USERPIN");

  auto again = drf.bootstrap("IMEI:490154203237518", req());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, DrfRefusalKind::already_bootstrapped);  // 409
  auto unauthorised = drf.bootstrap("IMEI:490154203237518", req(true, false));
  ASSERT_FALSE(unauthorised);
  EXPECT_EQ(unauthorised.error().kind, DrfRefusalKind::not_authorised);  // 403
  EXPECT_FALSE(udp.receive(std::chrono::milliseconds(100)));

  auto re = drf.bootstrap("IMEI:490154203237518", req(true, true));
  ASSERT_TRUE(re) << re.error().reason;
  EXPECT_TRUE(re->record.rebootstrap);
  EXPECT_NE(re->record.id, out->record.id);
  EXPECT_TRUE(udp.receive());
  // The re-bootstrap's credentials wait beside the current ones until the device uses them.
  const std::string first_password = dev->dm.client_password;
  dev = store->get_device("IMEI:490154203237518");
  EXPECT_EQ(dev->dm.client_password, first_password);
  ASSERT_TRUE(dev->pending_dm.has_value());
  EXPECT_EQ(dev->pending_dm->client_password, re->issued.dm.client_password);
  ASSERT_EQ(store->promote_pending_credentials("IMEI:490154203237518", t), true);
  dev = store->get_device("IMEI:490154203237518");
  EXPECT_EQ(dev->dm.client_password, re->issued.dm.client_password);
  EXPECT_FALSE(dev->pending_dm.has_value());
  EXPECT_EQ(store->promote_pending_credentials("IMEI:490154203237518", t), false);
  auto audit = store->list_audit(10);
  ASSERT_TRUE(audit);
  int bootstraps = 0;
  for (const auto& e : *audit) bootstraps += e.action == "drf.bootstrap" || e.action == "drf.rebootstrap";
  EXPECT_EQ(bootstraps, 2);
  EXPECT_EQ((*audit)[0].action, "dm.credentials.rebootstrapped");
  EXPECT_EQ((*audit)[1].action, "drf.rebootstrap");
}

TEST_F(DrfServiceTest, SmsDeliveryNeedsNoPushAddressAndReimportKeepsTheIssuedCredentials) {
  ASSERT_TRUE(store->patch_device("IMEI:490154203237518", DevicePatch{std::string(), std::string("NETWPIN")}, t));
  auto r = req();
  r.delivery = BootstrapDelivery::udp;
  auto no_addr = drf.bootstrap("IMEI:490154203237518", r);
  ASSERT_FALSE(no_addr);
  EXPECT_EQ(no_addr.error().kind, DrfRefusalKind::undeliverable);  // 409
  r.delivery = BootstrapDelivery::sms;
  auto out = drf.bootstrap("IMEI:490154203237518", r);
  ASSERT_TRUE(out) << out.error().reason;
  EXPECT_EQ(out->record.sec_method, "NETWPIN");
  EXPECT_FALSE(out->issued.sms.empty());
  // The registry re-stated by an import without credentials keeps what the DRF issued.
  Device again = device();
  again.sec_method.clear();
  ASSERT_TRUE(store->upsert_devices(std::span(&again, 1), t + 1));
  auto dev = store->get_device("IMEI:490154203237518");
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->dm.client_password, out->issued.dm.client_password);
  EXPECT_EQ(dev->sec_method, "NETWPIN");
  EXPECT_EQ(drf.bootstrap("IMEI:nobody", r).error().kind, DrfRefusalKind::unknown_device);  // 404
}

TEST_F(DrfServiceTest, AFailedPushLeavesNoActiveBootstrap) {
  ASSERT_TRUE(store->patch_device("IMEI:490154203237518", DevicePatch{std::string("udp:host.invalid:2948"), {}}, t));
  auto out = drf.bootstrap("IMEI:490154203237518", req());
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().kind, DrfRefusalKind::push_failed);  // 502
  auto active = store->active_bootstrap("IMEI:490154203237518");
  ASSERT_TRUE(active);
  EXPECT_FALSE(*active);
}

TEST(DrfServiceUnconfigured, WithoutAPinItAnswers503) {
  TempDir dir;
  auto store = test::open_store(dir.path() / "s.sqlite");
  UdpPushSender sender;
  DrfService drf(*store, sender, DrfSettings{});
  EXPECT_FALSE(drf.configured());
  EXPECT_EQ(drf.bootstrap("x", {}).error().kind, DrfRefusalKind::not_configured);  // 503
}

// ---------------------------------------------------------------- REST

struct DrfRest : ::testing::Test {
  TempDir dir;
  std::unique_ptr<SqliteStore> store = test::open_store(dir.path() / "s.sqlite");
  Pva pva = *Pva::load({}, {});
  UdpPushSender sender;
  test::UdpReceiver udp;
  std::unique_ptr<ApiRouter> router;
  std::string tok_a = "sho-a-token-0123456789", tok_b = "sho-b-token-0123456789";
  std::string op = "operator-token-0123456789", vno = "vno-token-0123456789";

  void SetUp() override {
    ASSERT_TRUE(store);
    ApiOptions o;
    o.admin_token_hash = hash_token(op);
    o.vno_token_hashes = {hash_token(vno)};
    router = std::make_unique<ApiRouter>(*store, pva, o);
    router->set_drf(std::make_shared<DrfService>(*store, sender, settings()));
    auto a = store->create_sho("a", hash_token(tok_a), 1);
    ASSERT_TRUE(store->create_sho("b", hash_token(tok_b), 1));
    ASSERT_TRUE(a);
    Device d = device();
    d.sho_id = a->id;
    d.push_address = udp.address();
    ASSERT_TRUE(store->upsert_devices(std::span(&d, 1), 1));
  }
  HttpResponse call(const std::string& method, const std::string& target, const std::string& token,
                    const std::string& body = {}) {
    HttpRequest r;
    r.method = method;
    r.target = target;
    if (!token.empty()) r.headers.emplace_back("Authorization", "Bearer " + token);
    if (!body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    r.body = body;
    return router->handle(r);
  }
};

TEST_F(DrfRest, BootstrapEndpointAuthorisationConflictAndSmsSegments) {
  const std::string path = "/api/v1/devices/IMEI:490154203237518/bootstrap";
  EXPECT_EQ(call("POST", path, "").status, 401);
  EXPECT_EQ(call("POST", path, tok_b).status, 404);  // another SHO's device
  EXPECT_EQ(call("POST", path, vno).status, 403);
  EXPECT_EQ(call("GET", path, tok_a).status, 405);
  EXPECT_EQ(call("POST", path, tok_a, R"({"delivery":"carrier-pigeon"})").status, 400);
  EXPECT_EQ(call("POST", path, tok_a, R"({"rebootstrapToken":"0123456789abcdef"})").status, 400);

  auto r = call("POST", path, tok_a);
  ASSERT_EQ(r.status, 202) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["pushAddress"], udp.address());
  EXPECT_EQ(j["secMethod"], "USERPIN");
  auto got = udp.receive();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), j["pushBytes"].get<std::size_t>());

  r = call("POST", path, tok_a, R"({"delivery":"sms"})");
  EXPECT_EQ(r.status, 409) << r.body;
  r = call("POST", path, tok_a, R"({"delivery":"sms","rebootstrap":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  j = json::parse(r.body);
  EXPECT_TRUE(j["rebootstrap"].get<bool>());
  ASSERT_TRUE(j["smsSegments"].is_array());
  bs::sms::Reassembler re;
  std::optional<bs::sms::Reassembled> done;
  for (const auto& seg : j["smsSegments"]) {
    auto bytes = hex_decode(seg.get<std::string>());
    ASSERT_TRUE(bytes);
    auto out = re.feed("smsc", *bytes, std::chrono::steady_clock::now());
    ASSERT_TRUE(out);
    if (*out) done = **out;
  }
  ASSERT_TRUE(done);
  auto push = bs::wsp::decode_push(done->payload);
  ASSERT_TRUE(push);
  auto dev = store->get_device("IMEI:490154203237518");
  bs::SecCredentials c;
  c.pin = "123456";
  auto v = bs::verify_cp_bootstrap(push->body, bs::SecMethod::userpin, c, push->content_type.mac());
  ASSERT_TRUE(v) << v.error().message();
  // A re-bootstrap's credentials wait beside the current ones until the device uses them.
  ASSERT_TRUE(dev->pending_dm.has_value());
  EXPECT_EQ(v->result().contexts[0].account.credential("CLCRED")->secret, dev->pending_dm->client_password);
  EXPECT_NE(dev->dm.client_password, dev->pending_dm->client_password);
  // The operator may re-bootstrap too.
  EXPECT_EQ(call("POST", path, op, R"({"rebootstrap":true})").status, 202);
  EXPECT_TRUE(udp.receive());

  auto reg = call("GET", "/api/v1/drf/registry/001010123456789", tok_a);
  ASSERT_EQ(reg.status, 200) << reg.body;
  j = json::parse(reg.body);
  EXPECT_EQ(j["devId"], "IMEI:490154203237518");
  EXPECT_EQ(j["activeBootstrap"]["actor"], "operator");
  EXPECT_EQ(call("GET", "/api/v1/drf/registry/001010123456789", tok_b).status, 404);
}

TEST_F(DrfRest, PatchSetsPushAddressAndSecMethod) {
  const std::string path = "/api/v1/devices/IMEI:490154203237518";
  EXPECT_EQ(call("PATCH", path, tok_a, R"({"pushAddress":"udp:127.0.0.1"})").status, 400);
  EXPECT_EQ(call("PATCH", path, tok_a, R"({"secMethod":"USERPINMAC"})").status, 400);
  EXPECT_EQ(call("PATCH", path, tok_a, R"({})").status, 400);
  EXPECT_EQ(call("PATCH", path, tok_b, R"({"secMethod":"NETWPIN"})").status, 404);
  auto r = call("PATCH", path, tok_a, R"({"pushAddress":"udp:[::1]:29480","secMethod":"usernetwpin"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["pushAddress"], "udp:[::1]:29480");
  EXPECT_EQ(j["secMethod"], "USERNETWPIN");
  r = call("PATCH", path, op, R"({"pushAddress":""})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["pushAddress"], "");
}

// NETWPIN and USERNETWPIN key the bootstrap's MAC with the IMSI: a PATCH may not give them to a
// device whose PCID is not one (the import refuses the same; before, the PATCH took it and every
// later bootstrap of the device failed).
TEST_F(DrfRest, PatchRefusesAnImsiKeyedSecMethodForAPcidThatIsNoImsi) {
  Device d = device();
  d.dev_id = "IMEI:490154203237519";
  d.pcid = "PCID-not-an-imsi";
  d.sho_id = store->find_sho_by_token_hash(hash_token(tok_a))->id;
  ASSERT_TRUE(store->upsert_devices(std::span(&d, 1), 1));
  const std::string path = "/api/v1/devices/IMEI:490154203237519";
  for (const char* method : {"NETWPIN", "USERNETWPIN"}) {
    auto r = call("PATCH", path, tok_a, std::string(R"({"secMethod":")") + method + "\"}");
    EXPECT_EQ(r.status, 400) << method;
    EXPECT_NE(r.body.find("needs the device's PCID to be an IMSI"), std::string::npos) << r.body;
  }
  EXPECT_EQ(json::parse(call("GET", path, tok_a).body)["secMethod"], "USERPIN") << "nothing changed";
  EXPECT_EQ(call("PATCH", path, tok_a, R"({"secMethod":"USERPIN"})").status, 200);
}

TEST(PushAddress, Parses) {
  auto a = parse_push_address("udp:127.0.0.1:29480");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 29480);
  EXPECT_EQ(parse_push_address("[::1]:2948")->host, "::1");
  EXPECT_EQ(parse_push_address("dev.example:2948")->port, 2948);
  for (const char* bad : {"", "udp:", "udp:host", "host:0", "host:65536", "::1:2948", ":2948", "udp:[::1:2948",
                          "a b:1", "host:12x"})
    EXPECT_FALSE(parse_push_address(bad)) << bad;
}

}  // namespace
}  // namespace m2mdm::server
