// The worker threads of `m2mdm load` (load_runner.hpp).
#include "load_runner.hpp"

#include "m2mdm/client/session.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace m2mdm::cli::load {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// The devices not in a session right now.
class DevicePool {
 public:
  explicit DevicePool(std::vector<std::unique_ptr<VirtualDevice>>& devices) {
    for (auto& d : devices) free_.push_back(d.get());
  }
  VirtualDevice* take() {
    std::lock_guard lock(mutex_);
    if (free_.empty()) return nullptr;
    VirtualDevice* d = free_.front();
    free_.pop_front();
    return d;
  }
  void give(VirtualDevice* d) {
    std::lock_guard lock(mutex_);
    free_.push_back(d);
  }

 private:
  std::mutex mutex_;
  std::deque<VirtualDevice*> free_;
};

// Shared between the workers and the progress reporter.
struct Shared {
  std::atomic<std::uint64_t> sessions{0}, messages{0}, errors{0}, connections{0}, resumed{0}, alerts{0};
  std::atomic<unsigned> reported_errors{0};
};

// What one worker measured, merged into Shared at its end.
struct WorkerRecord {
  std::vector<double> message_ms, session_ms;
  std::map<std::string, std::uint64_t> errors;
};

class Worker {
 public:
  Worker(const RunOptions& options, Shared& shared, WorkerRecord& record)
      : options_(options), shared_(shared), record_(record), conn_(options.trust, options.io_timeout) {}

  void run(DevicePool& pool, Clock::time_point deadline) {
    while (Clock::now() < deadline && !(options_.stop != nullptr && options_.stop->load())) {
      VirtualDevice* device = pool.take();
      if (device == nullptr) break;  // more workers than devices (run_load prevents it)
      const bool unreachable = session(*device);
      pool.give(device);
      // A device that could not reach the server waits a little before its next try, as a real
      // one would (and a restarting server is not met by a connect storm).
      if (unreachable) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    conn_.close();
  }

 private:
  void error(const std::string& kind, const std::string& detail, const VirtualDevice& device) {
    ++record_.errors[kind];
    ++shared_.errors;
    if (options_.on_error && shared_.reported_errors.fetch_add(1) < 5)
      options_.on_error(kind + ": " + detail + " (" + device.id.dev_id + ")");
  }

  // One client-initiated session of @p device; its outcome is counted. True when the server could
  // not be reached or the connection broke (connect, TLS or I/O failure).
  bool session(VirtualDevice& device) {
    const auto start = Clock::now();
    if (options_.mode == LoadMode::session) conn_.close();  // one connection per session
    conn_.use_ticket(options_.tls_resume ? &device.tls_ticket : nullptr);
    client::ClientSession s(device.tree, device.outbox, kLoadServerId);
    auto first = s.start_client_initiated();
    if (!first) {
      error("client", first.error().message(), device);
      return false;
    }
    client::Outgoing out = std::move(*first);
    for (;;) {
      PostInfo info;
      const auto sent = Clock::now();
      auto reply = conn_.post(out, info);
      if (info.connected) ++shared_.connections;
      if (info.resumed) ++shared_.resumed;
      if (!reply) {
        error(reply.error().kind, reply.error().detail, device);
        return !reply.error().kind.starts_with("http_");
      }
      record_.message_ms.push_back(ms_since(sent) - info.connect_ms);
      ++shared_.messages;
      std::optional<std::string_view> hmac;
      if (reply->hmac_header) hmac = *reply->hmac_header;
      auto next = s.on_response(reply->body, reply->content_type, hmac);
      if (!next) {
        conn_.close();
        error("client", next.error().message() + " " + s.report().abort_reason, device);
        return false;
      }
      if (!*next) break;
      out = std::move(**next);
    }
    if (options_.mode == LoadMode::session) conn_.close();
    const auto& report = s.report();
    shared_.alerts += report.alerts_acknowledged;
    if (s.state() != client::SessionState::Completed) {
      error("session_aborted", report.abort_reason, device);
      return false;
    }
    if (!report.server_authenticated || !report.client_authenticated) {
      error("not_authenticated", report.server_authenticated ? "server refused the device" : "server unproven",
            device);
      return false;
    }
    record_.session_ms.push_back(ms_since(start));
    ++shared_.sessions;
    return false;
  }

  const RunOptions& options_;
  Shared& shared_;
  WorkerRecord& record_;
  DmConnection conn_;
};

}  // namespace

LoadSummary run_load(std::vector<std::unique_ptr<VirtualDevice>>& devices, const RunOptions& options) {
  LoadSummary summary;
  summary.mode = options.mode == LoadMode::session ? "session" : "message";
  summary.devices = devices.size();
  const unsigned workers_n =
      static_cast<unsigned>(std::min<std::size_t>(std::max(1u, options.concurrency), devices.size()));
  summary.concurrency = workers_n;
  if (workers_n == 0) return summary;

  DevicePool pool(devices);
  Shared shared;
  std::vector<WorkerRecord> records(workers_n);
  std::atomic<unsigned> running{workers_n};
  const auto start = Clock::now();
  const auto deadline = start + options.duration;
  std::vector<std::thread> threads;
  threads.reserve(workers_n);
  for (unsigned i = 0; i < workers_n; ++i) {
    threads.emplace_back([&, i] {
      Worker(options, shared, records[i]).run(pool, deadline);
      --running;
    });
  }
  // Progress once a second while the workers run.
  auto next_report = start + std::chrono::seconds(1);
  std::uint64_t last_sessions = 0;
  auto last_time = start;
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto now = Clock::now();
    if (now < next_report || !options.on_progress) continue;
    const std::uint64_t sessions = shared.sessions.load();
    const double interval = std::chrono::duration<double>(now - last_time).count();
    options.on_progress(progress_line(std::chrono::duration<double>(now - start).count(), sessions,
                                      shared.messages.load(), shared.errors.load(),
                                      interval > 0 ? static_cast<double>(sessions - last_sessions) / interval : 0));
    last_sessions = sessions;
    last_time = now;
    next_report += std::chrono::seconds(1);
  }
  for (auto& t : threads) t.join();
  summary.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> message_ms, session_ms;
  for (auto& r : records) {
    message_ms.insert(message_ms.end(), r.message_ms.begin(), r.message_ms.end());
    session_ms.insert(session_ms.end(), r.session_ms.begin(), r.session_ms.end());
    for (const auto& [kind, n] : r.errors) summary.errors[kind] += n;
  }
  summary.sessions = shared.sessions.load();
  summary.messages = shared.messages.load();
  summary.connections = shared.connections.load();
  summary.tls_resumed = shared.resumed.load();
  summary.alerts_acknowledged = shared.alerts.load();
  summary.message_latency = latency_figures(std::move(message_ms));
  summary.session_latency = latency_figures(std::move(session_ms));
  return summary;
}

}  // namespace m2mdm::cli::load
