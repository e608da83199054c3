/// @file store_types.hpp
/// @brief The RO's records as the store holds them: SHOs, devices (with their DM credentials and
///        temporary K/OPc), jobs and results, DRF bootstraps, the audit log and the SHO callback
///        outbox. Plain values; secrets are plain here and encrypted only inside the store.
///
/// Times are Unix seconds (`std::int64_t`), always passed in by the caller so that workflows and
/// tests control the clock.
#pragma once

#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::server {

/// A Subscription Home Operator known to the RO (TR 33.812 §5.1).
struct Sho {
  std::int64_t id = 0;
  std::string name;
  Bytes token_hash;          ///< SHA-256 of the bearer token (the token itself is never stored)
  std::string callback_url;  ///< where results are POSTed; empty = none registered
  std::int64_t created = 0;
  /// CN of the SHO's signing certificate: the sho_id of its sealed MCIMs and the "from"/"to" of
  /// operator-change tokens. Empty = the same as name.
  std::string signer;
  /// The id the SHO signs with (signer, or name when no signer was set).
  const std::string& signer_name() const noexcept { return signer.empty() ? name : signer; }
};

/// A subscriber: a device owner (seed 004 "M2ME U/S") with its own bearer token for its group of
/// devices. Where a device has one, only the subscriber authorises a change of its SHO (the
/// operator-change token is "by":"subscriber") and chooses its active MCIM.
struct Subscriber {
  std::int64_t id = 0;
  std::string name;   ///< unique; the CN of its signing certificate (the tokens' "subscriber")
  Bytes token_hash;   ///< SHA-256 of the bearer token (the token itself is never stored)
  std::int64_t created = 0;
};

/// Lifecycle of a device at the RO.
enum class DeviceState {
  imported,      ///< known (PCID, DevId) but never bootstrapped
  bootstrapped,  ///< the DRF issued a bootstrap
  registered,    ///< the device opened a DM session to the DPF
  provisioning,  ///< an MCIM job is in flight
  provisioned,   ///< an MCIM was installed
  failed,        ///< the last provisioning failed
};
std::string_view to_string(DeviceState s) noexcept;
std::optional<DeviceState> device_state_from_string(std::string_view s) noexcept;

/// The OMA DM credentials of the DM account the device was bootstrapped with
/// (DM_Security 1.2 §5.3: each side has its own name/secret/nonce). Encrypted at rest.
struct DmCredentials {
  std::string server_id;        ///< the DPF's ServerID in the DMAcc
  std::string server_username;  ///< name the server uses to authenticate to the client
  std::string server_password;
  Bytes server_nonce;           ///< nonce the client expects from the server next
  std::string client_username;  ///< name the client authenticates with (usually = DevId)
  std::string client_password;
  Bytes client_nonce;           ///< nonce the server challenged the client with last
};

/// One M2M equipment as the RO knows it (TR 33.812 §5.2: PCID, DRF registry entry, PfC).
struct Device {
  std::int64_t id = 0;                ///< row id (store-assigned; ignored by upsert)
  std::string dev_id;                 ///< DM DevId (e.g. "IMEI:..."), unique
  std::string pcid;                   ///< provisional connectivity id (IMSI-like), unique
  std::optional<std::int64_t> sho_id; ///< the SHO it is registered to (DRF registry)
  std::string dpf_address;            ///< DPF URL the bootstrap points the device to
  DmCredentials dm;                   ///< encrypted at rest
  /// The credentials of a re-bootstrap the device has not used yet: accepted beside dm until the
  /// device authenticates with them, then they replace dm. Encrypted at rest.
  std::optional<DmCredentials> pending_dm;
  Bytes device_pin;                   ///< PIN that MACs the bootstrap; encrypted at rest
  Bytes k;                            ///< 16-byte Milenage K of the PCID; encrypted at rest
  Bytes opc;                          ///< 16-byte OPc of the PCID; encrypted at rest
  std::uint64_t sqn = 0;              ///< next SQN (48-bit) the ICF will use
  Bytes pfc_der;                      ///< platform credential certificate as reported; empty = none
  std::string pfc_validation;         ///< JSON of the last PVA verdict; empty = never validated
  DeviceState state = DeviceState::imported;
  std::int64_t last_seen = 0;         ///< last DM session; 0 = never
  std::string push_address;           ///< "udp:HOST:PORT" (or "HOST:PORT") for the package-0/bootstrap
                                      ///< WAP push (UDP, WAP-259-WDP); empty = unknown
  std::string sec_method = "USERPIN"; ///< SEC method the DRF MACs the bootstrap with (ProvBoot 1.1 §5.3)
  std::int64_t created = 0;
  std::int64_t updated = 0;
  std::optional<std::int64_t> subscriber_id;  ///< its owner (Subscriber::id); none = no subscriber
};

/// What a bulk import did.
struct ImportCounts {
  std::size_t inserted = 0;
  std::size_t updated = 0;
  std::size_t unchanged = 0;
};

/// An SHO's claim of a device the operator registered without an SHO (docs/server.md "Who owns
/// a device"): the SHO proves possession with the device PIN the operator imported.
struct DeviceClaim {
  std::int64_t sho_id = 0;  ///< the claiming SHO
  std::string dev_id;
  Bytes device_pin;         ///< the proof
};

/// How many failed claims an SHO may make (brute force of a device PIN).
struct ClaimPolicy {
  int max_failures = 10;               ///< failed claims per window; then every claim is throttled
  std::int64_t window_seconds = 3600;  ///< the window starts at the SHO's first failure
};

/// What a claim came to. `refused` is one verdict for an unknown DevId, a wrong or missing PIN and
/// a device that has an SHO (another one, or the caller without the right proof): the caller
/// cannot tell them apart (the audit log can).
enum class ClaimVerdict {
  claimed,    ///< the device is (now) the caller's
  refused,    ///< counted as a failure
  throttled,  ///< too many failures in the window: the proof was not looked at
};

/// The verdict of DeviceStore::claim_device.
struct ClaimOutcome {
  ClaimVerdict verdict = ClaimVerdict::refused;
  std::int64_t retry_after = 0;  ///< throttled: seconds until the window ends
};

/// Job lifecycle (DPF, TR 33.812 §5.2 steps 14–21).
enum class JobState {
  queued,           ///< accepted from the SHO
  notified,         ///< a package 0 was sent to the device
  delivering,       ///< claimed by a DM session; the object is being sent
  delivered,        ///< the object and the Exec with the Correlator were sent; the Exec's Status is due
  awaiting_result,  ///< Exec sent, waiting for the Generic Alert with the Correlator
  succeeded,        ///< terminal
  failed,           ///< terminal
  expired,          ///< terminal: deadline passed before a result
  cancelled,        ///< terminal: withdrawn (operator or owning SHO) before it reached the device
};
std::string_view to_string(JobState s) noexcept;
std::optional<JobState> job_state_from_string(std::string_view s) noexcept;
/// True for succeeded/failed/expired/cancelled.
bool is_terminal(JobState s) noexcept;

/// Kinds of job an SHO may submit (the M2MSIMMobj operations).
enum class JobKind {
  install,
  activate,
  deactivate,
  delete_mcim,
  reset,
  operator_change,
  arm_rebootstrap,  ///< Exec ReBootstrap/Operations/Arm (data: validity in seconds); answered at once (200)
};
std::string_view to_string(JobKind k) noexcept;
std::optional<JobKind> job_kind_from_string(std::string_view s) noexcept;

/// A unit of work for one device.
struct Job {
  std::int64_t id = 0;
  std::string dev_id;
  std::int64_t sho_id = 0;
  JobKind kind = JobKind::install;
  Bytes payload;              ///< the sealed M2MSIMMobj (opaque to the RO)
  std::string authorisation;  ///< the SHO's authorisation (opaque; passed to the device)
  std::string correlator;     ///< unique; the Exec Correlator the device echoes in its alert
  JobState state = JobState::queued;
  int attempts = 0;           ///< how many times a session claimed it
  std::int64_t deadline = 0;  ///< after this the job expires; 0 = never
  std::int64_t created = 0;
  std::int64_t updated = 0;
  int notify_attempts = 0;          ///< package 0 pushes sent for this job
  std::int64_t next_notify_at = 0;  ///< earliest time of the next package 0 push
};

/// The parameters of a new job (id, state, attempts, timestamps are store-assigned).
struct NewJob {
  std::string dev_id;
  std::int64_t sho_id = 0;
  JobKind kind = JobKind::install;
  Bytes payload;
  std::string authorisation;
  std::string correlator;  ///< empty = the store generates one ("job-<id>-<random hex>")
  std::int64_t deadline = 0;
};

/// The device's final word on a job (Generic Alert 1226 result code, DM_Protocol 1.2 §8.7).
struct JobResult {
  std::int64_t job_id = 0;
  int code = 0;  ///< SyncML status code reported (200 = success)
  std::string message;
  std::int64_t at = 0;
};

/// What record_result did.
enum class RecordOutcome {
  recorded,   ///< first result for this job: stored, job made terminal, callback enqueued
  duplicate,  ///< the job already had a result: nothing changed (idempotent)
};

/// One row of the audit log.
struct AuditEntry {
  std::int64_t id = 0;
  std::int64_t at = 0;
  std::string actor;    ///< "operator", "sho:<id>", "device:<devId>", "system"
  std::string action;   ///< e.g. "device.import", "pva.validate", "job.submit"
  std::string subject;  ///< e.g. a DevId or job id
  std::string detail;
};

/// One pending SHO callback (transactional outbox).
struct OutboxEntry {
  std::int64_t id = 0;
  std::int64_t sho_id = 0;
  std::string url;
  std::string body;  ///< JSON
  int attempts = 0;
  std::int64_t next_attempt_at = 0;
  bool acknowledged = false;
};

/// One bootstrap the DRF issued (TR 33.812 §5.2.2.6.3.2, seed 003 steps 9-11).
struct BootstrapRecord {
  std::int64_t id = 0;
  std::string dev_id;
  std::int64_t issued = 0;
  std::string actor;       ///< who asked for it ("operator", "sho:<id>")
  std::string sec_method;  ///< "USERPIN", "NETWPIN", "USERNETWPIN"
  std::string delivery;    ///< "udp" (pushed) or "sms" (segments returned to the caller)
  bool rebootstrap = false;
  bool active = true;      ///< the device's current bootstrap (at most one per device)
};

/// What one DM message changed about its device, gathered while the DPF handles the message and
/// written in one transaction before the reply leaves (DeviceStore::record_dm_message): one
/// commit per message instead of one per change. Unset members change nothing.
struct DmMessageWrites {
  std::optional<Bytes> server_nonce;  ///< with client_nonce: the nonces for the next authentication
  std::optional<Bytes> client_nonce;
  bool seen = false;                  ///< a DM session: last_seen = now
  bool registered = false;            ///< imported or bootstrapped → registered (other states stay)
  std::optional<DeviceState> state;   ///< set as is (after `registered`)
  std::vector<AuditEntry> audit;      ///< appended in order

  [[nodiscard]] bool empty() const noexcept {
    return !server_nonce && !seen && !registered && !state && audit.empty();
  }
};

/// Changes to a device's delivery settings (PATCH); unset members are left alone.
struct DevicePatch {
  std::optional<std::string> push_address;  ///< "" clears it
  std::optional<std::string> sec_method;
};

/// Where an operator change stands (docs/operator-change.md).
enum class ChangeState {
  requested,       ///< accepted with a verified authorisation; its job delivers the new SHO's MCIM (A)
                   ///< or resets the device (B)
  discarded,       ///< the device confirmed the old SHO's MCIM discarded (A step 9, B step 3)
  pristine,        ///< B: the device is back to the pristine state and the DRF registry names the new
                   ///< SHO; the re-bootstrap is issued, the new SHO's MCIM waits for the device
  reprovisioning,  ///< B: the device authenticated with its re-bootstrap's credentials; the install
                   ///< job (job_id) delivers the new SHO's MCIM
  completed,       ///< terminal: the new MCIM is installed; the DRF registry names the new SHO
  failed,          ///< terminal: a job failed, expired or was cancelled (A, B before the reset: the
                   ///< device stays with the old SHO; B after it: it stays pristine, the new SHO's)
};
std::string_view to_string(ChangeState s) noexcept;
std::optional<ChangeState> change_state_from_string(std::string_view s) noexcept;

/// One operator change of one device from one SHO to another.
struct OperatorChange {
  std::int64_t id = 0;
  std::string dev_id;
  std::string variant;            ///< "A", "B" or "C" (mo::ChangeVariant)
  std::int64_t from_sho = 0;      ///< the old SHO (OSHO)
  std::int64_t to_sho = 0;        ///< the new SHO (NSHO)
  std::int64_t job_id = 0;        ///< the job that delivers the new SHO's MCIM (B: the reset job until
                                  ///< the install job exists)
  std::int64_t reset_job_id = 0;  ///< B: the job that resets the device to the pristine state
  std::int64_t batch_id = 0;      ///< the bulk request it belongs to; 0 = a single request
  std::string nonce;              ///< the authorisation's nonce (spent)
  ChangeState state = ChangeState::requested;
  std::string discard_detail;     ///< the device's discard confirmation (old SHO data: OSHO and RO only)
  std::int64_t discarded_at = 0;
  std::int64_t acknowledged_at = 0;  ///< when the old SHO acknowledged the discard; 0 = not yet
  std::int64_t completed_at = 0;
  int result_code = 0;            ///< the install result (1200 = success); 0 = none yet
  std::int64_t created = 0;
  std::int64_t updated = 0;
  std::int64_t install_ttl = 0;   ///< B: seconds the install job may take once it exists
  // Written by create_operator_change only (not read back):
  Bytes mcim;                     ///< B: the new SHO's sealed MCIM, delivered after the re-bootstrap
};

/// One bulk operator-change request of a new SHO (a list of devices, seed 001 §5.4.4 step 3).
struct ChangeBatch {
  std::int64_t id = 0;
  std::int64_t to_sho = 0;  ///< the requesting (new) SHO
  std::string variant;
  std::int64_t size = 0;    ///< devices in the request (accepted or not)
  std::int64_t created = 0;
};

/// What a device listing asks for (GET /api/v1/devices; docs/console.md "API queries"): one page
/// in DevId order after @p after_dev_id, narrowed by owner, state and a DevId prefix.
struct DeviceQuery {
  std::optional<std::int64_t> sho_id;         ///< only this SHO's devices
  std::optional<std::int64_t> subscriber_id;  ///< only this subscriber's devices
  std::optional<DeviceState> state;           ///< only devices in this state
  std::string dev_id_prefix;                  ///< only DevIds starting with this ("" = any)
  std::string after_dev_id;                   ///< the last DevId of the previous page ("" = first page)
  std::size_t limit = 100;
};

/// What a job listing asks for: one page, narrowed by device, SHO and state. A device's jobs come
/// oldest first (ids above @p after_id); jobs across devices newest first (ids below it).
struct JobQuery {
  std::string dev_id;                  ///< "" = every device
  std::optional<std::int64_t> sho_id;  ///< only this SHO's jobs
  std::optional<JobState> state;
  std::int64_t after_id = 0;           ///< the last id of the previous page (0 = first page)
  std::size_t limit = 100;
};

/// Counts for /metrics.
struct StoreStats {
  std::map<std::string, std::int64_t> jobs_by_state;     ///< keyed by to_string(JobState)
  std::map<std::string, std::int64_t> devices_by_state;  ///< keyed by to_string(DeviceState)
  std::int64_t outbox_pending = 0;
  std::int64_t shos = 0;
  std::uint64_t commits = 0;    ///< transactions committed since the store was opened
  std::uint64_t wal_syncs = 0;  ///< fdatasyncs of the write-ahead log by group commit (0 without it)
};

/// SHA-256 of a bearer token (what `Sho::token_hash` and `Subscriber::token_hash` hold).
Bytes hash_token(std::string_view token);

/// A fresh bearer token: 32 random bytes as 64 hex digits ("" when the DRBG fails).
std::string new_bearer_token();

}  // namespace m2mdm::server
