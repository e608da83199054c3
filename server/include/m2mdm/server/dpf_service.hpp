/// @file dpf_service.hpp
/// @brief The DPF's DM endpoint: routes `POST /dm` requests to DM server sessions backed by
///        the Store (TR 33.812 steps 18–21).
///
/// The first message of a session creates a `DmServerSession`; its replies carry a RespURI
/// (`<base>/dm?s=<token>`) so that the device's next messages reach the same session, also
/// across connections. Idle sessions expire. Everything a session learns goes to the Store:
/// DevInfo and last contact, the PfC, nonces, job progress and results (which enqueue the SHO
/// callback). Thread-safe: the HTTP server calls it from several threads.
#pragma once

#include "m2mdm/server/dm_session.hpp"
#include "m2mdm/server/http.hpp"
#include "m2mdm/server/store.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

namespace m2mdm::server {

/// Settings of the DM endpoint.
struct DpfOptions {
  std::string server_uri;       ///< our LocURI; "" = derived from the request (scheme://Host/dm)
  std::string public_base;      ///< base of the RespURI ("https://ro.example:8443"); "" = from Host
  std::uint64_t max_msg_size = 64 * 1024;
  std::uint64_t max_obj_size = 4 * 1024 * 1024;
  std::chrono::seconds session_idle_timeout{120};
  std::size_t max_sessions = 10000;
  /// Sessions whose device has not authenticated yet are bounded on their own, so that nobody
  /// who merely knows DevIds can fill the table (DevIds are not secret). Over a bound, the oldest
  /// such session of that DevId / that peer address / overall is dropped; authenticated
  /// sessions are never dropped for an unauthenticated one.
  std::size_t max_unauthenticated_per_device = 2;
  std::size_t max_unauthenticated_per_peer = 64;
  std::size_t max_unauthenticated = 1000;
  std::function<std::int64_t()> clock;  ///< seconds since the epoch; default system clock
  /// Called after a job's result was recorded (the operator-change service moves a change on).
  std::function<void(std::int64_t job_id)> on_job_result;
};

/// Counters for /metrics.
struct DpfStats {
  std::uint64_t sessions_started = 0;
  std::uint64_t sessions_completed = 0;
  std::uint64_t sessions_aborted = 0;
  std::uint64_t sessions_expired = 0;
  std::uint64_t messages = 0;
  std::uint64_t auth_failures = 0;
  std::uint64_t unauthenticated_evicted = 0;  ///< unauthenticated sessions dropped over a bound
  std::size_t sessions_open = 0;
  std::size_t sessions_unauthenticated = 0;   ///< open sessions whose device has not authenticated
};

/// The DPF DM endpoint (see the file comment).
class DpfService final : public DmEndpoint {
 public:
  DpfService(Store& store, DpfOptions options);
  ~DpfService() override;

  HttpResponse handle_dm(const HttpRequest& request) override;

  /// Drops sessions idle for longer than the timeout; returns how many.
  std::size_t expire_idle();
  DpfStats stats() const;

 private:
  struct Entry;
  std::int64_t now() const;
  // All with mutex_ held.
  void erase_locked(const std::shared_ptr<Entry>& entry);
  void authenticated_locked(const std::shared_ptr<Entry>& entry);
  void bound_unauthenticated_locked(const std::shared_ptr<Entry>& entry);
  bool evict_oldest_unauthenticated_locked(const std::function<bool(const Entry&)>& which);
  Store& store_;
  DpfOptions options_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> sessions_;
  std::map<std::uint64_t, std::shared_ptr<Entry>> unauthenticated_;  // by age, oldest first
  std::uint64_t next_seq_ = 0;
  DpfStats stats_;
};

}  // namespace m2mdm::server
