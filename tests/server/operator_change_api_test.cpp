// Operator change at the RO, through ApiRouter::handle and a real SQLite store with a real test
// PKI. Variant A: the new SHO's request with the old SHO's token, every refusal (1412, nothing
// created), what each party may see, the old SHO's acknowledgement relayed without its data,
// and the completion that moves the device to the new SHO. Variant B: the reset, the
// re-bootstrap pushed over real UDP by the DRF, the install job once the device used it.
#include "m2mdm/mo/change_token.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/seal.hpp"
#include "m2mdm/server/api.hpp"
#include "m2mdm/server/drf_service.hpp"
#include "m2mdm/server/push.hpp"
#include "test_util.hpp"
#include "udp_receiver.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <ctime>

namespace m2mdm::server {
namespace {
using json = nlohmann::json;
using test::TempDir;

const std::string kAdmin = "admin-token-0123456789abcdef";
constexpr std::string_view kDev = "IMEI:490154203237518";

mo::Certificate cert_at(const std::filesystem::path& p) { return *mo::Certificate::from_pem(test::slurp(p)); }
mo::PrivateKey key_at(const std::filesystem::path& p) { return *mo::PrivateKey::from_pem(test::slurp(p)); }

struct OperatorChangeApi : ::testing::Test {
  TempDir dir;
  std::unique_ptr<SqliteStore> store = test::open_store(dir.path() / "m2mdm.sqlite");
  std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  test::MockClock t{now};
  Pva pva;
  std::unique_ptr<ApiRouter> router;
  std::filesystem::path pki;
  std::int64_t old_id = 0, new_id = 0, other_id = 0;
  std::string old_token, new_token, other_token;

  void SetUp() override {
    ASSERT_TRUE(store);
    pki = dir.path() / "pki";
    ASSERT_TRUE(mo::init_test_pki(pki).has_value());
    ASSERT_TRUE(mo::issue_test_device(pki, kDev).has_value());
    ASSERT_TRUE(mo::issue_test_sho(pki, "sho-b.example").has_value());
    ASSERT_TRUE(mo::issue_test_sho(pki, "sho-c.example").has_value());
    auto loaded = Pva::load({pki / "manufacturer-ca.pem"}, {});
    ASSERT_TRUE(loaded.has_value());
    pva = std::move(*loaded);
    ApiOptions o;
    o.admin_token_hash = hash_token(kAdmin);
    o.sho_anchors = *mo::TrustAnchors::from_pem(test::slurp(pki / "sho-ca.pem"), mo::AnchorKind::test);
    router = std::make_unique<ApiRouter>(*store, pva, o, t.fn());
    std::tie(old_id, old_token) = make_sho("old", "sho.example");
    std::tie(new_id, new_token) = make_sho("new", "sho-b.example");
    std::tie(other_id, other_token) = make_sho("other", "sho-c.example");
    // The device, provisioned for the old SHO, with the PfC it reported.
    auto r = call("POST", "/api/v1/devices:import", old_token,
                  json{{"devId", kDev}, {"pcid", "001010000000001"}, {"devicePin", "1234"},
                       {"dpfAddress", "https://ro.example/dm"}}
                          .dump() +
                      "\n",
                  "application/x-ndjson");
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(store->set_device_pfc(kDev, cert_at(pki / "devices" / std::string(kDev) / "pfc.pem").to_der(), now));
  }

  HttpResponse call(std::string method, std::string target, std::string token = {}, std::string body = {},
                    std::string content_type = "application/json") {
    return test::api_call(*router, std::move(method), std::move(target), token, std::move(body), content_type);
  }
  static json js(const HttpResponse& r) { return json::parse(r.body, nullptr, false); }

  std::pair<std::int64_t, std::string> make_sho(const std::string& name, const std::string& signer) {
    auto r = call("POST", "/api/v1/shos", kAdmin, json{{"name", name}, {"signer", signer}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    auto j = js(r);
    EXPECT_EQ(j["signer"], signer);
    return {j["id"].get<std::int64_t>(), j["token"].get<std::string>()};
  }

  mo::ChangeToken token(std::string nonce = "00112233445566778899aabbccddeeff") {
    mo::ChangeToken tk;
    tk.device_id = std::string(kDev);
    tk.from_sho = "sho.example";
    tk.to_sho = "sho-b.example";
    tk.issued = now - 10;
    tk.not_after = now + 600;
    tk.nonce = std::move(nonce);
    return tk;
  }
  Bytes signed_by(const mo::ChangeToken& tk, const std::filesystem::path& signer_dir) {
    auto s = mo::sign_change_token(tk, cert_at(signer_dir / "sho-cert.pem"), key_at(signer_dir / "sho-key.pem"));
    EXPECT_TRUE(s.has_value()) << s.error().message();
    return s ? *s : Bytes{};
  }
  Bytes by_old_sho(const mo::ChangeToken& tk) { return signed_by(tk, pki); }

  HttpResponse request(const Bytes& tok, const std::string& as, const std::string& variant = "A",
                       std::string_view dev = kDev) {
    return call("POST", "/api/v1/devices/" + std::string(dev) + "/operator-change", as,
                json{{"variant", variant}, {"authorisation", base64_encode(tok)}, {"object", base64_encode(as_bytes("sealed"))}}
                    .dump());
  }
  std::size_t job_count() {
    auto jobs = store->list_jobs(kDev);
    return jobs ? jobs->size() : 999;
  }
  std::optional<std::int64_t> sho_of_device() { return store->get_device(kDev)->sho_id; }
  /// The callback bodies queued for @p sho_id (the SHOs registered callback URLs).
  std::vector<json> callbacks_for(std::int64_t sho_id) {
    std::vector<json> out;
    auto due = store->due_callbacks(now + 3600, 100);
    if (!due) return out;
    for (const auto& e : *due)
      if (e.sho_id == sho_id) out.push_back(json::parse(e.body));
    return out;
  }
};

TEST_F(OperatorChangeApi, TheWholeChangeSeenByEachParty) {
  for (const auto& [tok, url] : {std::pair{old_token, "https://old.example/cb"}, {new_token, "https://new.example/cb"}})
    ASSERT_EQ(call("PUT", "/api/v1/callback", tok, json{{"url", url}}.dump()).status, 200);
  // The new SHO cannot see the device before the change.
  EXPECT_EQ(call("GET", "/api/v1/devices/" + std::string(kDev), new_token).status, 404);

  const Bytes tok = by_old_sho(token());
  auto r = request(tok, new_token);
  ASSERT_EQ(r.status, 202) << r.body;
  const auto change = js(r);
  const std::int64_t id = change["id"];
  EXPECT_EQ(change["state"], "requested");
  EXPECT_FALSE(change.contains("fromSho"));  // the new SHO never sees the old SHO
  const std::string path = "/api/v1/operator-changes/" + std::to_string(id);
  EXPECT_EQ(r.header("Location").value_or(""), path);
  auto job = store->get_job(change["jobId"].get<std::int64_t>());
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->kind, JobKind::operator_change);
  EXPECT_EQ(job->sho_id, new_id);
  EXPECT_EQ(*base64_decode(job->authorisation), tok) << "the token goes to the device as it came";
  // A third SHO sees nothing of it.
  EXPECT_EQ(call("GET", path, other_token).status, 404);
  // The old SHO cannot acknowledge before the device confirmed the discard.
  EXPECT_EQ(call("POST", path + "/ack", old_token, "{}").status, 409);

  // Step 9: the device's discard confirmation (what the DPF records from kAlertDiscarded).
  ASSERT_TRUE(store->record_change_discarded(id, "1200 discarded 8901010000000000017 of sho.example", now));
  auto old_cb = callbacks_for(old_id);
  ASSERT_EQ(old_cb.size(), 1u);
  EXPECT_EQ(old_cb[0]["event"], "operator_change.discarded");
  EXPECT_EQ(old_cb[0]["detail"], "1200 discarded 8901010000000000017 of sho.example");
  EXPECT_EQ(js(call("GET", path, old_token))["discardDetail"], "1200 discarded 8901010000000000017 of sho.example");
  const auto seen_by_new = call("GET", path, new_token);
  EXPECT_EQ(js(seen_by_new)["discarded"], true);
  EXPECT_EQ(seen_by_new.body.find("8901010000000000017"), std::string::npos);

  // Steps 10-11: only the old SHO acknowledges; the new SHO gets it without old-SHO data.
  EXPECT_EQ(call("POST", path + "/ack", new_token, "{}").status, 403);
  ASSERT_EQ(call("POST", path + "/ack", old_token, "{}").status, 200);
  auto new_cb = callbacks_for(new_id);
  ASSERT_EQ(new_cb.size(), 1u);
  EXPECT_EQ(new_cb[0]["event"], "operator_change.acknowledged");
  EXPECT_EQ(new_cb[0].dump().find("8901010000000000017"), std::string::npos);
  EXPECT_FALSE(new_cb[0].contains("detail"));

  // Steps 12-14: the install result completes the change; the registry names the new SHO.
  ASSERT_EQ(store->record_result(job->correlator, 1200, "installed", now), RecordOutcome::recorded);
  EXPECT_EQ(sho_of_device(), new_id);
  EXPECT_EQ(js(call("GET", path, kAdmin))["state"], "completed");
  EXPECT_EQ(call("GET", "/api/v1/devices/" + std::string(kDev), old_token).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/devices/" + std::string(kDev), new_token).status, 200);
  old_cb = callbacks_for(old_id);
  ASSERT_EQ(old_cb.size(), 2u);
  EXPECT_EQ(old_cb[1]["event"], "operator_change.completed");
  EXPECT_FALSE(old_cb[1].contains("jobId"));  // nothing of the new SHO's MCIM
}

TEST_F(OperatorChangeApi, EveryBadAuthorisationIsRefusedWith1412AndCreatesNothing) {
  struct Case {
    std::string name;
    Bytes tok;
    std::string as;
  };
  std::vector<Case> cases;
  auto tk = token();
  tk.not_after = now - 1;
  tk.issued = now - 100;
  cases.push_back({"expired", by_old_sho(tk), new_token});
  tk = token();
  tk.device_id = "IMEI:000000000000000";
  cases.push_back({"another device", by_old_sho(tk), new_token});
  tk = token();
  tk.variant = mo::ChangeVariant::usim_update;
  cases.push_back({"another variant", by_old_sho(tk), new_token});
  cases.push_back({"for another new SHO", by_old_sho(token()), other_token});
  // The new SHO signing its own authorisation.
  auto forged = mo::cms_sign(as_bytes(*mo::serialize_change_token(token())),
                             cert_at(pki / "shos/sho-b.example/sho-cert.pem"), key_at(pki / "shos/sho-b.example/sho-key.pem"));
  cases.push_back({"signed by the new SHO", *forged, new_token});
  Bytes tampered = by_old_sho(token());
  tampered[tampered.size() / 2] ^= 0x01;
  cases.push_back({"tampered", tampered, new_token});
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = request(c.tok, c.as);
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(js(r)["resultCode"], 1412);
    EXPECT_EQ(job_count(), 0u);
    EXPECT_EQ(sho_of_device(), old_id);
  }
  // An unknown DevId answers the same: an SHO without the token learns nothing.
  auto unknown = request(by_old_sho(token()), new_token, "A", "IMEI:111111111111111");
  EXPECT_EQ(unknown.status, 403);
  EXPECT_EQ(js(unknown)["resultCode"], 1412);
}

TEST_F(OperatorChangeApi, ATokenWorksOnce) {
  const Bytes tok = by_old_sho(token());
  auto first = request(tok, new_token);
  ASSERT_EQ(first.status, 202) << first.body;
  // While it runs, a second change of the device is refused.
  auto again = request(by_old_sho(token("0123456789abcdef0123456789abcdef")), new_token);
  EXPECT_EQ(again.status, 409);
  // Withdrawn before delivery: the change fails, the device stays; the token stays spent.
  ASSERT_EQ(call("DELETE", "/api/v1/jobs/" + std::to_string(js(first)["jobId"].get<std::int64_t>()), new_token).status,
            200);
  EXPECT_EQ(js(call("GET", "/api/v1/operator-changes/" + std::to_string(js(first)["id"].get<std::int64_t>()),
                    kAdmin))["state"],
            "failed");
  auto replay = request(tok, new_token);
  EXPECT_EQ(replay.status, 403);
  EXPECT_EQ(js(replay)["resultCode"], 1412);
  EXPECT_NE(js(replay)["message"].get<std::string>().find("already used"), std::string::npos);
  EXPECT_EQ(sho_of_device(), old_id);
}

TEST_F(OperatorChangeApi, RequestsTheRoCannotServe) {
  EXPECT_EQ(request(by_old_sho(token()), old_token).status, 409);  // already the device's SHO
  EXPECT_EQ(request(by_old_sho(token()), kAdmin).status, 403);     // only an SHO asks
  ApiOptions o;
  o.admin_token_hash = hash_token(kAdmin);
  ApiRouter unconfigured(*store, pva, o, t.fn());
  const auto body = json{{"variant", "A"}, {"authorisation", base64_encode(by_old_sho(token()))}, {"object", "c2VhbGVk"}};
  EXPECT_EQ(
      test::api_call(unconfigured, "POST", "/api/v1/devices/" + std::string(kDev) + "/operator-change", new_token,
                     body.dump())
          .status,
      503);
}

TEST_F(OperatorChangeApi, VariantCBulkRequestEachDeviceOnItsOwnAndBothShosToldTheResult) {
  for (const auto& [tok, url] : {std::pair{old_token, "https://old.example/cb"}, {new_token, "https://new.example/cb"}})
    ASSERT_EQ(call("PUT", "/api/v1/callback", tok, json{{"url", url}}.dump()).status, 200);
  // A second device of the old SHO that never reported its PfC.
  ASSERT_EQ(call("POST", "/api/v1/devices:import", old_token,
                 json{{"devId", "IMEI:490154203237526"}, {"pcid", "001010000000002"}}.dump() + "\n",
                 "application/x-ndjson")
                .status,
            200);
  auto tk = token();
  tk.variant = mo::ChangeVariant::usim_update;
  auto tk2 = tk;
  tk2.device_id = "IMEI:490154203237526";
  tk2.nonce = "0123456789abcdef0123456789abcdef";
  auto item = [](std::string_view dev, const Bytes& signed_token) {
    return json{{"devId", dev}, {"authorisation", base64_encode(signed_token)}, {"object", base64_encode(as_bytes("sealed"))}};
  };
  const json body = {{"variant", "C"},
                     {"changes", json::array({item(kDev, by_old_sho(tk)), item("IMEI:490154203237526", by_old_sho(tk2)),
                                              item("IMEI:111111111111111", by_old_sho(tk))})}};
  // A device listed twice is a bad request as a whole.
  json twice = body;
  twice["changes"][2]["devId"] = kDev;
  EXPECT_EQ(call("POST", "/api/v1/operator-changes", new_token, twice.dump()).status, 400);

  auto r = call("POST", "/api/v1/operator-changes", new_token, body.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  auto answer = js(r);
  EXPECT_EQ(answer["accepted"], 1);
  EXPECT_EQ(answer["refused"], 2);
  const auto& results = answer["results"];
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0]["status"], 202);
  EXPECT_EQ(results[1]["status"], 409) << "no PfC yet";
  EXPECT_EQ(results[2]["status"], 403) << "an unknown DevId is refused like a bad token";
  EXPECT_EQ(results[2]["resultCode"], 1412);
  const std::string batch = "/api/v1/operator-change-batches/" + std::to_string(answer["batchId"].get<std::int64_t>());
  EXPECT_EQ(r.header("Location").value_or(""), batch);
  // Progress: the new SHO and the operator see the batch, nobody else.
  auto b = js(call("GET", batch, new_token));
  EXPECT_EQ(b["done"], false);
  EXPECT_EQ(b["counts"]["requested"], 1);
  EXPECT_EQ(call("GET", batch, old_token).status, 404);
  EXPECT_EQ(call("GET", batch, kAdmin).status, 200);
  // The install result (the device replaced IMSI, K and OTA keys in place) ends the batch.
  auto job = store->get_job(results[0]["jobId"].get<std::int64_t>());
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->kind, JobKind::operator_change);
  ASSERT_TRUE(store->record_change_discarded(results[0]["id"].get<std::int64_t>(),
                                             "1200 replaced the IMSI, K and OTA keys of 8999900000000000014 of sho.example",
                                             now));
  ASSERT_EQ(store->record_result(job->correlator, 1200, "updated in place; USIM reset", now), RecordOutcome::recorded);
  b = js(call("GET", batch, new_token));
  EXPECT_EQ(b["done"], true);
  EXPECT_EQ(b["counts"]["completed"], 1);
  EXPECT_EQ(sho_of_device(), new_id);
  // Seed 001 step 12: both SHOs hear the result.
  const auto old_cb = callbacks_for(old_id);
  ASSERT_FALSE(old_cb.empty());
  EXPECT_EQ(old_cb.back()["event"], "operator_change.completed");
  bool new_told = false;
  for (const auto& c : callbacks_for(new_id)) new_told = new_told || (c["event"] == "job.result" && c["code"] == 1200);
  EXPECT_TRUE(new_told);
}

TEST_F(OperatorChangeApi, VariantBResetsReBootstrapsForTheNewShoThenInstalls) {
  for (const auto& [tok, url] : {std::pair{old_token, "https://old.example/cb"}, {new_token, "https://new.example/cb"}})
    ASSERT_EQ(call("PUT", "/api/v1/callback", tok, json{{"url", url}}.dump()).status, 200);
  // The device as the initial provisioning left it: bootstrapped by the DRF, reachable by push.
  test::UdpReceiver udp;
  UdpPushSender sender;
  DrfSettings ds;
  ds.provurl = "https://ro.example/drf";
  ds.dpf.spki_sha256 = Bytes(32, 0xAB);
  auto drf = std::make_shared<DrfService>(*store, sender, ds, t.fn());
  ASSERT_EQ(call("PATCH", "/api/v1/devices/" + std::string(kDev), old_token,
                 json{{"pushAddress", udp.address()}}.dump(), "application/merge-patch+json")
                .status,
            200);
  BootstrapRequest first;
  first.actor = "operator";
  ASSERT_TRUE(drf->bootstrap(kDev, first).has_value());
  ASSERT_TRUE(udp.receive().has_value());
  router->set_drf(drf);
  auto changes = router->operator_changes();

  auto tk = token();
  tk.variant = mo::ChangeVariant::pristine;
  const Bytes tok = by_old_sho(tk);
  // A variant-A token does not authorise a reset, and a B request needs the MCIM too.
  EXPECT_EQ(request(by_old_sho(token("ffeeddccbbaa99887766554433221100")), new_token, "B").status, 403);
  auto r = request(tok, new_token, "B");
  ASSERT_EQ(r.status, 202) << r.body;
  const auto change = js(r);
  const std::int64_t id = change["id"];
  const std::string path = "/api/v1/operator-changes/" + std::to_string(id);
  ASSERT_EQ(change["resetJobId"], change["jobId"]);
  auto reset = store->get_job(change["jobId"].get<std::int64_t>());
  ASSERT_TRUE(reset.has_value());
  EXPECT_EQ(reset->kind, JobKind::reset);
  EXPECT_TRUE(reset->payload.empty()) << "the MCIM waits for the re-bootstrap";
  EXPECT_EQ(*base64_decode(reset->authorisation), tok) << "the token goes to the device as it came";

  // Step 3: the device removed the old SHO's MCIM (discard confirmation) and reports the reset.
  ASSERT_TRUE(store->record_change_discarded(id, "1200 discarded 8901010000000000017 of sho.example", now));
  ASSERT_EQ(call("POST", path + "/ack", old_token, "{}").status, 200);
  ASSERT_EQ(store->record_result(reset->correlator, 1200, "pristine", now), RecordOutcome::recorded);
  // Step 8: the DRF registry names the new SHO; the old SHO is told and loses the device.
  EXPECT_EQ(js(call("GET", path, kAdmin))["state"], "pristine");
  EXPECT_EQ(sho_of_device(), new_id);
  EXPECT_EQ(call("GET", "/api/v1/devices/" + std::string(kDev), old_token).status, 404);
  auto old_cb = callbacks_for(old_id);
  ASSERT_EQ(old_cb.size(), 2u);
  EXPECT_EQ(old_cb[0]["event"], "operator_change.discarded");
  EXPECT_EQ(old_cb[1]["event"], "operator_change.completed");

  // Steps 4-8: the RO re-bootstraps the pristine device (the DPF reports the reset result).
  changes->on_job_result(reset->id);
  auto pushed = udp.receive();
  ASSERT_TRUE(pushed.has_value()) << "no re-bootstrap pushed";
  auto dev = store->get_device(kDev);
  ASSERT_TRUE(dev && dev->pending_dm.has_value()) << "the re-bootstrap's credentials wait beside the current ones";
  auto active = store->active_bootstrap(kDev);
  ASSERT_TRUE(active && *active);
  EXPECT_TRUE((*active)->rebootstrap);
  EXPECT_EQ((*active)->actor, "operator-change:" + std::to_string(id));
  // Never a second one over a pending one (it would cut the device off).
  EXPECT_EQ(changes->resume(), 0u);
  changes->on_job_result(reset->id);
  EXPECT_FALSE(udp.receive(std::chrono::milliseconds(100)).has_value());
  const std::size_t jobs_before = job_count();

  // Steps 12-13: the device authenticates with the new credentials: the install job appears.
  ASSERT_EQ(store->promote_pending_credentials(kDev, now), true);
  auto seen = js(call("GET", path, new_token));
  EXPECT_EQ(seen["state"], "reprovisioning");
  EXPECT_EQ(job_count(), jobs_before + 1);
  auto install = store->get_job(seen["jobId"].get<std::int64_t>());
  ASSERT_TRUE(install.has_value());
  EXPECT_NE(install->id, reset->id);
  EXPECT_EQ(install->kind, JobKind::operator_change);
  EXPECT_EQ(install->sho_id, new_id);
  EXPECT_EQ(std::string(as_chars(install->payload)), "sealed");
  EXPECT_EQ(install->authorisation, reset->authorisation);
  // Steps 14-15: the result completes the change; the old SHO hears nothing more.
  ASSERT_EQ(store->record_result(install->correlator, 1200, "installed", now), RecordOutcome::recorded);
  EXPECT_EQ(js(call("GET", path, new_token))["state"], "completed");
  EXPECT_EQ(callbacks_for(old_id).size(), 2u);
  EXPECT_EQ(sho_of_device(), new_id);
  // A later re-authentication changes nothing.
  EXPECT_EQ(store->promote_pending_credentials(kDev, now), false);
}

TEST_F(OperatorChangeApi, VariantBResumesAReBootstrapThatDidNotGoOut) {
  auto tk = token();
  tk.variant = mo::ChangeVariant::pristine;
  auto r = request(by_old_sho(tk), new_token, "B");
  ASSERT_EQ(r.status, 202) << r.body;
  auto reset = store->get_job(js(r)["jobId"].get<std::int64_t>());
  ASSERT_TRUE(reset.has_value());
  ASSERT_EQ(store->record_result(reset->correlator, 1200, "pristine", now), RecordOutcome::recorded);
  // No DRF yet (the RO stopped right after the reset): nothing goes out, the change waits.
  router->operator_changes()->on_job_result(reset->id);
  EXPECT_EQ(router->operator_changes()->resume(), 0u);
  // The RO comes back with its DRF: resume() sends it.
  test::UdpReceiver udp;
  UdpPushSender sender;
  DrfSettings ds;
  ds.provurl = "https://ro.example/drf";
  ds.dpf.spki_sha256 = Bytes(32, 0xAB);
  ASSERT_EQ(call("PATCH", "/api/v1/devices/" + std::string(kDev), new_token,
                 json{{"pushAddress", udp.address()}}.dump(), "application/merge-patch+json")
                .status,
            200);
  auto drf = std::make_shared<DrfService>(*store, sender, ds, t.fn());
  BootstrapRequest first;
  first.actor = "operator";
  ASSERT_TRUE(drf->bootstrap(kDev, first).has_value());  // the initial provisioning's bootstrap
  ASSERT_TRUE(udp.receive().has_value());
  router->set_drf(drf);
  EXPECT_EQ(router->operator_changes()->resume(), 1u);
  auto pushed = udp.receive();
  ASSERT_TRUE(pushed.has_value());
  EXPECT_EQ(router->operator_changes()->resume(), 0u);

  // The push is lost: while the device has not used it, the same bytes go out again every
  // rebootstrap_resend_seconds (120 s), at most 10 sends in all — never new credentials.
  const auto pending = store->get_device(kDev)->pending_dm;
  ASSERT_TRUE(pending.has_value());
  t += 119;
  EXPECT_EQ(router->operator_changes()->resume(), 0u);
  EXPECT_FALSE(udp.receive(std::chrono::milliseconds(50)).has_value());
  int sends = 1;
  for (int i = 0; i < 12; ++i) {
    t += 121;
    const std::size_t n = router->operator_changes()->resume();
    if (n == 0) break;
    auto again = udp.receive();
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*again, *pushed) << "the same push, the same credentials";
    ++sends;
  }
  EXPECT_EQ(sends, 10);
  EXPECT_EQ(store->get_device(kDev)->pending_dm->client_password, pending->client_password);
  const std::string path = "/api/v1/operator-changes/" + std::to_string(js(r)["id"].get<std::int64_t>());
  EXPECT_EQ(js(call("GET", path, kAdmin))["state"], "pristine");

  // The change's window (its TTL since the reset, 7 days by default) passes: it fails and the
  // new SHO is told; nothing is pushed any more.
  ASSERT_EQ(call("PUT", "/api/v1/callback", new_token, json{{"url", "https://new.example/cb"}}.dump()).status, 200);
  t += 8 * 24 * 3600;
  EXPECT_EQ(router->operator_changes()->resume(), 0u);
  EXPECT_EQ(js(call("GET", path, kAdmin))["state"], "failed");
  bool told = false;
  auto due = store->due_callbacks(t + 3600, 100);  // queued at the test clock's time
  ASSERT_TRUE(due.has_value());
  for (const auto& e : *due) {
    const auto cb = json::parse(e.body);
    told = told || (e.sho_id == new_id && cb["event"] == "operator_change.failed" &&
                    cb["reason"].get<std::string>().find("re-bootstrap") != std::string::npos);
  }
  EXPECT_TRUE(told);
  EXPECT_EQ(router->operator_changes()->resume(), 0u);
}


// --- the subscriber: the device's owner (seed 004 "M2ME U/S")

struct SubscriberApi : OperatorChangeApi {
  std::int64_t owner_id = 0, stranger_id = 0;
  std::string owner_token, stranger_token;

  void SetUp() override {
    OperatorChangeApi::SetUp();
    ASSERT_TRUE(mo::issue_test_subscriber(pki, "owner.example").has_value());
    ASSERT_TRUE(mo::issue_test_subscriber(pki, "stranger.example").has_value());
    ApiOptions o;
    o.admin_token_hash = hash_token(kAdmin);
    o.sho_anchors = *mo::TrustAnchors::from_pem(test::slurp(pki / "sho-ca.pem"), mo::AnchorKind::test);
    o.subscriber_anchors = *mo::TrustAnchors::from_pem(test::slurp(pki / "subscriber-ca.pem"), mo::AnchorKind::test);
    router = std::make_unique<ApiRouter>(*store, pva, o, t.fn());
    std::tie(owner_id, owner_token) = make_subscriber("owner.example");
    std::tie(stranger_id, stranger_token) = make_subscriber("stranger.example");
  }

  std::pair<std::int64_t, std::string> make_subscriber(const std::string& name) {
    auto r = call("POST", "/api/v1/subscribers", kAdmin, json{{"name", name}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    auto j = js(r);
    return {j["id"].get<std::int64_t>(), j["token"].get<std::string>()};
  }
  HttpResponse assign(std::int64_t subscriber, const json& dev_ids) {
    return call("POST", "/api/v1/subscribers/" + std::to_string(subscriber) + "/devices", kAdmin,
                json{{"devIds", dev_ids}}.dump());
  }
  Bytes by_subscriber(mo::ChangeToken tk, const std::string& name) {
    tk.by = mo::ChangeAuthoriser::subscriber;
    tk.subscriber = name;
    return signed_by_files(tk, pki / "subscribers" / name / "subscriber-cert.pem",
                           pki / "subscribers" / name / "subscriber-key.pem");
  }
  Bytes signed_by_files(const mo::ChangeToken& tk, const std::filesystem::path& cert, const std::filesystem::path& key) {
    auto s = mo::sign_change_token(tk, cert_at(cert), key_at(key));
    EXPECT_TRUE(s.has_value()) << s.error().message();
    return s ? *s : Bytes{};
  }
  bool audited(const std::string& action, const std::string& actor) {
    auto audit = store->list_audit(100);
    if (!audit) return false;
    for (const auto& e : *audit)
      if (e.action == action && e.actor == actor) return true;
    return false;
  }
};

TEST_F(SubscriberApi, TheOperatorCreatesSubscribersAndAssignsTheirDevices) {
  EXPECT_EQ(call("POST", "/api/v1/subscribers", kAdmin, json{{"name", "owner.example"}}.dump()).status, 409);
  EXPECT_EQ(call("POST", "/api/v1/subscribers", kAdmin, json{{"name", "has:colon"}}.dump()).status, 400);
  EXPECT_EQ(call("POST", "/api/v1/subscribers", kAdmin, json{{"name", "x"}, {"extra", 1}}.dump()).status, 400);
  EXPECT_EQ(call("POST", "/api/v1/subscribers", old_token, json{{"name", "mine"}}.dump()).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/subscribers", owner_token, json{{"name", "mine"}}.dump()).status, 403);
  auto list = js(call("GET", "/api/v1/subscribers", kAdmin));
  ASSERT_EQ(list["subscribers"].size(), 2u);
  EXPECT_EQ(list["subscribers"][0]["name"], "owner.example");
  EXPECT_FALSE(list["subscribers"][0].contains("token"));  // shown once, at creation

  // An unknown DevId assigns nothing (one transaction); a DevId twice is a 400.
  EXPECT_EQ(assign(owner_id, json::array({kDev, "IMEI:000000000000000"})).status, 404);
  EXPECT_FALSE(store->get_device(kDev)->subscriber_id.has_value());
  EXPECT_EQ(assign(owner_id, json::array({kDev, kDev})).status, 400);
  EXPECT_EQ(assign(999, json::array({kDev})).status, 404);
  auto r = assign(owner_id, json::array({kDev}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(js(r)["changed"], 1);
  EXPECT_EQ(js(assign(owner_id, json::array({kDev})))["changed"], 0);
  EXPECT_TRUE(audited("subscriber.assign", "operator"));

  // The subscriber sees its device (and its PfC, which it gives a new SHO), nobody else's.
  auto mine = js(call("GET", "/api/v1/devices", owner_token));
  ASSERT_EQ(mine["devices"].size(), 1u);
  EXPECT_EQ(mine["devices"][0]["devId"], kDev);
  EXPECT_EQ(mine["devices"][0]["subscriberId"], owner_id);
  EXPECT_EQ(call("GET", "/api/v1/devices/" + std::string(kDev), owner_token).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/devices/" + std::string(kDev) + "/pfc", owner_token).status, 200);
  EXPECT_EQ(js(call("GET", "/api/v1/devices", stranger_token))["devices"].size(), 0u);
  EXPECT_EQ(call("GET", "/api/v1/devices/" + std::string(kDev), stranger_token).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/devices/" + std::string(kDev) + "/jobs", stranger_token).status, 404);
  EXPECT_TRUE(audited("device.refused", "subscriber:" + std::to_string(stranger_id)));
  auto of_owner = js(call("GET", "/api/v1/subscribers/" + std::to_string(owner_id) + "/devices", kAdmin));
  EXPECT_EQ(of_owner["devices"].size(), 1u);
  // What stays with the operator and the SHO.
  EXPECT_EQ(call("PATCH", "/api/v1/devices/" + std::string(kDev), owner_token, json{{"pushAddress", "udp:127.0.0.1:1"}}.dump())
                .status,
            403);
  EXPECT_EQ(call("POST", "/api/v1/devices/" + std::string(kDev) + "/bootstrap", owner_token, "{}").status, 403);
  EXPECT_EQ(request(by_old_sho(token()), owner_token).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/shos", owner_token).status, 403);

  // Removing the device from the subscriber.
  EXPECT_EQ(call("DELETE", "/api/v1/subscribers/" + std::to_string(stranger_id) + "/devices/" + std::string(kDev), kAdmin)
                .status,
            404);
  EXPECT_EQ(call("DELETE", "/api/v1/subscribers/" + std::to_string(owner_id) + "/devices/" + std::string(kDev), kAdmin)
                .status,
            200);
  EXPECT_FALSE(store->get_device(kDev)->subscriber_id.has_value());
  EXPECT_EQ(call("GET", "/api/v1/devices/" + std::string(kDev), owner_token).status, 404);
}

TEST_F(SubscriberApi, TheSubscriberAloneChoosesTheActiveMcim) {
  const std::string jobs = "/api/v1/devices/" + std::string(kDev) + "/jobs";
  const std::string activate =
      json{{"kind", "activate"}, {"object", base64_encode(as_bytes("mcim-2"))}, {"authorisation", "owner"}}.dump();
  const std::string install =
      json{{"kind", "install"}, {"object", base64_encode(as_bytes("sealed"))}, {"authorisation", "x"}}.dump();
  // Without a subscriber, the SHO chooses.
  EXPECT_EQ(call("POST", jobs, old_token, activate).status, 202);
  ASSERT_EQ(assign(owner_id, json::array({kDev})).status, 200);
  auto refused = call("POST", jobs, old_token, activate);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("subscriber"), std::string::npos);
  EXPECT_EQ(call("POST", jobs, owner_token, install).status, 403);
  auto r = call("POST", jobs, owner_token, activate);
  ASSERT_EQ(r.status, 202) << r.body;
  const auto job = js(r);
  EXPECT_EQ(job["shoId"], old_id);  // runs in the SHO's name: its results reach the SHO too
  EXPECT_EQ(job["kind"], "activate");
  // The SHO still installs; the subscriber reads every job of its device, cancels only its choices.
  auto installed = call("POST", jobs, old_token, install);
  ASSERT_EQ(installed.status, 202) << installed.body;
  const std::string install_path = "/api/v1/jobs/" + std::to_string(js(installed)["id"].get<std::int64_t>());
  EXPECT_EQ(call("GET", install_path, owner_token).status, 200);
  EXPECT_EQ(call("GET", install_path, stranger_token).status, 404);
  EXPECT_EQ(call("DELETE", install_path, owner_token).status, 403);
  EXPECT_EQ(js(call("GET", jobs, owner_token))["jobs"].size(), 3u);
  EXPECT_EQ(call("DELETE", "/api/v1/jobs/" + std::to_string(job["id"].get<std::int64_t>()), owner_token).status, 200);
}

TEST_F(SubscriberApi, ADeviceWithASubscriberMovesOnlyOnItsSubscribersWord) {
  ASSERT_EQ(assign(owner_id, json::array({kDev})).status, 200);
  // The old SHO's token no longer moves the device; nor does another subscriber's.
  for (const Bytes& tok : {by_old_sho(token("10000000000000000000000000000001")),
                           by_subscriber(token("10000000000000000000000000000002"), "stranger.example")}) {
    auto r = request(tok, new_token);
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(js(r)["resultCode"], 1412);
  }
  EXPECT_EQ(job_count(), 0u);
  // The subscriber's own token does.
  auto r = request(by_subscriber(token(), "owner.example"), new_token);
  ASSERT_EQ(r.status, 202) << r.body;
  const std::int64_t id = js(r)["id"];
  EXPECT_EQ(job_count(), 1u);
  // The subscriber follows the change it authorised: both SHOs and the outcome, not the old SHO's data.
  auto seen = js(call("GET", "/api/v1/operator-changes/" + std::to_string(id), owner_token));
  EXPECT_EQ(seen["fromSho"], old_id);
  EXPECT_EQ(seen["toSho"], new_id);
  EXPECT_FALSE(seen.contains("discardDetail"));
  EXPECT_EQ(js(call("GET", "/api/v1/devices/" + std::string(kDev) + "/operator-changes", owner_token))["operatorChanges"].size(),
            1u);
  EXPECT_EQ(call("GET", "/api/v1/operator-changes/" + std::to_string(id), stranger_token).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/devices/" + std::string(kDev) + "/operator-changes", stranger_token).status, 404);
}

TEST_F(OperatorChangeApi, ASubscribersDeviceCannotChangeWithoutTheSubscriberAnchors) {
  // This fixture's RO has no subscriber trust anchors configured.
  ASSERT_TRUE(mo::issue_test_subscriber(pki, "owner.example").has_value());
  auto s = call("POST", "/api/v1/subscribers", kAdmin, json{{"name", "owner.example"}}.dump());
  ASSERT_EQ(s.status, 201);
  ASSERT_EQ(call("POST", "/api/v1/subscribers/" + std::to_string(js(s)["id"].get<std::int64_t>()) + "/devices", kAdmin,
                 json{{"devIds", {kDev}}}.dump())
                .status,
            200);
  auto r = request(by_old_sho(token()), new_token);
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(job_count(), 0u);
}

}  // namespace
}  // namespace m2mdm::server
