// Request counters and the Prometheus text exposition of /metrics.
#include "m2mdm/server/api.hpp"

namespace m2mdm::server {

void Metrics::count(std::string_view route, std::string_view method, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(route), std::string(method.size() <= 8 ? method : "OTHER"), status}];
}

namespace {

/// One metric: HELP, TYPE and its value.
void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help, std::uint64_t value) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" ");
  out.append(type).append("\n").append(name).append(" ").append(std::to_string(value)).append("\n");
}

}  // namespace

std::string Metrics::render(const StoreStats* store, const HttpServerStats* http, const DpfStats* dpf) const {
  std::string out;
  out += "# HELP m2mdm_http_requests_total HTTP requests by route template, method and status.\n";
  out += "# TYPE m2mdm_http_requests_total counter\n";
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, n] : requests_) {
      const auto& [route, method, status] = key;
      out += "m2mdm_http_requests_total{route=\"" + route + "\",method=\"" + method + "\",status=\"" +
             std::to_string(status) + "\"} " + std::to_string(n) + "\n";
    }
  }
  if (http) {
    metric(out, "m2mdm_http_active_connections", "gauge", "Open HTTP connections.", http->active_connections);
    metric(out, "m2mdm_http_accepted_connections_total", "counter", "Accepted connections.",
           http->accepted_connections);
    metric(out, "m2mdm_http_rejected_connections_total", "counter", "Connections refused over the cap.",
           http->rejected_connections);
    metric(out, "m2mdm_http_contained_exceptions_total", "counter",
           "Exceptions caught on a connection (that connection or request failed; the server went on).",
           http->contained_exceptions);
  }
  if (dpf) {
    // The DPF's DM sessions (docs/server.md "Monitoring").
    metric(out, "m2mdm_dm_sessions_started_total", "counter", "DM sessions started at the DPF.", dpf->sessions_started);
    metric(out, "m2mdm_dm_sessions_completed_total", "counter", "DM sessions that ended normally.",
           dpf->sessions_completed);
    metric(out, "m2mdm_dm_sessions_aborted_total", "counter", "DM sessions the DPF aborted (Alert 1223).",
           dpf->sessions_aborted);
    metric(out, "m2mdm_dm_sessions_expired_total", "counter", "DM sessions dropped after their idle timeout.",
           dpf->sessions_expired);
    metric(out, "m2mdm_dm_messages_total", "counter", "DM messages received at /dm.", dpf->messages);
    metric(out, "m2mdm_dm_auth_failures_total", "counter", "DM messages whose device credentials were refused.",
           dpf->auth_failures);
    metric(out, "m2mdm_dm_unauthenticated_evicted_total", "counter",
           "Unauthenticated DM sessions dropped over their bounds (per DevId, per peer, overall).",
           dpf->unauthenticated_evicted);
    metric(out, "m2mdm_dm_sessions_open", "gauge", "Open DM sessions.", dpf->sessions_open);
    metric(out, "m2mdm_dm_sessions_unauthenticated", "gauge", "Open DM sessions whose device has not authenticated.",
           dpf->sessions_unauthenticated);
  }
  if (store) {
    out += "# HELP m2mdm_jobs Jobs by state.\n# TYPE m2mdm_jobs gauge\n";
    for (int i = 0; i <= static_cast<int>(JobState::cancelled); ++i) {  // every state, cancelled (the last) too
      auto name = std::string(to_string(static_cast<JobState>(i)));
      auto it = store->jobs_by_state.find(name);
      out += "m2mdm_jobs{state=\"" + name + "\"} " + std::to_string(it == store->jobs_by_state.end() ? 0 : it->second) + "\n";
    }
    out += "# HELP m2mdm_devices Devices by state.\n# TYPE m2mdm_devices gauge\n";
    for (int i = 0; i <= static_cast<int>(DeviceState::failed); ++i) {
      auto name = std::string(to_string(static_cast<DeviceState>(i)));
      auto it = store->devices_by_state.find(name);
      out += "m2mdm_devices{state=\"" + name + "\"} " +
             std::to_string(it == store->devices_by_state.end() ? 0 : it->second) + "\n";
    }
    metric(out, "m2mdm_outbox_pending", "gauge", "SHO callbacks not yet acknowledged.",
           static_cast<std::uint64_t>(store->outbox_pending));
    metric(out, "m2mdm_shos", "gauge", "Registered SHOs.", static_cast<std::uint64_t>(store->shos));
    metric(out, "m2mdm_store_commits_total", "counter", "Store transactions committed since start.", store->commits);
    metric(out, "m2mdm_store_wal_syncs_total", "counter",
           "fdatasyncs of the store's write-ahead log (group commit: one covers every commit before it).",
           store->wal_syncs);
  }
  out += "# HELP m2mdm_store_up 1 when the store answered the scrape.\n# TYPE m2mdm_store_up gauge\n";
  out += std::string("m2mdm_store_up ") + (store ? "1" : "0") + "\n";
  return out;
}

}  // namespace m2mdm::server
