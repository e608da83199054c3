// The Prometheus text of /metrics (Metrics::render), byte for byte: every metric's HELP and TYPE
// lines, its name and its order, with a distinct value per field so that a value read from the
// wrong field shows.
#include "m2mdm/server/api.hpp"
#include "m2mdm/test/files.hpp"

#include <gtest/gtest.h>

namespace m2mdm::server {
namespace {

TEST(Metrics, RendersEveryPartInItsOrder) {
  Metrics m;
  m.count("/api/v1/devices/{devId}", "GET", 200);
  m.count("/api/v1/devices/{devId}", "GET", 200);
  m.count("/dm", "POST", 503);
  m.count("other", "PROPFINDX", 404);  // a method over 8 characters counts as OTHER
  StoreStats store;
  store.jobs_by_state = {{"queued", 3}, {"cancelled", 1}};
  store.devices_by_state = {{"imported", 5}, {"failed", 2}};
  store.outbox_pending = 7;
  store.shos = 8;
  store.commits = 9;
  store.wal_syncs = 10;
  HttpServerStats http{11, 12, 13, 14};
  DpfStats dpf{21, 22, 23, 24, 25, 26, 27, 28, 29};
  const std::string text = m.render(&store, &http, &dpf);
  // The expected text is a file, so that it reads as a scrape does (and a change shows as a diff of it).
  const std::string expected = test::slurp(test::source_dir() / "tests/server/golden/metrics_every_stat.txt");
  ASSERT_FALSE(expected.empty()) << "no golden file";
  EXPECT_EQ(text, expected);
}

TEST(Metrics, WithoutStatsHasRequestsAndStoreDown) {
  EXPECT_EQ(Metrics{}.render(nullptr, nullptr, nullptr),
            "# HELP m2mdm_http_requests_total HTTP requests by route template, method and status.\n"
            "# TYPE m2mdm_http_requests_total counter\n"
            "# HELP m2mdm_store_up 1 when the store answered the scrape.\n"
            "# TYPE m2mdm_store_up gauge\n"
            "m2mdm_store_up 0\n");
}

}  // namespace
}  // namespace m2mdm::server
