/// @file operator_change_service.hpp
/// @brief The RO's side of operator change (docs/operator-change.md): checks a new SHO's request
///        (the old SHO's token, the PVA verdict), creates the change and its first job, and moves
///        a variant-B change on after the device's reset (the re-bootstrap that names the new SHO).
///        No HTTP here: the REST endpoint maps the outcome to a response.
#pragma once

#include "m2mdm/mo/trust.hpp"
#include "m2mdm/server/drf_service.hpp"
#include "m2mdm/server/pva.hpp"
#include "m2mdm/server/store.hpp"

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace m2mdm::server {

/// A new SHO's request (POST /api/v1/devices/{devId}/operator-change, parsed).
struct ChangeRequest {
  std::string dev_id;
  std::int64_t new_sho = 0;   ///< the requesting SHO account
  std::string variant;        ///< "A", "B" or "C"
  Bytes authorisation;        ///< the old SHO's token (CMS SignedData, DER)
  Bytes mcim;                 ///< the new SHO's MCIM, sealed to the device's PfC
  std::string correlator;     ///< the new SHO's reference for the first job ("" = generated)
  std::int64_t ttl_seconds = 0;  ///< how long each job of the change may take
  std::string actor;          ///< "sho:<id>" (audit)
  std::int64_t batch_id = 0;  ///< the bulk request it is part of (request_batch sets it)
};


/// Why a request was refused.
enum class ChangeRefusalKind {
  not_configured,        ///< no SHO trust anchors
  authorisation_failed,  ///< the token (or an unknown DevId, or a device without SHO): 1412
  conflict,              ///< already the caller's device, a change in progress, nonce or correlator used, no PfC
  pfc_invalid,           ///< the PVA refused the device's PfC
  internal,              ///< the store failed
};

struct ChangeRefusal {
  ChangeRefusalKind kind = ChangeRefusalKind::internal;
  std::string reason;
};

/// One device of a bulk request: its change and first job, or why it was refused.
struct BatchItemOutcome {
  std::string dev_id;
  std::optional<std::pair<OperatorChange, Job>> created;
  std::optional<ChangeRefusal> refusal;
};

/// Settings.
struct OperatorChangeOptions {
  /// CAs of the SHOs' signing certificates (as the devices hold them); unset = not configured.
  std::optional<mo::TrustAnchors> sho_anchors;
  /// CAs of the subscribers' signing certificates: a device assigned to a subscriber changes SHO
  /// only on a token its subscriber signed ("by":"subscriber"); unset = such devices cannot.
  std::optional<mo::TrustAnchors> subscriber_anchors;
  /// B: the re-bootstrap push (UDP, may be lost) is sent again, the same bytes, this long after
  /// the last send while the device has not used it, at most rebootstrap_max_sends times in all.
  std::int64_t rebootstrap_resend_seconds = 120;
  int rebootstrap_max_sends = 10;
  std::function<std::int64_t()> clock;  ///< Unix seconds; default system clock
};

/// Thread-safe.
class OperatorChangeService {
 public:
  OperatorChangeService(Store& store, const Pva& pva, OperatorChangeOptions options);

  /// Installs the DRF that re-bootstraps a device reset by variant B (nullptr = none yet).
  void set_drf(std::shared_ptr<DrfService> drf);
  bool configured() const noexcept { return options_.sho_anchors.has_value(); }

  /// Verifies the token (mo::verify_change_token: signer = the device's current SHO, variant,
  /// device, new SHO = the caller, time, nonce unused) and the PfC (PVA), then creates the
  /// change and its first job in one transaction: A and C the install of @p request.mcim with
  /// the token (C: the device replaces the IMSI, K and OTA keys of the same USIM application);
  /// B the reset to the pristine state with the token (the MCIM waits for the re-bootstrap).
  /// Returns the change and that job.
  std::expected<std::pair<OperatorChange, Job>, ChangeRefusal> request(const ChangeRequest& request);

  /// A bulk request (seed 001 §5.4.4 step 3: the new SHO's list of devices, each with the old
  /// SHO's token as its consent, step 4): a batch, then request() for each device on its own (a
  /// refused device does not stop the others). @p items share variant, new SHO, TTL and actor;
  /// their correlators are their own.
  std::expected<std::pair<ChangeBatch, std::vector<BatchItemOutcome>>, ChangeRefusal> request_batch(
      std::vector<ChangeRequest> items);

  /// A job's result was recorded: when it was the reset of a variant-B change (now pristine,
  /// the DRF registry naming the new SHO) the device is re-bootstrapped (seed 004
  /// §5.2.5.8.3.2 steps 4-8).
  void on_job_result(std::int64_t job_id);

  /// For every pristine change (B, reset done, waiting for the device's re-bootstrap):
  /// - past its window (the change's TTL since the reset) it fails: the new SHO is told;
  /// - a device that holds no pending re-bootstrap gets one (the RO stopped between the reset and
  ///   the re-bootstrap, or the push failed);
  /// - a pending re-bootstrap this process pushed and the device has not used is pushed again,
  ///   the same bytes, every rebootstrap_resend_seconds (a lost UDP push; a device that applied
  ///   it refuses the copy, disarmed). After a restart the bytes are gone: not resent.
  /// Returns how many pushes went out. Called at start and periodically.
  std::size_t resume();

 private:
  std::int64_t now() const;
  /// Issues the re-bootstrap of @p change's device; false when it did not go out.
  bool rebootstrap(const OperatorChange& change);
  /// Pushes @p change's pending re-bootstrap again when it is due (see resume()).
  bool resend(const OperatorChange& change);
  /// The DRF installed by set_drf() (nullptr = none yet).
  std::shared_ptr<DrfService> current_drf() const;

  Store& store_;
  const Pva& pva_;
  OperatorChangeOptions options_;
  mutable std::mutex mutex_;  // guards drf_
  std::shared_ptr<DrfService> drf_;
  std::mutex rebootstrap_mutex_;  // one re-bootstrap decision at a time; guards pushes_
  /// The re-bootstrap push this process sent for a change (by change id), to send it again.
  struct SentPush {
    std::int64_t bootstrap_id = 0;
    std::string address;
    Bytes pdu;
    std::int64_t last_sent = 0;
    int sends = 0;
  };
  std::map<std::int64_t, SentPush> pushes_;
};

}  // namespace m2mdm::server
