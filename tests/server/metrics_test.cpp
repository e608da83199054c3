// The Prometheus text of /metrics (Metrics::render), byte for byte: every metric's HELP and TYPE
// lines, its name and its order, with a distinct value per field so that a value read from the
// wrong field shows.
#include "m2mdm/server/api.hpp"

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
  EXPECT_EQ(text, R"(# HELP m2mdm_http_requests_total HTTP requests by route template, method and status.
# TYPE m2mdm_http_requests_total counter
m2mdm_http_requests_total{route="/api/v1/devices/{devId}",method="GET",status="200"} 2
m2mdm_http_requests_total{route="/dm",method="POST",status="503"} 1
m2mdm_http_requests_total{route="other",method="OTHER",status="404"} 1
# HELP m2mdm_http_active_connections Open HTTP connections.
# TYPE m2mdm_http_active_connections gauge
m2mdm_http_active_connections 11
# HELP m2mdm_http_accepted_connections_total Accepted connections.
# TYPE m2mdm_http_accepted_connections_total counter
m2mdm_http_accepted_connections_total 12
# HELP m2mdm_http_rejected_connections_total Connections refused over the cap.
# TYPE m2mdm_http_rejected_connections_total counter
m2mdm_http_rejected_connections_total 13
# HELP m2mdm_http_contained_exceptions_total Exceptions caught on a connection (that connection or request failed; the server went on).
# TYPE m2mdm_http_contained_exceptions_total counter
m2mdm_http_contained_exceptions_total 14
# HELP m2mdm_dm_sessions_started_total DM sessions started at the DPF.
# TYPE m2mdm_dm_sessions_started_total counter
m2mdm_dm_sessions_started_total 21
# HELP m2mdm_dm_sessions_completed_total DM sessions that ended normally.
# TYPE m2mdm_dm_sessions_completed_total counter
m2mdm_dm_sessions_completed_total 22
# HELP m2mdm_dm_sessions_aborted_total DM sessions the DPF aborted (Alert 1223).
# TYPE m2mdm_dm_sessions_aborted_total counter
m2mdm_dm_sessions_aborted_total 23
# HELP m2mdm_dm_sessions_expired_total DM sessions dropped after their idle timeout.
# TYPE m2mdm_dm_sessions_expired_total counter
m2mdm_dm_sessions_expired_total 24
# HELP m2mdm_dm_messages_total DM messages received at /dm.
# TYPE m2mdm_dm_messages_total counter
m2mdm_dm_messages_total 25
# HELP m2mdm_dm_auth_failures_total DM messages whose device credentials were refused.
# TYPE m2mdm_dm_auth_failures_total counter
m2mdm_dm_auth_failures_total 26
# HELP m2mdm_dm_unauthenticated_evicted_total Unauthenticated DM sessions dropped over their bounds (per DevId, per peer, overall).
# TYPE m2mdm_dm_unauthenticated_evicted_total counter
m2mdm_dm_unauthenticated_evicted_total 27
# HELP m2mdm_dm_sessions_open Open DM sessions.
# TYPE m2mdm_dm_sessions_open gauge
m2mdm_dm_sessions_open 28
# HELP m2mdm_dm_sessions_unauthenticated Open DM sessions whose device has not authenticated.
# TYPE m2mdm_dm_sessions_unauthenticated gauge
m2mdm_dm_sessions_unauthenticated 29
# HELP m2mdm_jobs Jobs by state.
# TYPE m2mdm_jobs gauge
m2mdm_jobs{state="queued"} 3
m2mdm_jobs{state="notified"} 0
m2mdm_jobs{state="delivering"} 0
m2mdm_jobs{state="delivered"} 0
m2mdm_jobs{state="awaiting_result"} 0
m2mdm_jobs{state="succeeded"} 0
m2mdm_jobs{state="failed"} 0
m2mdm_jobs{state="expired"} 0
m2mdm_jobs{state="cancelled"} 1
# HELP m2mdm_devices Devices by state.
# TYPE m2mdm_devices gauge
m2mdm_devices{state="imported"} 5
m2mdm_devices{state="bootstrapped"} 0
m2mdm_devices{state="registered"} 0
m2mdm_devices{state="provisioning"} 0
m2mdm_devices{state="provisioned"} 0
m2mdm_devices{state="failed"} 2
# HELP m2mdm_outbox_pending SHO callbacks not yet acknowledged.
# TYPE m2mdm_outbox_pending gauge
m2mdm_outbox_pending 7
# HELP m2mdm_shos Registered SHOs.
# TYPE m2mdm_shos gauge
m2mdm_shos 8
# HELP m2mdm_store_commits_total Store transactions committed since start.
# TYPE m2mdm_store_commits_total counter
m2mdm_store_commits_total 9
# HELP m2mdm_store_wal_syncs_total fdatasyncs of the store's write-ahead log (group commit: one covers every commit before it).
# TYPE m2mdm_store_wal_syncs_total counter
m2mdm_store_wal_syncs_total 10
# HELP m2mdm_store_up 1 when the store answered the scrape.
# TYPE m2mdm_store_up gauge
m2mdm_store_up 1
)") << text;
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
