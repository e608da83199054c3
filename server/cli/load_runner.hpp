/// @file load_runner.hpp
/// @brief Drives the virtual devices of `m2mdm load` against a DM server: C worker threads, each
///        taking a free device, running one client-initiated DM session with the real client
///        engine (m2mdm::client::ClientSession) over a DmConnection, and giving it back.
#pragma once

#include "load_connection.hpp"
#include "load_devices.hpp"
#include "load_stats.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace m2mdm::cli::load {

/// How the connections are used.
enum class LoadMode {
  session,  ///< a new connection (and TLS handshake) per session, kept for its messages
  message,  ///< each worker keeps its connection and runs sessions back to back on it
};

/// What a run does.
struct RunOptions {
  LoadMode mode = LoadMode::session;
  unsigned concurrency = 4;                 ///< sessions in flight (worker threads; at most one per device)
  std::chrono::milliseconds duration{10'000};  ///< no session starts after this
  std::chrono::milliseconds io_timeout{10'000};  ///< per connect, send and receive
  std::shared_ptr<TlsTrust> trust;          ///< for https
  bool tls_resume = true;                   ///< each device resumes its last TLS session
  /// Called about once a second with the progress line (empty = no progress).
  std::function<void(const std::string&)> on_progress;
  /// Called with the first few error details (empty = not reported).
  std::function<void(const std::string&)> on_error;
  /// When set and true, no new session starts (as when the duration is over); the sessions in
  /// flight end first. For SIGINT/SIGTERM.
  const std::atomic<bool>* stop = nullptr;
};

/// Runs the load (see the file comment) until the duration is over and every session in flight
/// has ended. Fills the run's counters, latencies and errors (not devices, import or server).
LoadSummary run_load(std::vector<std::unique_ptr<VirtualDevice>>& devices, const RunOptions& options);

}  // namespace m2mdm::cli::load
