/// @file drf_service.hpp
/// @brief The DRF and the DPF's package 0 trigger over the Store and a PushSender:
///        `DrfService` issues, records and delivers bootstraps (UDP push, or SMS segments handed
///        back for an SMSC); `JobNotifier` pushes a package 0 for every queued job whose device
///        has a push address (bounded retries with back-off; state in the Store, so it survives
///        a restart). TR 33.812 §5.2 steps 9-12 and 14-15.
#pragma once

#include "m2mdm/server/drf.hpp"
#include "m2mdm/server/polling_worker.hpp"
#include "m2mdm/server/push.hpp"
#include "m2mdm/server/store.hpp"

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace m2mdm::server {

/// One bootstrap request (REST: POST /api/v1/devices/{devId}/bootstrap).
struct BootstrapRequest {
  BootstrapDelivery delivery = BootstrapDelivery::udp;
  bool rebootstrap = false;         ///< replace an active bootstrap
  std::string rebootstrap_token;    ///< written into VENDORCONFIG REBOOTSTRAP-TOKEN when non-empty
  std::string actor;                ///< "operator", "sho:<id>" (audit)
  bool caller_may_rebootstrap = false;  ///< operator token or the device's own SHO
};

/// What a successful request did.
struct BootstrapOutcome {
  BootstrapRecord record;
  IssuedBootstrap issued;
  std::string push_address;  ///< where it was sent (udp delivery)
};

/// Why the DRF refused a bootstrap request (the REST layer maps each to an HTTP status).
enum class DrfRefusalKind {
  not_configured,        ///< the DRF has no DPF key pin to put in the bootstrap
  unknown_device,        ///< no such device
  already_bootstrapped,  ///< the device has an active bootstrap and no re-bootstrap was asked for
  not_authorised,        ///< a re-bootstrap asked for by a caller that may not
  undeliverable,         ///< no usable push address, an unsupported SEC method, or no PIN / PCID for it
  push_failed,           ///< the UDP push could not be sent (the new bootstrap was deactivated)
  internal,              ///< a storage or encoding failure
};

/// Why a request was refused: the kind and a one-line reason for the caller.
struct DrfRefusal {
  DrfRefusalKind kind = DrfRefusalKind::internal;
  std::string reason;
};

/// The DRF (thread-safe).
class DrfService {
 public:
  using Clock = std::function<std::int64_t()>;
  /// @p settings.dpf.spki_sha256 must be 32 bytes for bootstraps to be issued (else not_configured).
  DrfService(Store& store, PushSender& sender, DrfSettings settings, Clock clock = {});

  /// Looks the device up, refuses a second bootstrap unless re-bootstrap is asked for and the
  /// caller is authorised (already_bootstrapped / not_authorised), issues fresh credentials,
  /// records them (one transaction), then pushes the PDU over UDP (udp) or returns the SMS
  /// segments (sms). A failed UDP send deactivates the new bootstrap (push_failed).
  std::expected<BootstrapOutcome, DrfRefusal> bootstrap(std::string_view dev_id, const BootstrapRequest& request);

  bool configured() const noexcept { return settings_.dpf.spki_sha256.size() == 32; }

  /// Sends @p pdu (a push this DRF made before) to @p push_address again, as it is (a lost UDP
  /// push); false when the address is unusable or the send failed.
  bool push_again(std::string_view push_address, ByteView pdu);

 private:
  std::int64_t now() const;
  Store& store_;
  PushSender& sender_;
  DrfSettings settings_;
  Clock clock_;
  std::mutex mutex_;  // one bootstrap at a time (the active-bootstrap check and the write)
};

/// Package 0 trigger settings.
struct NotifierOptions {
  int max_attempts = 5;                    ///< pushes per job before it just waits for the device
  std::int64_t retry_seconds = 30;         ///< first retry after this; doubles up to max_retry_seconds
  std::int64_t max_retry_seconds = 900;
  /// A job claimed by a session that made no progress for this long is pushed a package 0 again:
  /// the device lost the session (it restarted, or lost power) and only a trigger brings it back.
  std::int64_t stall_seconds = 300;
  std::chrono::milliseconds poll{1000};    ///< how often the thread looks for work
  std::function<std::int64_t()> clock;     ///< Unix seconds; default system clock
};

/// Pushes package 0 for queued jobs (a background thread every options.poll, or run_once() from a
/// test); poke() when a job was just submitted.
class JobNotifier final : public PollingWorker {
 public:
  JobNotifier(Store& store, PushSender& sender, NotifierOptions options);
  ~JobNotifier() override;  // stops the thread first: run_once() uses the members

  /// One sweep: every due job gets a push; returns how many pushes were sent.
  std::size_t run_once() override;
  /// Pushes one package 0 to @p dev_id from the thread (a generic management command was queued
  /// for it; DM_Notification 1.2 §6). One attempt: a device that misses it gets the command in
  /// its next session anyway.
  void push_device(std::string dev_id);

 private:
  std::int64_t now() const;
  std::size_t push_requested();  // drains requested_ (run_once)
  std::mutex requested_mutex_;
  std::vector<std::string> requested_;  // guarded by requested_mutex_
  Store& store_;
  PushSender& sender_;
  NotifierOptions options_;
};

}  // namespace m2mdm::server
