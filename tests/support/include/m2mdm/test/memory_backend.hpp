/// @file memory_backend.hpp
/// @brief The DPF's storage for one DM server session, in memory: a server::DmBackend for the
/// tests, fuzzers and benchmarks that run server::DmServerSession without a Store (header-only).
#pragma once

#include "m2mdm/server/dm_session.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace m2mdm::test {

/// The DM credentials of the fixtures: the server @p server_id authenticates with
/// "server-secret", the device @p dev_id with "client-secret"; no nonces yet.
inline server::DmCredentials test_credentials(std::string_view server_id, std::string_view dev_id) {
  server::DmCredentials c;
  c.server_id = std::string(server_id);
  c.server_username = std::string(server_id);
  c.server_password = "server-secret";
  c.client_username = std::string(dev_id);
  c.client_password = "client-secret";
  return c;
}

/// One device (DevId = creds.client_username) and its jobs, in memory. Every job of `jobs` is
/// handed out once, in order (its state becomes `delivering`); what the session reports is
/// recorded in the public members for the test to check.
class MemoryDmBackend final : public server::DmBackend {
 public:
  server::DmCredentials creds;
  /// A re-bootstrap's credentials the device has not used yet; they replace creds when the
  /// device authenticates with them (pending_used counts how often).
  std::optional<server::DmCredentials> pending;
  int pending_used = 0;
  std::vector<server::Job> jobs;                       ///< pending jobs, handed out in order
  std::map<std::int64_t, server::JobState> states;     ///< job id -> last state
  std::vector<std::pair<int, std::string>> failures;   ///< on_job_failed (code, message)
  std::map<std::string, std::string> devinfo;          ///< the last DevInfo
  Bytes pfc;                                           ///< the PfC read (DER); asked for while empty
  std::vector<server::DeviceAlert> alerts;             ///< Generic Alerts accepted
  bool refuse_alerts = false;                          ///< answer 500 to Generic Alerts
  /// When set, decides which Generic Alerts are accepted (instead of refuse_alerts).
  std::function<bool(const server::DeviceAlert&)> accept_alert;

  std::vector<server::MgmtCommand> commands;           ///< management commands, handed out in order
  std::vector<server::MgmtCommand> finished;           ///< on_command_finished, in order

  /// Queues a job for the device (creds.client_username); returns it, to change before a session.
  server::Job& add_job(std::int64_t id, std::string correlator, Bytes payload) {
    server::Job j;
    j.id = id;
    j.dev_id = creds.client_username;
    j.correlator = std::move(correlator);
    j.payload = std::move(payload);
    jobs.push_back(std::move(j));
    return jobs.back();
  }

  Result<server::DmCredentials> credentials(std::string_view dev_id) override {
    if (dev_id != creds.client_username) return fail(std::make_error_code(std::errc::no_such_device));
    return creds;
  }
  std::optional<server::DmCredentials> pending_credentials(std::string_view) override { return pending; }
  void on_pending_credentials_used(std::string_view) override {
    if (!pending) return;
    creds = *pending;
    pending.reset();
    ++pending_used;
  }
  void save_nonces(std::string_view, ByteView server_nonce, ByteView client_nonce) override {
    creds.server_nonce.assign(server_nonce.begin(), server_nonce.end());
    creds.client_nonce.assign(client_nonce.begin(), client_nonce.end());
  }
  void on_device_info(std::string_view, const std::map<std::string, std::string>& info) override { devinfo = info; }
  bool wants_pfc(std::string_view) override { return pfc.empty(); }
  void on_pfc(std::string_view, ByteView der) override { pfc.assign(der.begin(), der.end()); }
  std::optional<server::Job> next_job(std::string_view) override {
    for (auto& j : jobs)
      if (!states.contains(j.id)) {
        states[j.id] = server::JobState::delivering;
        return j;
      }
    return std::nullopt;
  }
  void on_job_state(const server::Job& job, server::JobState to) override { states[job.id] = to; }
  void on_job_completed(const server::Job& job, int code, std::string_view) override {
    states[job.id] = code >= 200 && code < 300 ? server::JobState::succeeded : server::JobState::failed;
  }
  void on_job_failed(const server::Job& job, int code, std::string_view message) override {
    states[job.id] = server::JobState::failed;
    failures.emplace_back(code, std::string(message));
  }
  std::optional<server::MgmtCommand> next_command(std::string_view) override {
    if (commands.empty()) return std::nullopt;
    server::MgmtCommand c = std::move(commands.front());
    commands.erase(commands.begin());
    c.state = server::MgmtState::delivered;
    return c;
  }
  void on_command_finished(const server::MgmtCommand& cmd) override { finished.push_back(cmd); }
  syncml::StatusCode on_generic_alert(std::string_view, const server::DeviceAlert& alert) override {
    if (accept_alert ? !accept_alert(alert) : refuse_alerts) return syncml::StatusCode::CommandFailed;
    alerts.push_back(alert);
    return syncml::StatusCode::Ok;
  }
};

}  // namespace m2mdm::test
