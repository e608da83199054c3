/// @file load_stats.hpp
/// @brief The figures of an `m2mdm load` run: latency percentiles, errors by kind, the final
///        summary (text and JSON) and the once-a-second progress line. Pure logic, no I/O.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace m2mdm::cli::load {

/// Percentiles of a set of latency samples (milliseconds).
struct LatencyFigures {
  std::size_t count = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

/// Nearest-rank percentile (@p p in (0, 100]) of @p sorted_ms (ascending); 0 when empty.
double percentile(const std::vector<double>& sorted_ms, double p);

/// Sorts @p samples_ms and returns their count, p50, p95, p99 and maximum.
LatencyFigures latency_figures(std::vector<double> samples_ms);

/// The server process's resource use as /proc shows it (same machine only).
struct ServerUsage {
  double cpu_seconds = 0;             ///< utime + stime spent during the run
  std::uint64_t peak_rss_kb = 0;      ///< VmHWM at the end of the run (peak over the process's life)
};

/// Everything the run measured.
struct LoadSummary {
  std::string mode;                   ///< "session" or "message"
  std::size_t devices = 0;
  unsigned concurrency = 0;
  double elapsed_s = 0;               ///< from the first session started to the last one ended
  std::uint64_t sessions = 0;         ///< sessions completed with authentication both ways
  std::uint64_t messages = 0;         ///< DM messages exchanged (request + response = one)
  std::uint64_t connections = 0;      ///< TCP (and TLS) connections opened
  std::uint64_t tls_resumed = 0;      ///< ... of them with a resumed TLS session
  std::uint64_t alerts_acknowledged = 0;  ///< Generic Alerts (install results) the server acknowledged
  std::map<std::string, std::uint64_t> errors;  ///< error kind -> count
  LatencyFigures message_latency;
  LatencyFigures session_latency;
  std::optional<ServerUsage> server;  ///< with --server-pid
  double import_s = 0;                ///< time to import the devices over REST (0 = skipped)

  std::uint64_t error_count() const;
  double sessions_per_s() const;
  double messages_per_s() const;
};

/// The summary as one JSON object (the `--json` output; field names in docs/benchmarks.md).
nlohmann::json summary_json(const LoadSummary& s);

/// The summary as a few human-readable lines.
std::string summary_text(const LoadSummary& s);

/// One progress line: "t=3s sessions=120 messages=480 errors=0 rate=41.0 sessions/s".
/// @p rate_per_s is the rate of sessions over the last interval.
std::string progress_line(double elapsed_s, std::uint64_t sessions, std::uint64_t messages, std::uint64_t errors,
                          double rate_per_s);

/// utime + stime in clock ticks from the text of /proc/PID/stat; nullopt when malformed.
std::optional<std::uint64_t> cpu_ticks_from_proc_stat(const std::string& stat);

/// VmHWM in kB from the text of /proc/PID/status; nullopt when absent.
std::optional<std::uint64_t> vmhwm_kb_from_proc_status(const std::string& status);

}  // namespace m2mdm::cli::load
