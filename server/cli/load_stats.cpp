// The figures of an `m2mdm load` run (load_stats.hpp).
#include "load_stats.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string_view>

namespace m2mdm::cli::load {
namespace {

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

nlohmann::json latency_json(const LatencyFigures& l) {
  return {{"count", l.count}, {"p50", round3(l.p50_ms)}, {"p95", round3(l.p95_ms)}, {"p99", round3(l.p99_ms)},
          {"max", round3(l.max_ms)}};
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::optional<std::uint64_t> to_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

double percentile(const std::vector<double>& sorted_ms, double p) {
  if (sorted_ms.empty()) return 0;
  // Nearest rank: the smallest value with at least p% of the samples at or below it.
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted_ms.size()));
  const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return sorted_ms[std::min(index, sorted_ms.size() - 1)];
}

LatencyFigures latency_figures(std::vector<double> samples_ms) {
  LatencyFigures f;
  if (samples_ms.empty()) return f;
  std::sort(samples_ms.begin(), samples_ms.end());
  f.count = samples_ms.size();
  f.p50_ms = percentile(samples_ms, 50);
  f.p95_ms = percentile(samples_ms, 95);
  f.p99_ms = percentile(samples_ms, 99);
  f.max_ms = samples_ms.back();
  return f;
}

std::uint64_t LoadSummary::error_count() const {
  std::uint64_t n = 0;
  for (const auto& [kind, count] : errors) n += count;
  return n;
}

double LoadSummary::sessions_per_s() const { return elapsed_s > 0 ? static_cast<double>(sessions) / elapsed_s : 0; }

double LoadSummary::messages_per_s() const { return elapsed_s > 0 ? static_cast<double>(messages) / elapsed_s : 0; }

nlohmann::json summary_json(const LoadSummary& s) {
  nlohmann::json j{{"mode", s.mode},
                   {"devices", s.devices},
                   {"concurrency", s.concurrency},
                   {"elapsed_s", round3(s.elapsed_s)},
                   {"import_s", round3(s.import_s)},
                   {"sessions", s.sessions},
                   {"messages", s.messages},
                   {"connections", s.connections},
                   {"tls_resumed", s.tls_resumed},
                   {"alerts_acknowledged", s.alerts_acknowledged},
                   {"sessions_per_s", round3(s.sessions_per_s())},
                   {"messages_per_s", round3(s.messages_per_s())},
                   {"errors", s.error_count()},
                   {"errors_by_kind", nlohmann::json::object()},
                   {"message_latency_ms", latency_json(s.message_latency)},
                   {"session_latency_ms", latency_json(s.session_latency)}};
  for (const auto& [kind, count] : s.errors) j["errors_by_kind"][kind] = count;
  if (s.server) {
    j["server_cpu_s"] = round3(s.server->cpu_seconds);
    j["server_peak_rss_kb"] = s.server->peak_rss_kb;
  }
  return j;
}

std::string summary_text(const LoadSummary& s) {
  std::ostringstream out;
  auto lat = [](const LatencyFigures& l) {
    return "p50 " + fixed(l.p50_ms, 2) + " ms, p95 " + fixed(l.p95_ms, 2) + " ms, p99 " + fixed(l.p99_ms, 2) +
           " ms (" + std::to_string(l.count) + " samples)";
  };
  out << "mode: " << s.mode << ", devices: " << s.devices << ", concurrency: " << s.concurrency
      << ", elapsed: " << fixed(s.elapsed_s, 2) << " s\n";
  out << "sessions: " << s.sessions << " (" << fixed(s.sessions_per_s(), 1) << "/s), messages: " << s.messages << " ("
      << fixed(s.messages_per_s(), 1) << "/s), connections: " << s.connections
      << " (TLS resumed: " << s.tls_resumed << ")"
      << ", alerts acknowledged: " << s.alerts_acknowledged << "\n";
  out << "message latency: " << lat(s.message_latency) << "\n";
  out << "session latency: " << lat(s.session_latency) << "\n";
  out << "errors: " << s.error_count();
  for (const auto& [kind, count] : s.errors) out << " " << kind << "=" << count;
  out << "\n";
  if (s.server)
    out << "server: cpu " << fixed(s.server->cpu_seconds, 2) << " s, peak RSS " << s.server->peak_rss_kb << " kB\n";
  return out.str();
}

std::string progress_line(double elapsed_s, std::uint64_t sessions, std::uint64_t messages, std::uint64_t errors,
                          double rate_per_s) {
  return "t=" + fixed(elapsed_s, 0) + "s sessions=" + std::to_string(sessions) + " messages=" +
         std::to_string(messages) + " errors=" + std::to_string(errors) + " rate=" + fixed(rate_per_s, 1) +
         " sessions/s";
}

std::optional<std::uint64_t> cpu_ticks_from_proc_stat(const std::string& stat) {
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses; fields after it are
  // space-separated, utime and stime are fields 14 and 15 (proc(5)), i.e. the 12th and 13th
  // after the closing parenthesis.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 1));
  std::string field;
  std::optional<std::uint64_t> utime, stime;
  for (int i = 0; i < 13 && rest >> field; ++i) {
    if (i == 11) utime = to_u64(field);
    if (i == 12) stime = to_u64(field);
  }
  if (!utime || !stime) return std::nullopt;
  return *utime + *stime;
}

std::optional<std::uint64_t> vmhwm_kb_from_proc_status(const std::string& status) {
  std::istringstream in(status);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("VmHWM:")) continue;
    std::istringstream fields(line.substr(6));
    std::string value;
    fields >> value;
    return to_u64(value);
  }
  return std::nullopt;
}

}  // namespace m2mdm::cli::load
