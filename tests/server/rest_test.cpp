// The REST API through ApiRouter::handle (no sockets): authentication on every /api/v1 path,
// SHO isolation, strict validation, import, jobs, callback, PVA (real test PKI + CRL), ICF
// (Milenage vectors checked against mo::aka), /metrics, /healthz, /dm routing.
#include "m2mdm/mo/aka.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/server/api.hpp"
#include "m2mdm/server/error.hpp"
#include "rest_api_test.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <cctype>
#include <sstream>

namespace m2mdm::server {
namespace {
using json = nlohmann::json;
using test::open_store;
using test::TempDir;

/// `name{label="value",...} number` (Prometheus text format 0.0.4, no escapes needed here).
bool is_prometheus_sample(std::string_view line) {
  std::size_t i = 0;
  auto name_char = [](char c, bool first) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
           (!first && std::isdigit(static_cast<unsigned char>(c)));
  };
  if (line.empty() || !name_char(line[0], true)) return false;
  while (i < line.size() && name_char(line[i], i == 0)) ++i;
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      const std::size_t start = i;
      while (i < line.size() && name_char(line[i], i == start)) ++i;
      if (i == start || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') return false;
      i += 2;
      while (i < line.size() && line[i] != '"') ++i;
      if (i >= line.size()) return false;
      ++i;
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) return false;
    ++i;
  }
  if (i >= line.size() || line[i] != ' ') return false;
  std::string_view value = line.substr(i + 1);
  if (value.empty()) return false;
  for (char c : value)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != 'e' && c != '+') return false;
  return true;
}

const std::string& kAdmin = test::kAdminToken;
const std::string& kVno = test::kVnoToken;

std::filesystem::path file_named(const std::vector<mo::PkiFile>& files, std::string_view name) {
  for (const auto& f : files)
    if (f.name == name) return f.path;
  ADD_FAILURE() << "no PKI file " << name;
  return {};
}

using test::slurp;

struct Rest : test::RestApiTest {};

TEST_F(Rest, EveryApiPathWithoutValidCredentialsIs401) {
  const std::vector<std::pair<std::string, std::string>> reqs = {
      {"GET", "/api/v1/devices/IMEI:1"}, {"POST", "/api/v1/devices:import"}, {"POST", "/api/v1/devices/import"},
      {"GET", "/api/v1/jobs/1"},         {"PUT", "/api/v1/callback"},        {"POST", "/api/v1/shos"},
      {"POST", "/api/v1/pva/validate"},  {"POST", "/api/v1/icf/vectors"},    {"POST", "/api/v1/icf/resync"},
      {"GET", "/api/v1/no/such/path"},   {"DELETE", "/api/v1/"},             {"GET", "/api/v1"},
      {"PATCH", "/api/v1/devices/%zz"}};
  for (const auto& [m, target] : reqs) {
    for (const std::string& tok : {std::string(), std::string("wrong-token"), kAdmin + "x"}) {
      auto r = call(m, target, tok, "{}");
      EXPECT_EQ(r.status, 401) << m << " " << target << " token=" << tok;
      EXPECT_EQ(r.header("WWW-Authenticate").value_or(""), "Bearer realm=\"m2mdm\"");
      EXPECT_EQ(js(r)["error"], "unauthorized");
    }
    HttpRequest basic;
    basic.method = m;
    basic.target = target;
    basic.headers.emplace_back("authorization", "Basic YWRtaW46YWRtaW4=");
    EXPECT_EQ(router->handle(basic).status, 401);
  }
  // With a valid token an unknown path is a 404.
  EXPECT_EQ(call("GET", "/api/v1/no/such/path", kAdmin).status, 404);
  EXPECT_EQ(call("GET", "/nope").status, 404);
}

TEST_F(Rest, ShoSeesOnlyItsOwnDevicesAndJobs) {
  auto [a_id, a] = make_sho("sho-a");
  auto [b_id, b] = make_sho("sho-b");
  EXPECT_EQ(call("POST", "/api/v1/shos", a, R"({"name":"x"})").status, 403);  // SHOs cannot create SHOs
  EXPECT_EQ(call("POST", "/api/v1/shos", kAdmin, R"({"name":"sho-a"})").status, 409);

  auto r = call("POST", "/api/v1/devices:import", a,
                R"([{"devId":"IMEI:1","pcid":"001010000000001"},{"devId":"IMEI:2","pcid":"001010000000002"}])");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(js(r)["inserted"], 2);
  r = call("POST", "/api/v1/devices/import", b, "{\"devId\":\"IMEI:3\",\"pcid\":\"001010000000003\"}\n",
           "application/x-ndjson");
  ASSERT_EQ(r.status, 200) << r.body;

  r = call("GET", "/api/v1/devices/IMEI:1", a);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(js(r)["pcid"], "001010000000001");
  EXPECT_EQ(js(r)["dpfAddress"], "https://ro.test/dm");
  EXPECT_EQ(js(r)["shoId"], a_id);
  EXPECT_FALSE(js(r).contains("k"));
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI%3A1", a).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:1", b).status, 404);   // not B's
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:3", a).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:9", a).status, 404);   // same answer as "exists elsewhere"
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:3", kAdmin).status, 200);
  // B cannot take over A's device by importing it, nor learn that it exists (issue 14 finding 5:
  // the answer of a fresh import, docs/server.md "Who owns a device").
  r = call("POST", "/api/v1/devices:import", b, R"([{"devId":"IMEI:1","pcid":"001010000000001"}])");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(js(r)["inserted"], 1);
  EXPECT_EQ(js(call("GET", "/api/v1/devices/IMEI:1", kAdmin))["shoId"], a_id);
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:1", b).status, 404);
  // An SHO may not import into another SHO.
  EXPECT_EQ(call("POST", "/api/v1/devices:import", a,
                 R"([{"devId":"IMEI:5","pcid":"5","shoId":)" + std::to_string(b_id) + "}]")
                .status,
            400);

  auto list = call("GET", "/api/v1/devices?limit=1", a);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(js(list)["devices"].size(), 1u);

  const std::string obj = base64_encode(Bytes(300, 0x5a));
  r = call("POST", "/api/v1/devices/IMEI:1/jobs", a,
           json{{"kind", "install"}, {"object", obj}, {"authorisation", "sho-a-auth"}}.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  const auto job_id = js(r)["id"].get<std::int64_t>();
  EXPECT_EQ(js(r)["state"], "queued");
  EXPECT_EQ(js(r)["objectBytes"], 300);
  EXPECT_EQ(js(r)["deadline"], t + 7 * 24 * 3600);
  EXPECT_EQ(r.header("Location").value_or(""), "/api/v1/jobs/" + std::to_string(job_id));
  EXPECT_EQ(call("POST", "/api/v1/devices/IMEI:1/jobs", b,
                 json{{"kind", "install"}, {"object", obj}, {"authorisation", "x"}}.dump())
                .status,
            404);
  EXPECT_EQ(call("GET", "/api/v1/jobs/" + std::to_string(job_id), a).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/jobs/" + std::to_string(job_id), b).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/jobs/abc", a).status, 404);

  // The result shows up once the store records it.
  auto job = store->get_job(job_id);
  ASSERT_TRUE(store->record_result(job->correlator, 200, "installed", t));
  r = call("GET", "/api/v1/jobs/" + std::to_string(job_id), a);
  EXPECT_EQ(js(r)["state"], "succeeded");
  EXPECT_EQ(js(r)["result"]["code"], 200);
  EXPECT_EQ(js(call("GET", "/api/v1/devices/IMEI:1/jobs", a))["jobs"].size(), 1u);

  // Callback registration.
  EXPECT_EQ(call("PUT", "/api/v1/callback", a, R"({"url":"https://sho-a.example/cb"})").status, 200);
  EXPECT_EQ(store->get_sho(a_id)->callback_url, "https://sho-a.example/cb");
  EXPECT_EQ(call("PUT", "/api/v1/callback", a, R"({"url":"ftp://x"})").status, 400);
  EXPECT_EQ(call("PUT", "/api/v1/callback", kAdmin, R"({"url":"https://x"})").status, 403);
  EXPECT_EQ(call("POST", "/api/v1/callback", a, R"({"url":"https://x"})").status, 405);
}

// Hardening finding 3: an activate/deactivate/delete job names MCIM/<x>; anything that is not
// one node name is refused at submission with the reason, and nothing is queued.
TEST_F(Rest, JobObjectsNamingAnMcimAreValidatedAtSubmission) {
  const std::string a = make_sho("sho-a").second;
  ASSERT_EQ(call("POST", "/api/v1/devices:import", a, R"([{"devId":"IMEI:1","pcid":"001010000000001"}])").status, 200);
  const auto submit = [&](std::string_view kind, std::string_view name) {
    return call("POST", "/api/v1/devices/IMEI:1/jobs", a,
                json{{"kind", kind}, {"object", base64_encode(as_bytes(name))}, {"authorisation", "auth"}}.dump());
  };
  for (const std::string kind : {"activate", "deactivate", "delete"}) {
    for (const std::string& bad : {std::string("../../DMAcc/x"), std::string("a/b"), std::string(".."), std::string("."),
                                  std::string(""), std::string("m\0x", 3), std::string("\xff\xfe"), std::string("a b"),
                                  std::string(65, 'm')}) {
      auto r = submit(kind, bad);
      EXPECT_EQ(r.status, 400) << kind << " " << bad;
      if (!bad.empty()) {  // an empty object is refused earlier, as any empty object is
        EXPECT_NE(r.body.find("MCIM node name"), std::string::npos) << r.body;
      }
    }
    EXPECT_EQ(submit(kind, "j12").status, 202) << kind;
    EXPECT_EQ(submit(kind, std::string(64, 'm')).status, 202) << kind;
  }
  EXPECT_EQ(js(call("GET", "/api/v1/devices/IMEI:1/jobs", a))["jobs"].size(), 6u);
  // An install's object is the sealed package (bytes), not a name.
  EXPECT_EQ(submit("install", std::string("\0\xff/..", 5)).status, 202);
}

// Hardening finding 3: a queued job can be withdrawn (DELETE), by the operator or the SHO that
// owns it; once the device may hold it, it cannot; the device's later jobs then move on.
TEST_F(Rest, AQueuedJobCanBeCancelledAndLaterJobsGoAhead) {
  const auto [a_id, a] = make_sho("sho-a");
  const std::string b = make_sho("sho-b").second;
  ASSERT_EQ(call("POST", "/api/v1/devices:import", a, R"([{"devId":"IMEI:1","pcid":"001010000000001"}])").status, 200);
  const auto submit = [&] {
    auto r = call("POST", "/api/v1/devices/IMEI:1/jobs", a,
                  json{{"kind", "install"}, {"object", base64_encode(Bytes(64, 1))}, {"authorisation", "a"}}.dump());
    EXPECT_EQ(r.status, 202) << r.body;
    return js(r)["id"].get<std::int64_t>();
  };
  const auto first = submit();
  const auto second = submit();
  const std::string path = "/api/v1/jobs/" + std::to_string(first);
  EXPECT_EQ(call("DELETE", path, b).status, 404);  // another SHO's job: as if unknown
  EXPECT_EQ(call("DELETE", "/api/v1/jobs/999", a).status, 404);
  auto r = call("DELETE", path, a);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(js(r)["state"], "cancelled");
  EXPECT_EQ(js(call("GET", path, a))["state"], "cancelled");
  r = call("DELETE", path, a);  // terminal: nothing to withdraw
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.body.find("cancelled"), std::string::npos) << r.body;
  // The device's next session skips the cancelled job and gets the second one.
  auto claimed = store->claim_next_job("IMEI:1", t);
  ASSERT_TRUE(claimed && *claimed);
  EXPECT_EQ((*claimed)->id, second);
  // Being delivered: the device may already execute it.
  r = call("DELETE", "/api/v1/jobs/" + std::to_string(second), kAdmin);
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.body.find("delivering"), std::string::npos) << r.body;
  EXPECT_EQ(store->get_job(second)->state, JobState::delivering);
  // Audited: the cancellation by its actor, and the refused cross-SHO request.
  auto audit = store->list_audit(50);
  ASSERT_TRUE(audit);
  const auto has = [&](std::string_view action, std::string_view actor) {
    return std::ranges::any_of(*audit, [&](const AuditEntry& e) { return e.action == action && e.actor == actor; });
  };
  EXPECT_TRUE(has("job.cancel", "sho:" + std::to_string(a_id)));
  EXPECT_TRUE(has("job.refused", "sho:" + std::to_string(a_id + 1)));
}

// Hardening finding 6: a request for another SHO's device is refused as unknown and audited.
TEST_F(Rest, RefusedCrossShoRequestsAreAudited) {
  const std::string a = make_sho("sho-a").second;
  const auto [b_id, b] = make_sho("sho-b");
  ASSERT_EQ(call("POST", "/api/v1/devices:import", a, R"([{"devId":"IMEI:1","pcid":"001010000000001"}])").status, 200);
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:1", b).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:1/jobs", b).status, 404);
  auto audit = store->list_audit(50);
  ASSERT_TRUE(audit);
  const auto refused = std::ranges::count_if(*audit, [&](const AuditEntry& e) {
    return e.action == "device.refused" && e.actor == "sho:" + std::to_string(b_id) && e.subject == "IMEI:1";
  });
  EXPECT_EQ(refused, 2);
}

TEST_F(Rest, ImportIsIdempotentAndValidatedStrictly) {
  auto [a_id, a] = make_sho("sho-a");
  const std::string body = json::array({{{"devId", "IMEI:1"},
                                         {"pcid", "001010000000001"},
                                         {"k", std::string(32, 'a')},
                                         {"opc", std::string(32, 'b')},
                                         {"devicePin", "123456"},
                                         {"dm", {{"serverPassword", "s"}, {"clientPassword", "c"}}}}})
                               .dump();
  auto r = call("POST", "/api/v1/devices:import", a, body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(js(r)["inserted"], 1);
  r = call("POST", "/api/v1/devices:import", a, body);
  EXPECT_EQ(js(r)["unchanged"], 1);
  EXPECT_EQ(store->get_device("IMEI:1")->dm.client_password, "c");

  const std::vector<std::string> bad = {
      "", "{", "[]", "{}", "[1]", R"([{"devId":1,"pcid":"1"}])", R"([{"devId":"a"}])",
      R"([{"devId":"a","pcid":"1","extra":true}])", R"([{"devId":"a b","pcid":"1"}])",
      R"([{"devId":"a","pcid":"1","k":"zz"}])", R"([{"devId":"a","pcid":"1","k":")" + std::string(32, 'a') + "\"}]",
      R"([{"devId":"a","pcid":"1","sqn":-1}])", R"([{"devId":"a","pcid":"1","sqn":281474976710656}])",
      R"([{"devId":"a","pcid":"1"},{"devId":"a","pcid":"2"}])", R"([{"devId":"a","pcid":"1","dm":{"x":"y"}}])",
      R"([{"devId":")" + std::string(65, 'a') + R"(","pcid":"1"}])", std::string(100, '[') + std::string(100, ']'),
      R"([{"devId":"a","pcid":"1","dpfAddress":"javascript:x"}])",
      // Found by scripts/fault_campaign.py: a member named twice, an IMSI-keyed method without an IMSI.
      R"([{"devId":"a","pcid":"1","pcid":"2"}])", R"([{"devId":"a","pcid":"x","secMethod":"NETWPIN"}])",
      R"([{"devId":"a","pcid":"12345","secMethod":"USERNETWPIN"}])",
      R"([{"devId":"a","pcid":"0010101234567890","secMethod":"NETWPIN"}])"};
  for (const auto& b : bad) {
    auto resp = call("POST", "/api/v1/devices:import", a, b.empty() ? " " : b);
    EXPECT_EQ(resp.status, 400) << b;
    EXPECT_EQ(js(resp)["error"], "bad request") << b;
    EXPECT_FALSE(js(resp)["detail"].get<std::string>().empty()) << b;
  }
  EXPECT_EQ(call("POST", "/api/v1/devices:import", a, "x", "text/plain").status, 415);
  // Job submissions.
  for (const auto& b : {R"({"kind":"install"})", R"({"kind":"fly","object":"AA==","authorisation":"a"})",
                        R"({"kind":"install","object":"!!","authorisation":"a"})",
                        R"({"kind":"install","object":"AA==","authorisation":"a","ttlSeconds":1})",
                        R"({"kind":"install","object":"AA==","authorisation":5})"}) {
    EXPECT_EQ(call("POST", "/api/v1/devices/IMEI:1/jobs", a, b).status, 400) << b;
  }
}

// One media-type rule for every route whose body is JSON: no Content-Type, application/json (with
// parameters) and application/x-www-form-urlencoded (what `curl -d` sends by default) are read as
// JSON; anything else is a 415 on every one of them.
TEST_F(Rest, EveryJsonRouteTakesTheSameMediaTypes) {
  const std::string a = make_sho("sho-a").second;
  ASSERT_EQ(call("POST", "/api/v1/devices:import", a, R"([{"devId":"IMEI:1","pcid":"001010000000001"}])").status, 200);
  ASSERT_EQ(call("POST", "/api/v1/subscribers", kAdmin, R"({"name":"owner-1"})").status, 201);
  struct JsonRoute {
    std::string method, target, token;
  };
  const std::vector<JsonRoute> routes = {
      {"POST", "/api/v1/shos", kAdmin},
      {"PUT", "/api/v1/callback", a},
      {"POST", "/api/v1/devices:import", a},
      {"POST", "/api/v1/devices:claim", a},
      {"PATCH", "/api/v1/devices/IMEI:1", a},
      {"POST", "/api/v1/devices/IMEI:1/bootstrap", a},
      {"POST", "/api/v1/devices/IMEI:1/jobs", a},
      {"POST", "/api/v1/devices/IMEI:1/commands", a},
      {"POST", "/api/v1/devices/IMEI:1/operator-change", a},
      // The batch route refused curl -d's form type (issue 15: one rule for every JSON route).
      {"POST", "/api/v1/operator-changes", a},
      {"POST", "/api/v1/subscribers", kAdmin},
      {"POST", "/api/v1/subscribers/1/devices", kAdmin},
      {"POST", "/api/v1/pva/validate", a},
      {"POST", "/api/v1/icf/vectors", kAdmin},
      {"POST", "/api/v1/icf/resync", kAdmin},
  };
  // An incomplete JSON body: each route refuses it on its own grounds (400, 503...), never as 415.
  for (const auto& rt : routes) {
    for (const std::string type : {"", "application/json", "application/json; charset=utf-8", "Application/JSON",
                                   "application/x-www-form-urlencoded"}) {
      auto r = call(rt.method, rt.target, rt.token, R"({"x":1})", type);
      EXPECT_NE(r.status, 415) << rt.method << " " << rt.target << " Content-Type: " << type << " -> " << r.body;
      EXPECT_NE(r.status, 401) << rt.method << " " << rt.target;
    }
    for (const std::string type : {"text/plain", "application/xml", "multipart/form-data; boundary=x"}) {
      auto r = call(rt.method, rt.target, rt.token, R"({"x":1})", type);
      EXPECT_EQ(r.status, 415) << rt.method << " " << rt.target << " Content-Type: " << type << " -> " << r.body;
      if (r.status == 415) {
        EXPECT_EQ(js(r)["error"], "unsupported media type");
      }
    }
  }
  // The REST flow of docs/server.md: a job submitted with `curl -d` and no -H is accepted.
  auto r = call("POST", "/api/v1/devices/IMEI:1/jobs", a,
                R"({"kind":"install","object":"AA==","authorisation":"sho-auth"})", "application/x-www-form-urlencoded");
  EXPECT_EQ(r.status, 202) << r.body;
}

// The DER forms the PVA reads: a CRL is taken with bytes after it (a trailing newline, as it has
// always been), a certificate only when nothing follows it.
TEST_F(Rest, PvaReadsDerCrlsWithTrailingBytesAndOnlyWholeDerCertificates) {
  auto pki_dir = dir.path() / "pki";
  auto pki = mo::init_test_pki(pki_dir, {.now = t - 3600});
  ASSERT_TRUE(pki) << pki.error().message();
  // PEM -> DER: the base64 between the armour lines.
  auto der_of = [](const std::string& pem) {
    std::string body;
    std::istringstream in(pem);
    for (std::string line; std::getline(in, line);)
      if (!line.starts_with("-----")) body += line;
    return base64_decode(body).value_or(Bytes{});
  };
  auto write = [&](const std::string& name, Bytes bytes) {
    const auto path = dir.path() / name;
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
    return path;
  };
  Bytes crl = der_of(slurp(file_named(*pki, "manufacturer-crl")));
  Bytes ca = der_of(slurp(file_named(*pki, "manufacturer-ca")));
  ASSERT_FALSE(crl.empty());
  ASSERT_FALSE(ca.empty());
  crl.push_back('\n');
  const auto ca_der = write("ca.der", ca);
  EXPECT_TRUE(Pva::load({ca_der}, {write("crl-newline.der", crl)}));
  ca.push_back('\n');
  EXPECT_FALSE(Pva::load({write("ca-newline.der", ca)}, {}));
}

TEST_F(Rest, PvaValidatesChainValidityAndRevocation) {
  auto pki_dir = dir.path() / "pki";
  auto pki = mo::init_test_pki(pki_dir, {.now = t - 3600});
  ASSERT_TRUE(pki) << pki.error().message();
  auto good = mo::issue_test_device(pki_dir, "IMEI:1", mo::KeyType::ec_p256, t - 3600);
  auto revoked = mo::issue_test_device(pki_dir, "IMEI:2", mo::KeyType::ec_p256, t - 3600);
  ASSERT_TRUE(good && revoked);
  auto crl = mo::revoke_test_device(pki_dir, "IMEI:2", t - 1800);
  ASSERT_TRUE(crl) << crl.error().message();
  auto loaded = Pva::load({file_named(*pki, "manufacturer-ca")}, {file_named(*crl, "manufacturer-crl")});
  ASSERT_TRUE(loaded);
  pva = std::move(*loaded);

  auto [a_id, a] = make_sho("sho-a");
  ASSERT_EQ(call("POST", "/api/v1/devices:import", a, R"([{"devId":"IMEI:1","pcid":"1"},{"devId":"IMEI:2","pcid":"2"}])").status,
            200);
  const std::string good_pem = slurp(file_named(*good, "pfc"));
  auto r = call("POST", "/api/v1/pva/validate", a, json{{"pfc", good_pem}, {"devId", "IMEI:1"}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(js(r)["valid"], true) << r.body;
  EXPECT_EQ(js(r)["reason"], "ok");
  EXPECT_NE(js(r)["subject"].get<std::string>().find("IMEI:1"), std::string::npos);
  EXPECT_FALSE(js(r)["not_after"].get<std::string>().empty());
  EXPECT_EQ(js(call("GET", "/api/v1/devices/IMEI:1", a))["pfcValidation"]["valid"], true);

  r = call("POST", "/api/v1/pva/validate?devId=IMEI:2", a, slurp(file_named(*revoked, "pfc")), "application/x-pem-file");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(js(r)["valid"], false);
  EXPECT_NE(js(r)["reason"].get<std::string>().find("revoked"), std::string::npos) << r.body;

  // A PfC from another manufacturer (a second, unrelated test PKI).
  auto other_dir = dir.path() / "other";
  ASSERT_TRUE(mo::init_test_pki(other_dir, {.now = t - 3600}));
  auto stranger = mo::issue_test_device(other_dir, "IMEI:1", mo::KeyType::ec_p256, t - 3600);
  ASSERT_TRUE(stranger);
  r = call("POST", "/api/v1/pva/validate", a, json{{"pfc", slurp(file_named(*stranger, "pfc"))}}.dump());
  EXPECT_EQ(js(r)["valid"], false);
  EXPECT_NE(js(r)["reason"].get<std::string>().find("issuer"), std::string::npos) << r.body;

  // Expired: validate far in the future.
  t += 20LL * 365 * 24 * 3600;
  r = call("POST", "/api/v1/pva/validate", a, json{{"pfc", good_pem}}.dump());
  EXPECT_EQ(js(r)["valid"], false);
  t -= 20LL * 365 * 24 * 3600;

  EXPECT_EQ(js(call("POST", "/api/v1/pva/validate", a, R"({"pfc":"AAAA"})"))["reason"], "unparseable certificate");
  EXPECT_EQ(call("POST", "/api/v1/pva/validate", a, R"({"pfc":5})").status, 400);
  // Fuzz finding (CI stop 18): base64 that decodes to nothing (whitespace only) is a bad request, not an empty PfC.
  EXPECT_EQ(call("POST", "/api/v1/pva/validate", a, R"({"pfc":"\n","devId":"IMEI:1"})").status, 400);
  auto [b_id, b] = make_sho("sho-b");
  EXPECT_EQ(call("POST", "/api/v1/pva/validate", b, json{{"pfc", good_pem}, {"devId", "IMEI:1"}}.dump()).status, 404);
  auto audit = store->list_audit(50);
  bool seen = false;
  for (const auto& e : *audit) seen = seen || e.action == "pva.validate";
  EXPECT_TRUE(seen);

  // PfC fetch once the device reported it.
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:1/pfc", a).status, 404);
  auto verdict = pva.validate(as_bytes(good_pem), t);
  ASSERT_TRUE(store->set_device_pfc("IMEI:1", verdict.der, t));
  r = call("GET", "/api/v1/devices/IMEI:1/pfc", a);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type").value_or(""), "application/x-pem-file");
  EXPECT_TRUE(r.body.starts_with("-----BEGIN CERTIFICATE-----\n"));
  HttpRequest req;
  req.method = "GET";
  req.target = "/api/v1/devices/IMEI:1/pfc";
  req.headers = {{"Authorization", "Bearer " + a}, {"Accept", "application/pkix-cert"}};
  auto der_resp = router->handle(req);
  EXPECT_EQ(der_resp.body, std::string(as_chars(verdict.der)));
  EXPECT_EQ(call("GET", "/api/v1/devices/IMEI:1/pfc", b).status, 404);
}

TEST_F(Rest, IcfVectorsAndResync) {
  auto [a_id, a] = make_sho("sho-a");
  const std::string k = "465b5ce8b199b49faa5f0a2ee238a6bc", opc = "cd63cb71954a9f4e48a5994e37a02baf";
  ASSERT_EQ(call("POST", "/api/v1/devices:import", kAdmin,
                 json::array({{{"devId", "IMEI:1"}, {"pcid", "001010000000001"}, {"shoId", a_id}, {"k", k},
                               {"opc", opc}, {"sqn", 64}},
                              {{"devId", "IMEI:2"}, {"pcid", "001010000000002"}}})
                     .dump())
                .status,
            200);
  EXPECT_EQ(call("POST", "/api/v1/icf/vectors", a, R"({"pcid":"001010000000001"})").status, 403);  // SHO: no
  auto r = call("POST", "/api/v1/icf/vectors", kVno, R"({"pcid":"001010000000001","count":2})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto vs = js(r)["vectors"];
  ASSERT_EQ(vs.size(), 2u);
  const Bytes kb = *hex_decode(k), ob = *hex_decode(opc);
  for (std::size_t i = 0; i < 2; ++i) {
    auto rand = *hex_decode(vs[i]["rand"].get<std::string>());
    auto expect = mo::generate_vector(kb, ob, 64 + i, Bytes{0x80, 0x00}, rand);
    ASSERT_TRUE(expect);
    EXPECT_EQ(vs[i]["autn"], hex_encode(expect->autn));
    EXPECT_EQ(vs[i]["xres"], hex_encode(expect->xres.view()));
    EXPECT_EQ(vs[i]["ck"], hex_encode(expect->ck.view()));
  }
  EXPECT_EQ(store->get_device("IMEI:1")->sqn, 66u);
  EXPECT_EQ(call("POST", "/api/v1/icf/vectors", kVno, R"({"pcid":"001010000000001","count":99})").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/icf/vectors", kVno, R"({"pcid":"nope"})").status, 404);
  EXPECT_EQ(call("POST", "/api/v1/icf/vectors", kVno, R"({"pcid":"001010000000002"})").status, 409);  // no K/OPc

  // Resync: the USIM is at SQN 1000.
  auto m = mo::Milenage::create(kb, ob);
  ASSERT_TRUE(m);
  Bytes rand(16, 0x37);
  auto auts = mo::make_auts(*m, rand, 1000);
  ASSERT_TRUE(auts);
  r = call("POST", "/api/v1/icf/resync", kAdmin,
           json{{"pcid", "001010000000001"}, {"rand", hex_encode(rand)}, {"auts", hex_encode(*auts)}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(js(r)["sqnMs"], 1000);
  EXPECT_EQ(store->get_device("IMEI:1")->sqn, 1001u);
  Bytes tampered = Bytes(auts->begin(), auts->end());
  tampered.back() ^= 1;
  r = call("POST", "/api/v1/icf/resync", kVno,
           json{{"pcid", "001010000000001"}, {"rand", hex_encode(rand)}, {"auts", hex_encode(tampered)}}.dump());
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(call("POST", "/api/v1/icf/resync", kVno, R"({"pcid":"001010000000001","rand":"00"})").status, 400);
}

TEST_F(Rest, HealthzMetricsAndDmRouting) {
  auto r = call("GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  auto [a_id, a] = make_sho("sho-a");
  call("GET", "/api/v1/devices/x");  // a 401 to count
  r = call("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.header("Content-Type")->starts_with("text/plain; version=0.0.4"));
  // Every line is a comment or `name{labels} value` (Prometheus text format 0.0.4).
  std::istringstream lines(r.body);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) continue;
    EXPECT_TRUE(is_prometheus_sample(line)) << line;
    ++samples;
  }
  EXPECT_GT(samples, 10);
  EXPECT_NE(r.body.find(R"(m2mdm_http_requests_total{route="/api/v1/unknown",method="GET",status="401"} 1)"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"(m2mdm_http_requests_total{route="/api/v1/shos",method="POST",status="201"} 1)"),
            std::string::npos);
  EXPECT_NE(r.body.find("m2mdm_jobs{state=\"queued\"} 0"), std::string::npos);
  EXPECT_NE(r.body.find("m2mdm_outbox_pending 0"), std::string::npos);
  EXPECT_NE(r.body.find("m2mdm_shos 1"), std::string::npos);

  // /dm: 503 until an engine is installed; content types enforced.
  EXPECT_EQ(call("GET", "/dm").status, 405);
  EXPECT_EQ(call("POST", "/dm", "", "<SyncML/>", "text/xml").status, 415);
  r = call("POST", "/dm", "", "<SyncML/>", "application/vnd.syncml.dm+xml; charset=utf-8");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("Retry-After").value_or(""), "30");
  struct Echo final : DmEndpoint {
    HttpResponse handle_dm(const HttpRequest& q) override {
      auto resp = HttpResponse::make(200, dm_wbxml_content_type, q.body);
      resp.set_header("x-seen-hmac", q.header(syncml_hmac_header).value_or(""));
      return resp;
    }
  };
  router->set_dm_endpoint(std::make_shared<Echo>());
  HttpRequest dm;
  dm.method = "POST";
  dm.target = "/dm?s=abc";
  dm.headers = {{"Content-Type", "application/vnd.syncml.dm+wbxml"}, {"X-Syncml-Hmac", "algorithm=MD5, mac=x"}};
  dm.body = std::string("\x02\x00\x00\x6a", 4);
  r = router->handle(dm);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, dm.body);
  EXPECT_EQ(r.header("x-seen-hmac").value_or(""), "algorithm=MD5, mac=x");
  router->set_dm_endpoint(nullptr);  // back to the 503 endpoint
  EXPECT_EQ(router->handle(dm).status, 503);
}

// Generic management commands: the operator or the device's SHO queues them, validated strictly;
// another SHO sees neither the device nor its commands; the device's answer is read back.
TEST_F(Rest, ManagementCommandsAreValidatedQueuedAndReadBack) {
  const std::string a = make_sho("sho-a").second;
  const std::string b = make_sho("sho-b").second;
  ASSERT_EQ(call("POST", "/api/v1/devices:import", a, R"([{"devId":"IMEI:1","pcid":"001010000000001"}])").status, 200);
  const std::string path = "/api/v1/devices/IMEI:1/commands";
  for (const std::string bad : {
           R"({})", R"({"commands":[]})", R"({"commands":{}})", R"({"commands":[{"verb":"Get"}]})",
           R"({"commands":[{"verb":"Fetch","target":"./A"}]})", R"({"commands":[{"verb":"get","target":"./A"}]})",
           R"({"commands":[{"verb":"Get","target":"A/B"}]})", R"({"commands":[{"verb":"Get","target":"./A/../B"}]})",
           R"({"commands":[{"verb":"Get","target":"./A//B"}]})", R"({"commands":[{"verb":"Get","target":"./A B"}]})",
           R"({"commands":[{"verb":"Get","target":"./A?list=Struct"}]})", R"({"commands":[{"verb":"Get","target":"./"}]})",
           R"({"commands":[{"verb":"Get","target":"./A","data":"x"}]})",
           R"({"commands":[{"verb":"Delete","target":"./A","data":"x"}]})",
           R"({"commands":[{"verb":"Copy","target":"./A"}]})",
           R"({"commands":[{"verb":"Replace","target":"./A","source":"./B"}]})",
           R"({"commands":[{"verb":"Replace","target":"./A","data":"x","format":"text"}]})",
           R"({"commands":[{"verb":"Replace","target":"./A","data":"*not base64*","format":"b64"}]})",
           R"({"commands":[{"verb":"Get","target":"./A"}],"wrap":"Atomic"})",
           R"({"commands":[{"verb":"Get","target":"./A"}],"wrap":"none"})",
           R"({"commands":[{"verb":"Get","target":"./A"}],"ttlSeconds":0})",
           R"({"commands":[{"verb":"Get","target":"./A","extra":1}]})",
       }) {
    EXPECT_EQ(call("POST", path, a, bad).status, 400) << bad;
  }
  json many = json::array();
  for (int i = 0; i < 33; ++i) many.push_back({{"verb", "Get"}, {"target", "./A"}});
  EXPECT_EQ(call("POST", path, a, json{{"commands", many}}.dump()).status, 400);

  const std::string body = R"({"commands":[{"verb":"Replace","target":"./Vendor/X","data":"1","format":"int"},
      {"verb":"Copy","source":"./Vendor/X","target":"./Vendor/Y"}],"wrap":"Atomic","ttlSeconds":60})";
  auto r = call("POST", path, a, body);
  ASSERT_EQ(r.status, 202) << r.body;
  const auto created = js(r);
  EXPECT_EQ(created["state"], "queued");
  EXPECT_EQ(created["wrap"], "Atomic");
  EXPECT_EQ(created["commands"].size(), 2u);
  EXPECT_EQ(created["commands"][1]["source"], "./Vendor/X");
  EXPECT_EQ(created["deadline"], t.now() + 60);
  const std::string id = std::to_string(created["id"].get<std::int64_t>());
  EXPECT_EQ(r.header("Location").value_or(""), path + "/" + id);
  EXPECT_EQ(call("POST", path, kAdmin, R"({"commands":[{"verb":"Get","target":"."}]})").status, 202);

  // Another SHO: neither the device nor its commands; a VNO: refused.
  EXPECT_EQ(call("POST", path, b, R"({"commands":[{"verb":"Get","target":"./A"}]})").status, 404);
  EXPECT_EQ(call("GET", path + "/" + id, b).status, 404);
  EXPECT_EQ(call("POST", path, kVno, R"({"commands":[{"verb":"Get","target":"./A"}]})").status, 403);
  EXPECT_EQ(call("GET", path + "/999", a).status, 404);

  // The device's session takes it and answers: the store's outcome is what GET shows.
  auto claimed = store->claim_next_command("IMEI:1", t.now());
  ASSERT_TRUE(claimed && *claimed);
  MgmtCommand done = **claimed;
  done.state = MgmtState::completed;
  done.statuses = {{-1, "Atomic", 507}, {0, "Replace", 425}, {1, "Copy", 215}};
  ASSERT_TRUE(store->finish_command(done, t.now()));
  const auto got = js(call("GET", path + "/" + id, a));
  EXPECT_EQ(got["state"], "completed");
  ASSERT_EQ(got["statuses"].size(), 3u);
  EXPECT_FALSE(got["statuses"][0].contains("index"));
  EXPECT_EQ(got["statuses"][1]["code"], 425);
  EXPECT_EQ(got["statuses"][2]["cmd"], "Copy");
  EXPECT_EQ(js(call("GET", path + "/" + id, kAdmin))["state"], "completed");
}

}  // namespace
}  // namespace m2mdm::server
