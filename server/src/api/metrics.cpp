// Request counters and the Prometheus text exposition of /metrics.
#include "m2mdm/server/api.hpp"

#include <span>

namespace m2mdm::server {

void Metrics::count(std::string_view route, std::string_view method, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(route), std::string(method.size() <= 8 ? method : "OTHER"), status}];
}

namespace {

/// The HELP and TYPE lines of a metric.
void describe(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" ");
  out.append(type).append("\n");
}

/// One metric of a stats struct: its name, type and help, and the field it reports.
template <class Stats>
struct Field {
  std::string_view name;
  std::string_view type;
  std::string_view help;
  std::uint64_t (*value)(const Stats&);
};

/// Reads the field @p member of a stats struct as the metric's value.
template <auto member>
std::uint64_t read(const auto& stats) {
  return static_cast<std::uint64_t>(stats.*member);
}

/// Each field of @p table, in its order: HELP, TYPE and the value from @p stats.
template <class Stats>
void fields(std::string& out, std::span<const Field<Stats>> table, const Stats& stats) {
  for (const auto& f : table) {
    describe(out, f.name, f.type, f.help);
    out.append(f.name).append(" ").append(std::to_string(f.value(stats))).append("\n");
  }
}

/// A gauge with one sample per state of @p State (0 to @p last): how many are in it.
template <class State>
void by_state(std::string& out, std::string_view name, std::string_view help,
              const std::map<std::string, std::int64_t>& counts, State last) {
  describe(out, name, "gauge", help);
  for (int i = 0; i <= static_cast<int>(last); ++i) {
    const auto state = std::string(to_string(static_cast<State>(i)));
    const auto it = counts.find(state);
    out.append(name).append("{state=\"").append(state).append("\"} ");
    out.append(std::to_string(it == counts.end() ? 0 : it->second)).append("\n");
  }
}

using H = HttpServerStats;
constexpr Field<H> kHttpFields[] = {
  {"m2mdm_http_active_connections", "gauge", "Open HTTP connections.", read<&H::active_connections>},
  {"m2mdm_http_accepted_connections_total", "counter", "Accepted connections.", read<&H::accepted_connections>},
  {"m2mdm_http_rejected_connections_total", "counter", "Connections refused over the cap.",
   read<&H::rejected_connections>},
  {"m2mdm_http_contained_exceptions_total", "counter",
   "Exceptions caught on a connection (that connection or request failed; the server went on).",
   read<&H::contained_exceptions>},
};

// The DPF's DM sessions (docs/server.md "Monitoring").
using D = DpfStats;
constexpr Field<D> kDpfFields[] = {
  {"m2mdm_dm_sessions_started_total", "counter", "DM sessions started at the DPF.", read<&D::sessions_started>},
  {"m2mdm_dm_sessions_completed_total", "counter", "DM sessions that ended normally.", read<&D::sessions_completed>},
  {"m2mdm_dm_sessions_aborted_total", "counter", "DM sessions the DPF aborted (Alert 1223).",
   read<&D::sessions_aborted>},
  {"m2mdm_dm_sessions_expired_total", "counter", "DM sessions dropped after their idle timeout.",
   read<&D::sessions_expired>},
  {"m2mdm_dm_messages_total", "counter", "DM messages received at /dm.", read<&D::messages>},
  {"m2mdm_dm_auth_failures_total", "counter", "DM messages whose device credentials were refused.",
   read<&D::auth_failures>},
  {"m2mdm_dm_unauthenticated_evicted_total", "counter",
   "Unauthenticated DM sessions dropped over their bounds (per DevId, per peer, overall).",
   read<&D::unauthenticated_evicted>},
  {"m2mdm_dm_sessions_open", "gauge", "Open DM sessions.", read<&D::sessions_open>},
  {"m2mdm_dm_sessions_unauthenticated", "gauge", "Open DM sessions whose device has not authenticated.",
   read<&D::sessions_unauthenticated>},
};

// The store's counters, after its jobs and devices by state.
using S = StoreStats;
constexpr Field<S> kStoreFields[] = {
  {"m2mdm_outbox_pending", "gauge", "SHO callbacks not yet acknowledged.", read<&S::outbox_pending>},
  {"m2mdm_shos", "gauge", "Registered SHOs.", read<&S::shos>},
  {"m2mdm_store_commits_total", "counter", "Store transactions committed since start.", read<&S::commits>},
  {"m2mdm_store_wal_syncs_total", "counter",
   "fdatasyncs of the store's write-ahead log (group commit: one covers every commit before it).",
   read<&S::wal_syncs>},
};

}  // namespace

std::string Metrics::render(const StoreStats* store, const HttpServerStats* http, const DpfStats* dpf) const {
  std::string out;
  describe(out, "m2mdm_http_requests_total", "counter", "HTTP requests by route template, method and status.");
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, n] : requests_) {
      const auto& [route, method, status] = key;
      out += "m2mdm_http_requests_total{route=\"" + route + "\",method=\"" + method + "\",status=\"" +
             std::to_string(status) + "\"} " + std::to_string(n) + "\n";
    }
  }
  if (http) fields<H>(out, kHttpFields, *http);
  if (dpf) fields<D>(out, kDpfFields, *dpf);
  if (store) {
    by_state(out, "m2mdm_jobs", "Jobs by state.", store->jobs_by_state, JobState::cancelled);  // cancelled: the last
    by_state(out, "m2mdm_devices", "Devices by state.", store->devices_by_state, DeviceState::failed);
    fields<S>(out, kStoreFields, *store);
  }
  describe(out, "m2mdm_store_up", "gauge", "1 when the store answered the scrape.");
  out += std::string("m2mdm_store_up ") + (store ? "1" : "0") + "\n";
  return out;
}

}  // namespace m2mdm::server
