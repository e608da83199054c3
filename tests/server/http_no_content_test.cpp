// A handler that returns a body with 204/304 or an informational status must not take the
// server down (Beast's prepare_payload throws there): the body is dropped / the status is 500.
#include "m2mdm/server/callback_worker.hpp"
#include "m2mdm/server/http_server.hpp"

#include <gtest/gtest.h>

#include <atomic>

namespace m2mdm::server {
namespace {

struct StatusHandler final : HttpHandler {
  std::atomic<int> status{204};
  HttpResponse handle(const HttpRequest&) override { return HttpResponse::make(status.load(), "text/plain", "body"); }
};

TEST(HttpNoContent, BodiesOn204And304AreDroppedAnd1xxBecomes500) {
  StatusHandler h;
  HttpServerOptions o;
  o.port = 0;
  o.threads = 1;
  auto srv = HttpServer::start(o, h);
  ASSERT_TRUE(srv) << srv.error().message();
  const std::string url = (*srv)->url() + "/x";
  for (int st : {204, 304}) {
    h.status = st;
    auto r = post_json(url, "{}", {}, std::chrono::milliseconds(2000));
    EXPECT_EQ(r.status, st) << r.error;
  }
  h.status = 101;
  EXPECT_EQ(post_json(url, "{}", {}, std::chrono::milliseconds(2000)).status, 500);
  h.status = 200;
  EXPECT_EQ(post_json(url, "{}", {}, std::chrono::milliseconds(2000)).status, 200);  // still serving
}

}  // namespace
}  // namespace m2mdm::server
