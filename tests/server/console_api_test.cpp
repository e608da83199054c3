// The REST queries the web console pages through (docs/console.md "API queries") and the
// console's static assets, through ApiRouter::handle on a real SQLite store: who may call each
// query, what each role sees, the filters, server-side paging (after/limit/next), the job retry,
// and the assets' media types, ETag/304 and Content-Security-Policy.
#include "m2mdm/server/api.hpp"
#include "m2mdm/server/error.hpp"
#include "rest_api_test.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>

namespace m2mdm::server {
namespace {
using json = nlohmann::json;
using test::open_store;
using test::TempDir;

const std::string& kAdmin = test::kAdminToken;
const std::string& kVno = test::kVnoToken;

struct ConsoleApi : test::RestApiTest {
  std::int64_t a_id = 0, b_id = 0;
  std::string a, b;

  void SetUp() override {
    test::RestApiTest::SetUp();
    std::tie(a_id, a) = make_sho("sho-a");
    std::tie(b_id, b) = make_sho("sho-b");
  }

  /// Imports devices IMEI:<first>..IMEI:<last> (PCIDs 00101000000<n>) as @p token's.
  void import_range(const std::string& token, int first, int last) {
    json arr = json::array();
    for (int i = first; i <= last; ++i) {
      char pcid[32];
      std::snprintf(pcid, sizeof pcid, "0010100000%05d", i);
      arr.push_back({{"devId", "IMEI:" + std::to_string(i)}, {"pcid", pcid}});
    }
    auto r = call("POST", "/api/v1/devices:import", token, arr.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }

  std::int64_t submit(const std::string& token, const std::string& dev, const std::string& kind = "deactivate") {
    auto r = call("POST", "/api/v1/devices/" + dev + "/jobs", token,
                  json{{"kind", kind}, {"object", base64_encode(as_bytes(std::string("MCIM1")))}, {"authorisation", "auth"}}
                      .dump());
    EXPECT_EQ(r.status, 202) << r.body;
    return r.status == 202 ? js(r)["id"].get<std::int64_t>() : 0;
  }

  static std::vector<std::string> dev_ids(const json& j) {
    std::vector<std::string> out;
    for (const auto& d : j["devices"]) out.push_back(d["devId"]);
    return out;
  }
};

TEST_F(ConsoleApi, WhoamiNamesTheRoleOfEveryToken) {
  EXPECT_EQ(js(call("GET", "/api/v1/whoami", kAdmin))["role"], "operator");
  EXPECT_EQ(js(call("GET", "/api/v1/whoami", kVno))["role"], "vno");
  auto r = call("GET", "/api/v1/whoami", a);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(js(r)["role"], "sho");
  EXPECT_EQ(js(r)["shoId"], a_id);
  EXPECT_EQ(js(r)["name"], "sho-a");
  auto s = call("POST", "/api/v1/subscribers", kAdmin, R"({"name":"owner.example"})");
  ASSERT_EQ(s.status, 201) << s.body;
  r = call("GET", "/api/v1/whoami", js(s)["token"].get<std::string>());
  EXPECT_EQ(js(r)["role"], "subscriber");
  EXPECT_EQ(js(r)["name"], "owner.example");
  EXPECT_EQ(call("GET", "/api/v1/whoami", "not-a-token").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/whoami").status, 401);
}

TEST_F(ConsoleApi, DeviceListingSearchFiltersAndPagesPerRole) {
  import_range(a, 10, 14);  // IMEI:10..14 are A's
  import_range(b, 20, 21);  // IMEI:20..21 are B's
  // The operator sees every device (before this change: 403), or one SHO's with ?shoId=.
  auto r = call("GET", "/api/v1/devices", kAdmin);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(js(r)["devices"].size(), 7u);
  EXPECT_FALSE(js(r).contains("next"));
  r = call("GET", "/api/v1/devices?shoId=" + std::to_string(b_id), kAdmin);
  EXPECT_EQ(dev_ids(js(r)), (std::vector<std::string>{"IMEI:20", "IMEI:21"}));
  EXPECT_EQ(call("GET", "/api/v1/devices?shoId=x", kAdmin).status, 400);
  EXPECT_EQ(call("GET", "/api/v1/devices?shoId=" + std::to_string(b_id), a).status, 400);  // the operator's filter
  EXPECT_EQ(call("GET", "/api/v1/devices", kVno).status, 403);

  // An SHO: its own only, page by page (next = the last DevId of a full page).
  r = call("GET", "/api/v1/devices?limit=2", a);
  EXPECT_EQ(dev_ids(js(r)), (std::vector<std::string>{"IMEI:10", "IMEI:11"}));
  ASSERT_EQ(js(r)["next"], "IMEI:11");
  r = call("GET", "/api/v1/devices?limit=2&after=IMEI:11", a);
  EXPECT_EQ(dev_ids(js(r)), (std::vector<std::string>{"IMEI:12", "IMEI:13"}));
  r = call("GET", "/api/v1/devices?limit=2&after=IMEI:13", a);
  EXPECT_EQ(dev_ids(js(r)), (std::vector<std::string>{"IMEI:14"}));
  EXPECT_FALSE(js(r).contains("next"));

  // q: a DevId prefix ...
  r = call("GET", "/api/v1/devices?q=IMEI:1", a);
  EXPECT_EQ(js(r)["devices"].size(), 5u);
  r = call("GET", "/api/v1/devices?q=IMEI:12", a);
  EXPECT_EQ(dev_ids(js(r)), (std::vector<std::string>{"IMEI:12"}));
  // ... or a PCID (IMSI) in full, within what the caller may see.
  r = call("GET", "/api/v1/devices?q=001010000000013", a);
  EXPECT_EQ(dev_ids(js(r)), (std::vector<std::string>{"IMEI:13"}));
  EXPECT_EQ(js(call("GET", "/api/v1/devices?q=001010000000013", b))["devices"].size(), 0u);  // not B's
  EXPECT_EQ(js(call("GET", "/api/v1/devices?q=IMEI:2", a))["devices"].size(), 0u);
  EXPECT_EQ(dev_ids(js(call("GET", "/api/v1/devices?q=001010000000020", kAdmin))), (std::vector<std::string>{"IMEI:20"}));
  EXPECT_EQ(call("GET", "/api/v1/devices?q=" + std::string(300, 'x'), a).status, 400);

  // state.
  ASSERT_TRUE(store->set_device_state("IMEI:12", DeviceState::provisioned, t));
  ASSERT_TRUE(store->set_device_state("IMEI:20", DeviceState::provisioned, t));
  r = call("GET", "/api/v1/devices?state=provisioned", a);
  EXPECT_EQ(dev_ids(js(r)), (std::vector<std::string>{"IMEI:12"}));
  r = call("GET", "/api/v1/devices?state=provisioned", kAdmin);
  EXPECT_EQ(dev_ids(js(r)), (std::vector<std::string>{"IMEI:12", "IMEI:20"}));
  EXPECT_EQ(js(call("GET", "/api/v1/devices?state=imported&q=IMEI:12", a))["devices"].size(), 0u);
  EXPECT_EQ(call("GET", "/api/v1/devices?state=sleeping", a).status, 400);
  EXPECT_EQ(call("GET", "/api/v1/devices?limit=0", a).status, 400);
}

TEST_F(ConsoleApi, APcidMatchKeepsThePageInDevIdOrderAndWithinItsLimit) {
  // q = "001010000000001" is the DevId prefix of X:a and X:b (X = q) and the PCID of 0-0 (before
  // them in DevId order: "0-" < "00").
  const std::string q = "001010000000001";
  auto r = call("POST", "/api/v1/devices:import", a,
                json::array({{{"devId", q + ":a"}, {"pcid", "002"}}, {{"devId", q + ":b"}, {"pcid", "003"}},
                             {{"devId", "0-0"}, {"pcid", q}}, {{"devId", "B:0"}, {"pcid", "004"}}})
                    .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  r = call("GET", "/api/v1/devices?limit=2&q=" + q, a);
  EXPECT_EQ(dev_ids(js(r)), (std::vector<std::string>{"0-0", q + ":a"}));  // in DevId order, 2 at most
  ASSERT_EQ(js(r)["next"], q + ":a");
  r = call("GET", "/api/v1/devices?limit=2&q=" + q + "&after=" + q + ":a", a);
  EXPECT_EQ(dev_ids(js(r)), (std::vector<std::string>{q + ":b"}));  // the PCID match is not repeated
  EXPECT_FALSE(js(r).contains("next"));
}

TEST_F(ConsoleApi, JobListingsPageAndRetryQueuesAFailedJobAgain) {
  import_range(a, 1, 2);
  import_range(b, 3, 3);
  const auto j1 = submit(a, "IMEI:1"), j2 = submit(a, "IMEI:1"), j3 = submit(a, "IMEI:2"), j4 = submit(b, "IMEI:3");
  // A device's jobs, oldest first, paged by id.
  auto r = call("GET", "/api/v1/devices/IMEI:1/jobs?limit=1", a);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(js(r)["jobs"].size(), 1u);
  EXPECT_EQ(js(r)["jobs"][0]["id"], j1);
  ASSERT_EQ(js(r)["next"], j1);
  r = call("GET", "/api/v1/devices/IMEI:1/jobs?limit=1&after=" + std::to_string(j1), a);
  EXPECT_EQ(js(r)["jobs"][0]["id"], j2);
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:1/jobs?after=x", a).status, 400);
  // Jobs across devices, newest first: an SHO its own, the operator all; a subscriber not at all.
  r = call("GET", "/api/v1/jobs", a);
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::int64_t> ids;
  const json listed = js(r);  // (a range-for over js(r)[...] would outlive the temporary)
  for (const auto& j : listed["jobs"]) ids.push_back(j["id"]);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{j3, j2, j1}));
  r = call("GET", "/api/v1/jobs?limit=2", kAdmin);
  EXPECT_EQ(js(r)["jobs"][0]["id"], j4);
  ASSERT_EQ(js(r)["next"], j3);
  r = call("GET", "/api/v1/jobs?limit=2&after=" + std::to_string(j3), kAdmin);
  EXPECT_EQ(js(r)["jobs"][0]["id"], j2);
  EXPECT_EQ(js(r)["jobs"][1]["id"], j1);
  EXPECT_EQ(call("GET", "/api/v1/jobs?state=nope", a).status, 400);
  EXPECT_EQ(call("GET", "/api/v1/jobs", kVno).status, 403);

  // Retry: only a failed, expired or cancelled job, only by who may see it; a new job, queued.
  EXPECT_EQ(call("POST", "/api/v1/jobs/" + std::to_string(j2) + "/retry", a).status, 409);  // still queued
  ASSERT_EQ(call("DELETE", "/api/v1/jobs/" + std::to_string(j2), a).status, 200);
  EXPECT_EQ(js(call("GET", "/api/v1/jobs?state=cancelled", a))["jobs"].size(), 1u);
  // /metrics counts it too (the console's job outcome chart): every state, cancelled included.
  EXPECT_NE(call("GET", "/metrics").body.find("m2mdm_jobs{state=\"cancelled\"} 1\n"), std::string::npos);
  EXPECT_EQ(call("POST", "/api/v1/jobs/" + std::to_string(j2) + "/retry", b).status, 404);  // another SHO's
  r = call("POST", "/api/v1/jobs/" + std::to_string(j2) + "/retry", a);
  ASSERT_EQ(r.status, 202) << r.body;
  const auto again = js(r)["id"].get<std::int64_t>();
  EXPECT_GT(again, j4);
  EXPECT_EQ(js(r)["state"], "queued");
  EXPECT_EQ(js(r)["kind"], "deactivate");
  EXPECT_EQ(js(r)["devId"], "IMEI:1");
  EXPECT_EQ(r.header("Location").value_or(""), "/api/v1/jobs/" + std::to_string(again));
  EXPECT_NE(store->get_job(again)->correlator, store->get_job(j2)->correlator);
  EXPECT_EQ(store->get_job(again)->payload, store->get_job(j2)->payload);
  auto log = store->list_audit(1);
  ASSERT_TRUE(log && !log->empty());
  EXPECT_EQ((*log)[0].action, "job.retry");
  EXPECT_EQ((*log)[0].detail, "retry of job " + std::to_string(j2));
  // A succeeded job is not retried.
  ASSERT_TRUE(store->record_result(store->get_job(j1)->correlator, 200, "ok", t));
  EXPECT_EQ(call("POST", "/api/v1/jobs/" + std::to_string(j1) + "/retry", a).status, 409);
}

TEST_F(ConsoleApi, AuditLogIsTheOperatorsNewestFirstPageByPage) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->append_audit({0, t + i, "operator", "test.entry", std::to_string(i), ""}));
  auto r = call("GET", "/api/v1/audit?limit=2", kAdmin);
  ASSERT_EQ(r.status, 200) << r.body;
  auto page = js(r);
  ASSERT_EQ(page["audit"].size(), 2u);
  EXPECT_GT(page["audit"][0]["id"], page["audit"][1]["id"]);
  ASSERT_TRUE(page.contains("next"));
  std::set<std::int64_t> seen;
  for (auto after = page["next"]; !after.is_null();) {
    r = call("GET", "/api/v1/audit?limit=2&after=" + std::to_string(after.get<std::int64_t>()), kAdmin);
    ASSERT_EQ(r.status, 200);
    const json entries = js(r);
    for (const auto& e : entries["audit"]) {
      EXPECT_LT(e["id"], after);
      seen.insert(e["id"].get<std::int64_t>());
    }
    after = js(r).value("next", json());
  }
  EXPECT_GE(seen.size(), 3u);  // the rest of the log (the SHO creations are in it too)
  EXPECT_EQ(call("GET", "/api/v1/audit", a).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/audit", kVno).status, 403);
}

TEST_F(ConsoleApi, BootstrapHistoryAndCommandsOfOneVisibleDevice) {
  import_range(a, 1, 1);
  DmCredentials dm;
  dm.server_id = "dpf";
  for (int i = 0; i < 3; ++i) {
    BootstrapRecord rec{0, "IMEI:1", t + i, "sho:" + std::to_string(a_id), "USERPIN", "udp", i > 0, true};
    ASSERT_TRUE(store->record_bootstrap(rec, dm, dm, t + i));
  }
  auto r = call("GET", "/api/v1/devices/IMEI:1/bootstraps?limit=2", a);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = js(r);
  ASSERT_EQ(j["bootstraps"].size(), 2u);
  EXPECT_EQ(j["bootstraps"][0]["rebootstrap"], true);
  EXPECT_EQ(j["bootstraps"][0]["active"], true);  // the newest is the active one
  EXPECT_EQ(j["bootstraps"][1]["active"], false);
  r = call("GET", "/api/v1/devices/IMEI:1/bootstraps?after=" + std::to_string(j["next"].get<std::int64_t>()), a);
  ASSERT_EQ(js(r)["bootstraps"].size(), 1u);
  EXPECT_EQ(js(r)["bootstraps"][0]["rebootstrap"], false);
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:1/bootstraps", b).status, 404);  // another SHO's device
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:1/bootstraps", kAdmin).status, 200);

  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(call("POST", "/api/v1/devices/IMEI:1/commands", kAdmin,
                   R"({"commands":[{"verb":"Get","target":"./DevInfo/Mod"}]})")
                  .status,
              202);
  r = call("GET", "/api/v1/devices/IMEI:1/commands?limit=1", a);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(js(r)["commands"].size(), 1u);
  EXPECT_EQ(js(r)["commands"][0]["commands"][0]["target"], "./DevInfo/Mod");
  EXPECT_TRUE(js(r).contains("next"));
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:1/commands", b).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:1/commands", kVno).status, 403);
}

TEST_F(ConsoleApi, OperatorChangesInProgressForTheOperatorAndTheShosTakingPart) {
  import_range(a, 1, 2);
  auto c = make_sho("sho-c");
  // Two changes from A (one to B, one to C), made in the store; the second then completes.
  for (int i = 1; i <= 2; ++i) {
    OperatorChange oc;
    oc.dev_id = "IMEI:" + std::to_string(i);
    oc.variant = "A";
    oc.from_sho = a_id;
    oc.to_sho = i == 1 ? b_id : c.first;
    oc.nonce = "nonce-" + std::to_string(i);
    NewJob nj{oc.dev_id, oc.to_sho, JobKind::operator_change, Bytes{1, 2, 3}, "auth", {}, t + 3600};
    auto made = store->create_operator_change(oc, nj, AuditEntry{0, t, "sho:x", "operator_change.request", oc.dev_id, ""}, t);
    ASSERT_TRUE(made) << made.error().message();
    if (i == 2) {
      ASSERT_TRUE(store->record_result(made->second.correlator, 1200, "installed", t));
    }
  }
  auto r = call("GET", "/api/v1/operator-changes", kAdmin);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(js(r)["operatorChanges"].size(), 1u);  // the completed one is not in progress
  EXPECT_EQ(js(r)["operatorChanges"][0]["devId"], "IMEI:1");
  EXPECT_EQ(js(r)["operatorChanges"][0]["fromSho"], a_id);
  EXPECT_EQ(js(call("GET", "/api/v1/operator-changes", a))["operatorChanges"].size(), 1u);  // the old SHO
  r = call("GET", "/api/v1/operator-changes", b);                                            // the new SHO
  ASSERT_EQ(js(r)["operatorChanges"].size(), 1u);
  EXPECT_FALSE(js(r)["operatorChanges"][0].contains("fromSho"));  // never the old SHO (seed 004 step 11)
  EXPECT_EQ(js(call("GET", "/api/v1/operator-changes", c.second))["operatorChanges"].size(), 0u);
  EXPECT_EQ(call("GET", "/api/v1/operator-changes", kVno).status, 403);
}

TEST_F(ConsoleApi, ConsoleAssetsArePublicWithTypesEtagAndAStrictCsp) {
  HttpRequest req;
  req.method = "GET";
  req.target = "/console/";
  req.peer = "127.0.0.1:5555";
  auto r = router->handle(req);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type").value_or(""), "text/html; charset=utf-8");
  const std::string csp(r.header("Content-Security-Policy").value_or(""));
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << csp;
  EXPECT_EQ(r.header("X-Content-Type-Options").value_or(""), "nosniff");
  EXPECT_EQ(r.header("Cache-Control").value_or(""), "no-cache");
  const std::string etag(r.header("ETag").value_or(""));
  ASSERT_EQ(etag.size(), 22u) << etag;  // "<20 hex digits>"
  EXPECT_TRUE(etag.front() == '"' && etag.back() == '"' &&
              std::all_of(etag.begin() + 1, etag.end() - 1, [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }))
      << etag;
  // No inline script: every <script> element loads a file of the console; nothing from elsewhere.
  int scripts = 0;
  for (auto at = r.body.find("<script"); at != std::string::npos; at = r.body.find("<script", at + 1), ++scripts) {
    const std::string tag = r.body.substr(at, r.body.find('>', at) - at);
    EXPECT_NE(tag.find("src=\"console.js\""), std::string::npos) << tag;
  }
  EXPECT_EQ(scripts, 1);
  EXPECT_EQ(r.body.find("http://"), std::string::npos);
  EXPECT_EQ(r.body.find("https://"), std::string::npos);
  EXPECT_EQ(r.body.find("style="), std::string::npos);

  req.headers.emplace_back("If-None-Match", etag);
  r = router->handle(req);
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(r.header("ETag").value_or(""), etag);

  req.headers.clear();
  for (const auto& [asset, type] : std::vector<std::pair<std::string, std::string>>{
           {"index.html", "text/html; charset=utf-8"},
           {"console.js", "text/javascript; charset=utf-8"},
           {"console.css", "text/css; charset=utf-8"}}) {
    req.target = "/console/" + asset;
    r = router->handle(req);
    EXPECT_EQ(r.status, 200) << asset;
    EXPECT_EQ(r.header("Content-Type").value_or(""), type) << asset;
    EXPECT_FALSE(r.body.empty());
    EXPECT_TRUE(r.header("Content-Security-Policy").has_value());
  }
  // The script reads the API with the bearer token and keeps it in sessionStorage only.
  req.target = "/console/console.js";
  r = router->handle(req);
  EXPECT_NE(r.body.find("sessionStorage"), std::string::npos);
  EXPECT_EQ(r.body.find("localStorage"), std::string::npos);
  EXPECT_EQ(r.body.find("document.cookie"), std::string::npos);

  for (const std::string target : {"/console/nope.js", "/console/a/b", "/console/..%2Fm2mdm.sqlite"}) {
    req.target = target;
    EXPECT_EQ(router->handle(req).status, 404) << target;
  }
  req.target = "/console";
  r = router->handle(req);
  EXPECT_EQ(r.status, 308);
  EXPECT_EQ(r.header("Location").value_or(""), "/console/");
  req.method = "POST";
  req.target = "/console/";
  EXPECT_EQ(router->handle(req).status, 405);
  // The API keeps its own rule.
  EXPECT_EQ(call("GET", "/api/v1/whoami", a).header("Cache-Control").value_or(""), "no-store");
}

}  // namespace
}  // namespace m2mdm::server
