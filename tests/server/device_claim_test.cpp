// Issue 14 finding 5: an SHO can neither learn about nor pre-empt another SHO's device.
// A real RoServer on 127.0.0.1 (HTTP over loopback, real SQLite): the import answers the same for
// a DevId/PCID another SHO holds as for an unknown one and changes nothing of the other device;
// the operator's registry + POST /api/v1/devices:claim (device PIN) gives the rightful SHO its
// device; a refused claim is one answer whatever the reason (unknown, wrong PIN, another SHO's),
// audited, and failed claims are throttled per SHO.
#include "m2mdm/server/callback_worker.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/ro_server.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

namespace m2mdm::server {
namespace {
using json = nlohmann::json;
using namespace std::chrono_literals;

struct Answer {
  int status = 0;
  std::string body;
};

struct Claims : ::testing::Test {
  test::TempDir dir;
  std::unique_ptr<RoServer> server;

  void start(int max_failures = 1000, std::int64_t window_seconds = 3600) {
    ServerConfig c;
    c.listen_port = 0;
    c.threads = 1;
    c.state_dir = dir.path() / "state";
    c.log_level = "warn";
    c.claim_max_failures = max_failures;
    c.claim_window_seconds = window_seconds;
    std::string why;
    auto s = RoServer::start(c, why);
    ASSERT_TRUE(s) << why;
    server = std::move(*s);
  }
  void SetUp() override { start(); }
  void TearDown() override {
    if (server) server->stop();
  }

  Answer call(const std::string& method, const std::string& path, const std::string& token,
              const std::string& body = {}) {
    HttpCall c;
    c.method = method;
    c.url = server->url() + path;
    c.headers = {{"Authorization", "Bearer " + token}};
    if (!body.empty()) c.content_type = "application/json";
    c.body = body;
    auto r = http_call(c, {}, 5000ms);
    EXPECT_TRUE(r.error.empty()) << r.error;
    return {r.status, r.body};
  }
  std::string admin() const { return server->admin_token(); }
  std::pair<std::int64_t, std::string> make_sho(const std::string& name) {
    auto r = call("POST", "/api/v1/shos", admin(), json{{"name", name}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    auto j = json::parse(r.body);
    return {j["id"].get<std::int64_t>(), j["token"].get<std::string>()};
  }
  Answer import(const std::string& token, const json& devices) {
    return call("POST", "/api/v1/devices:import", token, devices.dump());
  }
  Answer claim(const std::string& token, const std::string& dev_id, const std::string& pin) {
    return call("POST", "/api/v1/devices:claim", token, json{{"devId", dev_id}, {"devicePin", pin}}.dump());
  }
  std::size_t audited(const std::string& action, const std::string& actor, const std::string& subject,
                      const std::string& detail_part = {}) {
    auto log = server->store().list_audit(1000);
    EXPECT_TRUE(log);
    if (!log) return 0;
    return static_cast<std::size_t>(std::ranges::count_if(*log, [&](const AuditEntry& e) {
      return e.action == action && e.actor == actor && e.subject == subject &&
             e.detail.find(detail_part) != std::string::npos;
    }));
  }
};

json dev(const std::string& id, const std::string& pcid, const std::string& pin = "8372") {
  return json{{"devId", id}, {"pcid", pcid}, {"devicePin", pin}};
}

// The oracle: importing a DevId or a PCID another SHO holds answers exactly what importing an
// unknown one answers (first import, re-import, changed re-import), and the other SHO's device
// is left as it was.
TEST_F(Claims, ImportAnswersTheSameForAnotherShosDeviceAsForAnUnknownOne) {
  const auto [a_id, a] = make_sho("sho-a");
  const auto [b_id, b] = make_sho("sho-b");
  ASSERT_EQ(import(a, json::array({dev("IMEI:1", "001010000000001", "1111")})).status, 200);

  // Foreign DevId vs unknown DevId.
  const auto foreign = import(b, json::array({dev("IMEI:1", "001010000000091", "9999")}));
  const auto unknown = import(b, json::array({dev("IMEI:2", "001010000000002", "9999")}));
  EXPECT_EQ(foreign.status, 200) << foreign.body;
  EXPECT_EQ(foreign.status, unknown.status);
  EXPECT_EQ(foreign.body, unknown.body);
  // Foreign PCID (IMEI:1's) under a new DevId vs an unknown PCID.
  const auto foreign_pcid = import(b, json::array({dev("IMEI:3", "001010000000001")}));
  const auto unknown_pcid = import(b, json::array({dev("IMEI:4", "001010000000004")}));
  EXPECT_EQ(foreign_pcid.status, unknown_pcid.status);
  EXPECT_EQ(foreign_pcid.body, unknown_pcid.body);
  // Re-importing the same, then changed data: the same counts either way.
  for (const std::string pin : {"9999", "7777"}) {
    const auto f = import(b, json::array({dev("IMEI:1", "001010000000091", pin)}));
    const auto u = import(b, json::array({dev("IMEI:2", "001010000000002", pin)}));
    EXPECT_EQ(f.status, u.status) << pin;
    EXPECT_EQ(f.body, u.body) << pin;
  }
  EXPECT_EQ(json::parse(import(b, json::array({dev("IMEI:1", "001010000000091", "7777")})).body)["unchanged"], 1);
  // A PCID conflict among what B itself imported is refused as it would be without A.
  const auto own_conflict_f = import(b, json::array({dev("IMEI:5", "001010000000091")}));
  const auto own_conflict_u = import(b, json::array({dev("IMEI:6", "001010000000002")}));
  EXPECT_EQ(own_conflict_f.status, 409);
  EXPECT_EQ(own_conflict_f.status, own_conflict_u.status);
  EXPECT_EQ(own_conflict_f.body, own_conflict_u.body);

  // Nothing of A's device changed; B holds only what nobody else held.
  auto one = server->store().get_device("IMEI:1");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->sho_id, a_id);
  EXPECT_EQ(one->pcid, "001010000000001");
  EXPECT_EQ(one->device_pin, (Bytes{0x31, 0x31, 0x31, 0x31}));
  EXPECT_EQ(server->store().get_device("IMEI:2")->sho_id, b_id);
  EXPECT_EQ(server->store().get_device("IMEI:4")->sho_id, b_id);
  EXPECT_EQ(server->store().get_device("IMEI:3").error(), make_error_code(errc::not_found));
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:1", a).status, 200);
  // Every import of a device held elsewhere is in the operator's audit log.
  EXPECT_EQ(audited("device.refused", "sho:" + std::to_string(b_id), "IMEI:1", "import: DevId of another SHO"), 4u);
  EXPECT_EQ(audited("device.refused", "sho:" + std::to_string(b_id), "IMEI:3", "import: PCID of another device"), 1u);
}

// Squatting: whoever imports first does not keep the device from its rightful SHO. A device the
// operator registered (no SHO) is not taken by an SHO's import; the SHO with the PIN claims it.
// A DevId an SHO imported before the operator registered it goes back to the registry when the
// operator re-imports it without shoId, and the rightful SHO claims it.
TEST_F(Claims, TheRightfulShoStillGetsItsDevice) {
  const auto [a_id, a] = make_sho("sho-rightful");
  const auto [s_id, squatter] = make_sho("sho-squatter");
  // Registered by the operator (from the factory), no SHO yet.
  ASSERT_EQ(import(admin(), json::array({dev("IMEI:7", "001010000000007", "8372")})).status, 200);
  const auto squat = import(squatter, json::array({dev("IMEI:7", "001010000000007", "0000")}));
  ASSERT_EQ(squat.status, 200) << squat.body;
  EXPECT_EQ(json::parse(squat.body)["inserted"], 1);
  EXPECT_FALSE(server->store().get_device("IMEI:7")->sho_id);  // not taken
  EXPECT_EQ(claim(squatter, "IMEI:7", "0000").status, 404);   // its own PIN proves nothing
  const auto mine = claim(a, "IMEI:7", "8372");
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(json::parse(mine.body)["shoId"], a_id);
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:7", a).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:7", squatter).status, 404);

  // Imported by the squatter before the operator knew it.
  ASSERT_EQ(import(squatter, json::array({dev("IMEI:8", "001010000000008", "0000")})).status, 200);
  const auto late = import(a, json::array({dev("IMEI:8", "001010000000008", "8372")}));
  EXPECT_EQ(late.status, 200) << late.body;  // no 409: the answer reveals nothing
  EXPECT_EQ(server->store().get_device("IMEI:8")->sho_id, s_id);
  // The operator re-states the factory record (no SHO): back in the registry, the PIN is the real one.
  ASSERT_EQ(import(admin(), json::array({dev("IMEI:8", "001010000000008", "8372")})).status, 200);
  ASSERT_EQ(claim(a, "IMEI:8", "8372").status, 200);
  EXPECT_EQ(server->store().get_device("IMEI:8")->sho_id, a_id);
  // A's import of IMEI:8 (kept as its shadow while the squatter held it) was dropped by the claim:
  // its next import updates the device itself.
  ASSERT_EQ(import(a, json::array({dev("IMEI:8", "001010000000008", "8372")})).status, 200);
  EXPECT_EQ(server->store().get_device("IMEI:8")->sho_id, a_id);
}

TEST_F(Claims, AClaimWithTheDevicePinGivesTheDeviceToTheSho) {
  const auto [a_id, a] = make_sho("sho-a");
  ASSERT_EQ(import(admin(), json::array({dev("IMEI:10", "001010000000010", "482913")})).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:10", a).status, 404);
  const auto r = claim(a, "IMEI:10", "482913");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = json::parse(r.body);
  EXPECT_EQ(j["devId"], "IMEI:10");
  EXPECT_EQ(j["shoId"], a_id);
  EXPECT_FALSE(j.contains("devicePin"));
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:10", a).status, 200);
  EXPECT_EQ(claim(a, "IMEI:10", "482913").status, 200);  // idempotent
  EXPECT_EQ(audited("device.claim", "sho:" + std::to_string(a_id), "IMEI:10"), 2u);
  // Strict body: unknown members, missing proof.
  EXPECT_EQ(call("POST", "/api/v1/devices:claim", a, R"({"devId":"IMEI:10"})").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/devices:claim", a, R"({"devId":"IMEI:10","devicePin":"1","x":1})").status, 400);
  // Only an SHO claims.
  EXPECT_EQ(call("POST", "/api/v1/devices:claim", admin(), R"({"devId":"IMEI:10","devicePin":"482913"})").status, 403);
}

TEST_F(Claims, AClaimWithAWrongPinIsRefusedAndAudited) {
  const auto [a_id, a] = make_sho("sho-a");
  ASSERT_EQ(import(admin(), json::array({dev("IMEI:11", "001010000000011", "482913")})).status, 200);
  const auto r = claim(a, "IMEI:11", "482914");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_FALSE(server->store().get_device("IMEI:11")->sho_id);
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:11", a).status, 404);
  EXPECT_EQ(audited("device.refused", "sho:" + std::to_string(a_id), "IMEI:11", "claim: wrong device PIN"), 1u);
}

// A claim of another SHO's device (even with its right PIN), of an unknown DevId, with a wrong PIN
// or of a device with no PIN on record: one status, one body, and nothing changes.
TEST_F(Claims, AClaimOfAnotherShosDeviceIsAnsweredLikeAnUnknownOne) {
  const auto [a_id, a] = make_sho("sho-a");
  const auto [b_id, b] = make_sho("sho-b");
  ASSERT_EQ(import(admin(), json::array({dev("IMEI:12", "001010000000012", "482913"),
                                         json{{"devId", "IMEI:13"}, {"pcid", "001010000000013"}}})).status,
            200);
  ASSERT_EQ(claim(a, "IMEI:12", "482913").status, 200);
  const std::vector<Answer> refusals = {claim(b, "IMEI:12", "482913"), claim(b, "IMEI:12", "000000"),
                                        claim(b, "IMEI:99", "482913"), claim(b, "IMEI:13", "482913"),
                                        claim(a, "IMEI:12", "000000")};
  for (const auto& r : refusals) {
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.status, refusals[0].status);
    EXPECT_EQ(r.body, refusals[0].body);
  }
  EXPECT_EQ(server->store().get_device("IMEI:12")->sho_id, a_id);
  const std::string actor_b = "sho:" + std::to_string(b_id);
  EXPECT_EQ(audited("device.refused", actor_b, "IMEI:12", "claim: device of another SHO (PIN right)"), 1u);
  EXPECT_EQ(audited("device.refused", actor_b, "IMEI:99", "claim: no such device"), 1u);
  EXPECT_EQ(audited("device.refused", actor_b, "IMEI:13", "claim: no device PIN on record"), 1u);
}

// Brute force of a PIN: after max_failures refused claims in the window every claim of that SHO
// is 429 (Retry-After), even with the right PIN; other SHOs are not affected; the window ends.
TEST_F(Claims, FailedClaimsAreThrottledPerSho) {
  server->stop();
  server.reset();
  start(3, 4);
  const auto [a_id, a] = make_sho("sho-a");
  const auto [b_id, b] = make_sho("sho-b");
  ASSERT_EQ(import(admin(), json::array({dev("IMEI:14", "001010000000014", "482913"),
                                         dev("IMEI:15", "001010000000015", "111111")})).status,
            200);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(claim(a, "IMEI:14", "00000" + std::to_string(i)).status, 404);
  HttpCall c;
  c.method = "POST";
  c.url = server->url() + "/api/v1/devices:claim";
  c.headers = {{"Authorization", "Bearer " + a}};
  c.content_type = "application/json";
  c.body = R"({"devId":"IMEI:14","devicePin":"482913"})";
  const auto throttled = http_call(c, {}, 5000ms);
  EXPECT_EQ(throttled.status, 429) << throttled.body;
  EXPECT_FALSE(server->store().get_device("IMEI:14")->sho_id);
  EXPECT_EQ(claim(b, "IMEI:15", "111111").status, 200);  // B has its own budget
  std::this_thread::sleep_for(4100ms);
  EXPECT_EQ(claim(a, "IMEI:14", "482913").status, 200);
  EXPECT_EQ(server->store().get_device("IMEI:14")->sho_id, a_id);
}

// The refusals do the same work: the median time of a claim of another SHO's device, of an unknown
// DevId and with a wrong PIN stay within a factor of two of each other (interleaved, in-process:
// no network jitter; the absolute numbers are printed).
TEST_F(Claims, RefusedClaimsTakeTheSameTime) {
  const auto [a_id, a] = make_sho("sho-a");
  const auto b = make_sho("sho-b").second;
  (void)a_id;
  ASSERT_EQ(import(admin(), json::array({dev("IMEI:16", "001010000000016", "482913"),
                                         dev("IMEI:17", "001010000000017", "482913")})).status,
            200);
  ASSERT_EQ(claim(a, "IMEI:16", "482913").status, 200);
  const std::vector<std::string> bodies = {R"({"devId":"IMEI:16","devicePin":"482913"})",   // another SHO's
                                           R"({"devId":"IMEI:404","devicePin":"482913"})",  // unknown
                                           R"({"devId":"IMEI:17","devicePin":"000000"})"};  // wrong PIN
  std::vector<std::vector<double>> us(bodies.size());
  for (int round = 0; round < 150; ++round) {
    for (std::size_t k = 0; k < bodies.size(); ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = test::api_call(server->router(), "POST", "/api/v1/devices:claim", b, bodies[k]);
      const auto t1 = std::chrono::steady_clock::now();
      ASSERT_EQ(r.status, 404);
      us[k].push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
  }
  std::vector<double> medians;
  for (auto& v : us) {
    std::ranges::sort(v);
    medians.push_back(v[v.size() / 2]);
  }
  std::cout << "claim refusal medians (us): another SHO's " << medians[0] << ", unknown " << medians[1]
            << ", wrong PIN " << medians[2] << "\n";
  const auto [lo, hi] = std::ranges::minmax(medians);
  EXPECT_LT(hi, 2 * lo);
}

}  // namespace
}  // namespace m2mdm::server
