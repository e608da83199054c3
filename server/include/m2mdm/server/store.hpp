/// @file store.hpp
/// @brief The RO's persistent state behind a small interface (`Store`) and its SQLite
///        implementation (`SqliteStore`): SHOs, devices (secrets encrypted at rest), jobs,
///        results, an audit log and an outbox of SHO callbacks.
///
/// Times are Unix seconds (`std::int64_t`), always passed in by the caller so that workflows and
/// tests control the clock. Every method is safe to call from several threads at once.
/// Secrets (DM passwords and nonces, device PIN, K/OPc) are plain in these structs and encrypted
/// only inside the store (AES-256-GCM, see `SecretBox`).
#pragma once

#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
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
};

/// What a bulk import did.
struct ImportCounts {
  std::size_t inserted = 0;
  std::size_t updated = 0;
  std::size_t unchanged = 0;
};

/// Job lifecycle (DPF, TR 33.812 §5.2 steps 14–21).
enum class JobState {
  queued,           ///< accepted from the SHO
  notified,         ///< a package 0 was sent to the device
  delivering,       ///< claimed by a DM session; the object is being sent
  delivered,        ///< the device acknowledged the Add/Replace
  awaiting_result,  ///< Exec sent, waiting for the Generic Alert with the Correlator
  succeeded,        ///< terminal
  failed,           ///< terminal
  expired,          ///< terminal: deadline passed before a result
};
std::string_view to_string(JobState s) noexcept;
std::optional<JobState> job_state_from_string(std::string_view s) noexcept;
/// True for succeeded/failed/expired.
bool is_terminal(JobState s) noexcept;

/// Kinds of job an SHO may submit (the M2MSIMMobj operations).
enum class JobKind { install, activate, deactivate, delete_mcim, reset, operator_change };
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

/// Changes to a device's delivery settings (PATCH); unset members are left alone.
struct DevicePatch {
  std::optional<std::string> push_address;  ///< "" clears it
  std::optional<std::string> sec_method;
};

/// Counts for /metrics.
struct StoreStats {
  std::map<std::string, std::int64_t> jobs_by_state;     ///< keyed by to_string(JobState)
  std::map<std::string, std::int64_t> devices_by_state;  ///< keyed by to_string(DeviceState)
  std::int64_t outbox_pending = 0;
  std::int64_t shos = 0;
};

/// The RO's storage. Implementations must make every method atomic; errors are
/// server::errc::not_found (missing row), conflict (a uniqueness constraint), invalid_argument,
/// io_error / store_corrupt (the backing store failed).
class Store {
 public:
  virtual ~Store() = default;

  /// Cheap liveness probe (/healthz).
  virtual Result<void> ping() = 0;

  // --- SHOs
  virtual Result<Sho> create_sho(std::string_view name, ByteView token_hash, std::int64_t now) = 0;
  virtual Result<Sho> get_sho(std::int64_t id) = 0;
  /// Finds the SHO whose token hash equals @p token_hash (not_found otherwise).
  virtual Result<Sho> find_sho_by_token_hash(ByteView token_hash) = 0;
  virtual Result<std::vector<Sho>> list_shos() = 0;
  virtual Result<void> set_sho_callback(std::int64_t sho_id, std::string_view url) = 0;

  // --- devices
  /// Inserts or updates all devices in ONE transaction (all or nothing), keyed by dev_id.
  /// A device whose PCID is already used by another dev_id fails the whole batch (errc::conflict).
  virtual Result<ImportCounts> upsert_devices(std::span<const Device> devices, std::int64_t now) = 0;
  virtual Result<Device> get_device(std::string_view dev_id) = 0;
  virtual Result<Device> get_device_by_pcid(std::string_view pcid) = 0;
  /// Devices of one SHO ordered by dev_id, starting after @p after_dev_id (paging).
  virtual Result<std::vector<Device>> list_devices(std::int64_t sho_id, std::string_view after_dev_id,
                                                   std::size_t limit) = 0;
  virtual Result<void> set_device_state(std::string_view dev_id, DeviceState state, std::int64_t now) = 0;
  /// Records a DM session: last_seen = now, and the push address when non-empty.
  virtual Result<void> touch_device(std::string_view dev_id, std::string_view push_address, std::int64_t now) = 0;
  virtual Result<void> set_device_pfc(std::string_view dev_id, ByteView pfc_der, std::int64_t now) = 0;
  virtual Result<void> set_pfc_validation(std::string_view dev_id, std::string_view verdict_json,
                                          std::int64_t now) = 0;
  /// Replaces the DM credentials (e.g. the DRF issuing a bootstrap).
  virtual Result<void> set_dm_credentials(std::string_view dev_id, const DmCredentials& dm, std::int64_t now) = 0;
  /// Stores the nonces for the next authentication (DM_Security 1.2 §5.4: nonces are per side).
  virtual Result<void> set_dm_nonces(std::string_view dev_id, ByteView server_nonce, ByteView client_nonce,
                                     std::int64_t now) = 0;
  /// Applies @p patch to the device (not_found when it does not exist).
  virtual Result<void> patch_device(std::string_view dev_id, const DevicePatch& patch, std::int64_t now) = 0;
  /// ICF: atomically reserves @p count SQNs for the PCID; returns the first (the stored value
  /// advances by count).
  virtual Result<std::uint64_t> reserve_sqn(std::string_view pcid, std::uint32_t count, std::int64_t now) = 0;
  /// ICF resynchronisation: sets the next SQN for the PCID.
  virtual Result<void> set_sqn(std::string_view pcid, std::uint64_t next_sqn, std::int64_t now) = 0;

  // --- jobs
  /// Queues a job for an existing device (not_found if the device does not exist; invalid_argument
  /// if the correlator is taken: errc::conflict).
  virtual Result<Job> create_job(const NewJob& job, std::int64_t now) = 0;
  virtual Result<Job> get_job(std::int64_t id) = 0;
  virtual Result<Job> get_job_by_correlator(std::string_view correlator) = 0;
  virtual Result<std::vector<Job>> list_jobs(std::string_view dev_id) = 0;
  /// The device's job currently between delivering and awaiting_result, if any (to resume
  /// after a restart).
  virtual Result<std::optional<Job>> active_job(std::string_view dev_id) = 0;
  /// Atomically moves the oldest queued/notified, unexpired job of the device to `delivering`
  /// (attempts+1) — but only when the device has no active job, so two sessions can never
  /// both deliver. Returns nullopt when there is nothing to claim.
  virtual Result<std::optional<Job>> claim_next_job(std::string_view dev_id, std::int64_t now) = 0;
  /// Compare-and-set on the state: returns false (and changes nothing) if the job is not in @p from.
  virtual Result<bool> transition_job(std::int64_t id, JobState from, JobState to, std::int64_t now) = 0;
  /// Records the job's result exactly once (keyed by the job's correlator): in ONE transaction
  /// inserts the result, makes the job succeeded (code 2xx, or 1200 = M2MSIMMobj Success) or failed, sets the device state,
  /// enqueues the SHO callback (if the SHO registered one) and appends an audit entry.
  /// A second call for the same job returns RecordOutcome::duplicate and changes nothing.
  virtual Result<RecordOutcome> record_result(std::string_view correlator, int code, std::string_view message,
                                              std::int64_t now) = 0;
  virtual Result<std::optional<JobResult>> get_result(std::int64_t job_id) = 0;
  /// Moves every non-terminal job whose deadline (non-zero) is < now to expired; returns how many.
  virtual Result<std::size_t> expire_jobs(std::int64_t now) = 0;

  /// Jobs a package 0 should be pushed for now: queued/notified, unexpired, whose device has a
  /// push address, with fewer than @p max_attempts pushes so far and next_notify_at <= now.
  virtual Result<std::vector<Job>> jobs_to_notify(std::int64_t now, int max_attempts, std::size_t limit) = 0;
  /// A package 0 was pushed for the job: notify_attempts+1, next try at @p next_notify_at, and
  /// queued -> notified. Returns false (nothing changed) when the job is no longer queued/notified.
  virtual Result<bool> mark_job_notified(std::int64_t id, std::int64_t next_notify_at, std::int64_t now) = 0;

  // --- DRF bootstraps
  /// In ONE transaction: replaces the device's DM credentials with @p dm, stores @p app_credentials
  /// (the application context's account, encrypted) with a new active bootstrap row (earlier
  /// rows become inactive), moves an imported device to `bootstrapped` and appends an audit
  /// entry. Returns the new row.
  virtual Result<BootstrapRecord> record_bootstrap(const BootstrapRecord& record, const DmCredentials& dm,
                                                   const DmCredentials& app_credentials, std::int64_t now) = 0;
  /// The device's active bootstrap, if any.
  virtual Result<std::optional<BootstrapRecord>> active_bootstrap(std::string_view dev_id) = 0;
  /// Marks a bootstrap inactive (its delivery failed).
  virtual Result<void> deactivate_bootstrap(std::int64_t id) = 0;

  // --- outbox (SHO callbacks)
  virtual Result<std::int64_t> enqueue_callback(std::int64_t sho_id, std::string_view url, std::string_view body,
                                                std::int64_t now) = 0;
  /// Unacknowledged entries with next_attempt_at <= now, oldest first.
  virtual Result<std::vector<OutboxEntry>> due_callbacks(std::int64_t now, std::size_t limit) = 0;
  virtual Result<void> mark_callback_acked(std::int64_t id) = 0;
  /// A delivery attempt failed: attempts+1, next try at @p next_attempt_at.
  virtual Result<void> reschedule_callback(std::int64_t id, std::int64_t next_attempt_at) = 0;

  // --- audit
  virtual Result<void> append_audit(const AuditEntry& entry) = 0;
  /// The newest @p limit entries, newest first.
  virtual Result<std::vector<AuditEntry>> list_audit(std::size_t limit) = 0;

  // --- metrics
  virtual Result<StoreStats> stats() = 0;
};

/// AES-256-GCM for secrets at rest. Sealed format: 12-byte random nonce || ciphertext || 16-byte tag.
class SecretBox {
 public:
  static constexpr std::size_t key_size = 32;
  /// @p key must be 32 bytes (invalid_argument otherwise).
  static Result<SecretBox> from_key(ByteView key);
  /// Reads the key from @p path, or creates it (32 random bytes, mode 0600) if it does not
  /// exist. A key file that is not 32 bytes or is group/world accessible is refused.
  static Result<SecretBox> load_or_create(const std::filesystem::path& path);

  Result<Bytes> seal(ByteView plain, std::string_view aad) const;
  /// Fails with server::errc::decrypt_failed if the tag or AAD does not match.
  Result<Bytes> open(ByteView sealed, std::string_view aad) const;

 private:
  explicit SecretBox(Bytes key) : key_(std::move(key)) {}
  Bytes key_;
};

/// Options of the SQLite store.
struct SqliteOptions {
  int busy_timeout_ms = 5000;
};

/// The SQLite implementation: WAL, foreign keys, schema migrations (PRAGMA user_version),
/// cached prepared statements, one writer at a time (a mutex; readers too are serialised on
/// the single connection), a transaction around every multi-statement change.
class SqliteStore final : public Store {
 public:
  /// Opens (creating if missing) the database at @p path and migrates it to the current schema.
  /// A file that is not a SQLite database, or is corrupt, fails with errc::store_corrupt and
  /// is left untouched.
  static Result<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& path, SecretBox box,
                                                   SqliteOptions options = {});
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  /// The schema version this build migrates to.
  static int schema_version() noexcept;

  Result<void> ping() override;
  Result<Sho> create_sho(std::string_view name, ByteView token_hash, std::int64_t now) override;
  Result<Sho> get_sho(std::int64_t id) override;
  Result<Sho> find_sho_by_token_hash(ByteView token_hash) override;
  Result<std::vector<Sho>> list_shos() override;
  Result<void> set_sho_callback(std::int64_t sho_id, std::string_view url) override;
  Result<ImportCounts> upsert_devices(std::span<const Device> devices, std::int64_t now) override;
  Result<Device> get_device(std::string_view dev_id) override;
  Result<Device> get_device_by_pcid(std::string_view pcid) override;
  Result<std::vector<Device>> list_devices(std::int64_t sho_id, std::string_view after_dev_id,
                                           std::size_t limit) override;
  Result<void> set_device_state(std::string_view dev_id, DeviceState state, std::int64_t now) override;
  Result<void> touch_device(std::string_view dev_id, std::string_view push_address, std::int64_t now) override;
  Result<void> set_device_pfc(std::string_view dev_id, ByteView pfc_der, std::int64_t now) override;
  Result<void> set_pfc_validation(std::string_view dev_id, std::string_view verdict_json, std::int64_t now) override;
  Result<void> set_dm_credentials(std::string_view dev_id, const DmCredentials& dm, std::int64_t now) override;
  Result<void> set_dm_nonces(std::string_view dev_id, ByteView server_nonce, ByteView client_nonce,
                             std::int64_t now) override;
  Result<void> patch_device(std::string_view dev_id, const DevicePatch& patch, std::int64_t now) override;
  Result<std::uint64_t> reserve_sqn(std::string_view pcid, std::uint32_t count, std::int64_t now) override;
  Result<void> set_sqn(std::string_view pcid, std::uint64_t next_sqn, std::int64_t now) override;
  Result<Job> create_job(const NewJob& job, std::int64_t now) override;
  Result<Job> get_job(std::int64_t id) override;
  Result<Job> get_job_by_correlator(std::string_view correlator) override;
  Result<std::vector<Job>> list_jobs(std::string_view dev_id) override;
  Result<std::optional<Job>> active_job(std::string_view dev_id) override;
  Result<std::optional<Job>> claim_next_job(std::string_view dev_id, std::int64_t now) override;
  Result<bool> transition_job(std::int64_t id, JobState from, JobState to, std::int64_t now) override;
  Result<RecordOutcome> record_result(std::string_view correlator, int code, std::string_view message,
                                      std::int64_t now) override;
  Result<std::optional<JobResult>> get_result(std::int64_t job_id) override;
  Result<std::size_t> expire_jobs(std::int64_t now) override;
  Result<std::vector<Job>> jobs_to_notify(std::int64_t now, int max_attempts, std::size_t limit) override;
  Result<bool> mark_job_notified(std::int64_t id, std::int64_t next_notify_at, std::int64_t now) override;
  Result<BootstrapRecord> record_bootstrap(const BootstrapRecord& record, const DmCredentials& dm,
                                           const DmCredentials& app_credentials, std::int64_t now) override;
  Result<std::optional<BootstrapRecord>> active_bootstrap(std::string_view dev_id) override;
  Result<void> deactivate_bootstrap(std::int64_t id) override;
  Result<std::int64_t> enqueue_callback(std::int64_t sho_id, std::string_view url, std::string_view body,
                                        std::int64_t now) override;
  Result<std::vector<OutboxEntry>> due_callbacks(std::int64_t now, std::size_t limit) override;
  Result<void> mark_callback_acked(std::int64_t id) override;
  Result<void> reschedule_callback(std::int64_t id, std::int64_t next_attempt_at) override;
  Result<void> append_audit(const AuditEntry& entry) override;
  Result<std::vector<AuditEntry>> list_audit(std::size_t limit) override;
  Result<StoreStats> stats() override;

  struct Impl;

 private:
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// SHA-256 of a bearer token (what `Sho::token_hash` holds).
Bytes hash_token(std::string_view token);

}  // namespace m2mdm::server
