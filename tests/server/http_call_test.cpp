// server::http_call (the callback worker's Beast client, generalised; `m2mdm demo` drives the
// REST API with it) against a real HttpServer over loopback, HTTP and HTTPS with the test PKI.
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/server/callback_worker.hpp"
#include "m2mdm/server/http_server.hpp"
#include "m2mdm/test/device_fixture.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <mutex>

namespace m2mdm::server {
namespace {

using test::TempDir;
using namespace std::chrono_literals;

/// Echoes what it received: "METHOD TARGET|authorization|content-type|body".
struct Echo final : HttpHandler {
  std::mutex m;
  std::vector<HttpRequest> seen;
  HttpResponse handle(const HttpRequest& r) override {
    {
      std::lock_guard lock(m);
      seen.push_back(r);
    }
    if (r.path() == "/missing") return HttpResponse::json_error(404, "not found", "no such thing");
    return HttpResponse::make(200, "text/plain",
                              r.method + " " + r.target + "|" + std::string(r.header("Authorization").value_or("")) +
                                  "|" + std::string(r.header("Content-Type").value_or("")) + "|" + r.body);
  }
};

HttpServerOptions options() {
  HttpServerOptions o;
  o.port = 0;
  o.threads = 1;
  return o;
}

TEST(HttpCall, MethodsHeadersAndBodiesOverHttp) {
  Echo echo;
  auto up = HttpServer::start(options(), echo);
  ASSERT_TRUE(up) << up.error().message();
  const std::string base = (*up)->url();

  auto get = http_call({"GET", base + "/api/v1/jobs/7?x=1", {{"Authorization", "Bearer abc"}}, "", ""}, {}, 2000ms);
  EXPECT_EQ(get.status, 200) << get.error;
  EXPECT_EQ(get.body, "GET /api/v1/jobs/7?x=1|Bearer abc||");

  auto put = http_call({"PUT", base + "/cb", {}, "application/json", R"({"url":"x"})"}, {}, 2000ms);
  EXPECT_EQ(put.status, 200) << put.error;
  EXPECT_EQ(put.body, R"(PUT /cb||application/json|{"url":"x"})");

  auto missing = http_call({"POST", base + "/missing", {}, "application/json", "{}"}, {}, 2000ms);
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("no such thing"), std::string::npos) << missing.body;
  EXPECT_TRUE(missing.error.empty());

  auto bad_method = http_call({"FROB", base + "/", {}, "", ""}, {}, 2000ms);
  EXPECT_EQ(bad_method.status, 0);
  EXPECT_FALSE(bad_method.error.empty());
  EXPECT_FALSE(http_call({"GET", "ftp://x/", {}, "", ""}, {}, 100ms).error.empty());

  // post_json (the callback worker's entry point) still sends application/json and reports the status.
  auto posted = post_json(base + "/cb", "{\"jobId\":1}", {}, 2000ms);
  EXPECT_EQ(posted.status, 200) << posted.error;
  std::lock_guard lock(echo.m);
  ASSERT_EQ(echo.seen.size(), 4u);  // the bad method and the ftp URL never left the client
  EXPECT_EQ(echo.seen.back().header("Content-Type").value_or(""), "application/json");
  EXPECT_EQ(echo.seen.back().body, "{\"jobId\":1}");
}

TEST(HttpCall, HttpsVerifiesTheChainAndReturnsTheBody) {
  TempDir dir;
  auto pki = mo::init_test_pki(dir.path() / "pki");
  ASSERT_TRUE(pki) << pki.error().message();
  auto file = [&](std::string_view name) { return m2mdm::test::pki_file(*pki, name); };
  Echo echo;
  auto o = options();
  o.tls = TlsFiles{file("tls-cert"), file("tls-key")};
  auto up = HttpServer::start(o, echo);
  ASSERT_TRUE(up) << up.error().message();
  const std::string url = (*up)->url() + "/api/v1/shos";

  auto ok = http_call({"POST", url, {{"Authorization", "Bearer t"}}, "application/json", "{}"}, {file("tls-ca")}, 3000ms);
  EXPECT_EQ(ok.status, 200) << ok.error;
  EXPECT_EQ(ok.body, "POST /api/v1/shos|Bearer t|application/json|{}");

  auto untrusted = http_call({"GET", url, {}, "", ""}, {file("sho-ca")}, 3000ms);
  EXPECT_EQ(untrusted.status, 0);
  EXPECT_TRUE(untrusted.body.empty());
  EXPECT_NE(untrusted.error.find("tls"), std::string::npos) << untrusted.error;
  std::lock_guard lock(echo.m);
  EXPECT_EQ(echo.seen.size(), 1u);
}

}  // namespace
}  // namespace m2mdm::server
