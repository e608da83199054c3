/// @file demo_support.hpp
/// @brief The pieces `m2mdm demo` (demo_command.cpp) is built from: a REST client for the
///        simulated SHO/VNO (the server's own Beast client, server::http_call), the SHO's
///        callback inbox (an in-process HTTPS receiver on server::HttpServer), spawning and
///        watching `m2mdm-device` agents, and the per-device provisioning run (demo_device.cpp).
#pragma once

#include "m2mdm/client/events.hpp"
#include "m2mdm/mo/crypto_handles.hpp"
#include "m2mdm/server/http.hpp"
#include "m2mdm/syncml/encoding.hpp"

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::cli::demo {

using Clock = std::chrono::steady_clock;

/// The REST API of the RO, over HTTPS verified against the test PKI's TLS CA.
struct Rest {
  std::string base;             ///< "https://127.0.0.1:PORT"
  std::filesystem::path ca;     ///< tls-ca of the test PKI
  struct Reply {
    int status = 0;
    std::string body;
    nlohmann::json json;        ///< parsed body (discarded when not JSON)
    std::string error;          ///< transport error (status 0)
    /// "HTTP 400: {...}" or the transport error, for failure messages.
    std::string describe() const;
  };
  /// One call, bounded by min(10 s, time left before @p deadline).
  Reply call(std::string_view method, const std::string& path, const std::string& token, Clock::time_point deadline,
             std::string content_type = {}, std::string body = {}) const;
};

/// The simulated SHOs' callback endpoint (TR 33.812 step 21): records each POSTed job result by
/// jobId, and each operator-change event by (event, operatorChangeId) with the path it came to.
class CallbackInbox final : public server::HttpHandler {
 public:
  server::HttpResponse handle(const server::HttpRequest& request) override;
  /// Waits until a callback for @p job_id arrived (true) or @p deadline passed (false).
  bool wait_for(std::int64_t job_id, Clock::time_point deadline, std::string& body);
  /// Waits until the operator-change event @p event for change @p change_id arrived.
  bool wait_for_event(const std::string& event, std::int64_t change_id, Clock::time_point deadline, std::string& path,
                      std::string& body);
  std::size_t received() const;
  /// How many callbacks for @p job_id arrived (a redelivery counts again).
  std::size_t received_for(std::int64_t job_id) const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::int64_t, std::string> by_job_;
  std::map<std::int64_t, std::size_t> count_by_job_;
  std::map<std::pair<std::string, std::int64_t>, std::pair<std::string, std::string>> by_event_;
  std::size_t count_ = 0;
};

/// A spawned `m2mdm-device` (stdout and stderr into @p log), started with `--log-format json`:
/// its progress is read as typed events (the log's JSON lines with an "event" field), never
/// from the human text of its messages.
struct Agent {
  pid_t pid = -1;
  std::filesystem::path log;
  std::optional<int> exit_status;  ///< set once reaped (128+N for a signal)
  /// posix_spawn of @p argv (the log truncated, or appended to with @p append: a restart keeps
  /// the events read so far); false with @p why on failure.
  bool spawn(const std::vector<std::string>& argv, std::string& why, bool append = false);
  /// Reaps without blocking; true when the process has ended.
  bool ended();
  /// SIGTERM, then waits for the exit until @p deadline (SIGKILL after it); the exit status.
  std::optional<int> stop(Clock::time_point deadline);
  /// SIGKILL + reap (idempotent; for failure paths).
  void kill_now();
  /// True when the agent reported an event of @p kind (reads the lines logged since the last call).
  bool has_event(client::DeviceEventKind kind);
  /// How many events of @p kind the agent reported so far (with @p field == @p value when given).
  std::size_t count_events(client::DeviceEventKind kind, std::string_view field = {}, std::string_view value = {});
  /// The events read so far, in order (each a parsed JSON line of the log with an "event" field).
  const std::vector<nlohmann::json>& events() const noexcept { return events_; }
  /// The last @p lines lines of the log.
  std::string log_tail(std::size_t lines) const;

 private:
  /// Parses the complete lines added to the log since the last read into events_.
  void read_events();
  std::uintmax_t read_offset_ = 0;
  std::vector<nlohmann::json> events_;
};

/// A free UDP port on 127.0.0.1 (bound and released), or nullopt.
std::optional<std::uint16_t> free_udp_port();
/// @p n random decimal digits (OpenSSL DRBG); empty on failure.
std::string random_digits(std::size_t n);

/// What every device run shares (read-only during the runs, except the thread-safe members).
struct DemoEnv {
  std::filesystem::path work;
  std::filesystem::path device_bin;
  std::map<std::string, std::filesystem::path> pki;  ///< test PKI files by name (`m2mdm pki init`)
  Rest rest;
  std::string admin_token;  ///< the operator (also the VNO side: ICF)
  std::string sho_token;
  std::string sho_id;       ///< the SHO signing certificate's CN (= profile sho_id)
  mo::Certificate sho_cert;
  mo::PrivateKey sho_key;
  /// `--operator-change A`: after the initial provisioning each device moves to this second SHO.
  std::optional<char> operator_change;
  /// Operator change with a power loss: the agent is killed (SIGKILL) and restarted at this
  /// point ("package0", "discarded" or "installed"); empty = none.
  std::string kill_agent_at;
  /// `--power-cuts N`: each agent is killed (SIGKILL) N times inside its install session(s) and
  /// restarted; 0 = none.
  unsigned power_cuts = 0;
  /// Operator change whose old SHO never acknowledges the discard (the change must complete anyway).
  bool no_ack = false;
  /// Operator change of devices that have a subscriber (their owner): each device is assigned to
  /// it, its agent trusts only the subscriber's tokens, and the subscriber signs the change.
  bool subscriber = false;
  std::string subscriber_name;   ///< its signing certificate's CN
  std::int64_t subscriber_id = 0;
  std::string subscriber_token;
  std::filesystem::path subscriber_ca;
  mo::Certificate subscriber_cert;
  mo::PrivateKey subscriber_key;
  std::string new_sho_token;
  std::string new_sho_id;   ///< its signing certificate's CN
  mo::Certificate new_sho_cert;
  mo::PrivateKey new_sho_key;
  CallbackInbox* inbox = nullptr;
  Clock::time_point deadline;
  std::mutex* print_mutex = nullptr;
};

/// One device of the fleet.
struct DeviceSpec {
  int index = 0;
  std::string dev_id;
  std::string pcid;          ///< provisional connectivity id (IMSI-like), 00101xxxxxxxxxx
  std::string pin;           ///< device PIN (USERPIN), 4..8 digits
  Bytes k, opc;              ///< provisional USIM credentials of the PCID
  std::filesystem::path tre_dir;
  std::filesystem::path pfc;
};

/// How one device's provisioning went.
struct DeviceOutcome {
  bool ok = false;
  std::string imsi;                 ///< the installed MCIM's IMSI
  std::vector<std::string> steps;   ///< completed steps, in order
  std::string failed_step;          ///< empty when ok
  std::string reason;
  double seconds = 0;
  std::string log_tail;             ///< the agent's last log lines on failure
};

/// Runs the whole initial provisioning of one device (see docs/demo.md); never throws, never
/// waits past env.deadline.
DeviceOutcome run_device(const DemoEnv& env, const DeviceSpec& spec);

}  // namespace m2mdm::cli::demo
