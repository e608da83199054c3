/// @file store.hpp
/// @brief The RO's persistent state behind small per-aggregate interfaces (`ShoStore`,
///        `SubscriberStore`, `DeviceStore`, `JobStore`, `BootstrapStore`, `CallbackOutbox`, `AuditLog`) and their
///        union `Store`. The SQLite implementation is `SqliteStore` (sqlite_store.hpp).
///
/// Every method is atomic and safe to call from several threads at once.
#pragma once

#include "m2mdm/server/mgmt_command.hpp"
#include "m2mdm/server/store_types.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace m2mdm::server {

/// The Subscription Home Operators known to the RO.
class ShoStore {
 public:
  virtual ~ShoStore() = default;
  virtual Result<Sho> create_sho(std::string_view name, ByteView token_hash, std::int64_t now) = 0;
  virtual Result<Sho> get_sho(std::int64_t id) = 0;
  /// Finds the SHO whose token hash equals @p token_hash (not_found otherwise).
  virtual Result<Sho> find_sho_by_token_hash(ByteView token_hash) = 0;
  virtual Result<std::vector<Sho>> list_shos() = 0;
  virtual Result<void> set_sho_callback(std::int64_t sho_id, std::string_view url) = 0;
  /// Sets the CN of the SHO's signing certificate (Sho::signer).
  virtual Result<void> set_sho_signer(std::int64_t sho_id, std::string_view signer) = 0;
};

/// Subscribers (device owners) and which devices each owns.
class SubscriberStore {
 public:
  virtual ~SubscriberStore() = default;
  /// conflict when the name or token hash is taken.
  virtual Result<Subscriber> create_subscriber(std::string_view name, ByteView token_hash, std::int64_t now) = 0;
  virtual Result<Subscriber> get_subscriber(std::int64_t id) = 0;
  virtual Result<Subscriber> find_subscriber_by_name(std::string_view name) = 0;
  /// Finds the subscriber whose token hash equals @p token_hash (not_found otherwise).
  virtual Result<Subscriber> find_subscriber_by_token_hash(ByteView token_hash) = 0;
  virtual Result<std::vector<Subscriber>> list_subscribers() = 0;
  /// Makes @p subscriber_id the owner of every device in @p dev_ids (nullopt: removes their
  /// owner), and appends @p audit, in ONE transaction: an unknown DevId (not_found) changes
  /// nothing. Returns how many devices changed owner.
  virtual Result<std::size_t> assign_devices(std::optional<std::int64_t> subscriber_id,
                                             std::span<const std::string> dev_ids, const AuditEntry& audit,
                                             std::int64_t now) = 0;
  /// The devices of @p subscriber_id, by DevId after @p after_dev_id, at most @p limit.
  virtual Result<std::vector<Device>> list_subscriber_devices(std::int64_t subscriber_id, std::string_view after_dev_id,
                                                              std::size_t limit) = 0;
};

/// Devices: the DRF registry entry, DM credentials, temporary K/OPc and SQN (ICF), PfC (PVA).
class DeviceStore {
 public:
  virtual ~DeviceStore() = default;
  /// Inserts or updates all devices in ONE transaction (all or nothing), keyed by dev_id.
  /// A device whose PCID is already used by another dev_id fails the whole batch (errc::conflict).
  virtual Result<ImportCounts> upsert_devices(std::span<const Device> devices, std::int64_t now) = 0;
  /// upsert_devices() that also appends @p audit (its detail followed by the counts) in the SAME
  /// transaction: a committed import always has its audit entry, and a failed one has none.
  virtual Result<ImportCounts> import_devices(std::span<const Device> devices, std::optional<AuditEntry> audit,
                                              std::int64_t now) = 0;
  /// An SHO's import (docs/server.md "Who owns a device"), in ONE transaction with @p audit (its
  /// detail followed by the counts): every device becomes @p sho_id's. A device whose DevId or
  /// PCID is held by someone else (another SHO, or the operator's registry without an SHO)
  /// changes nothing of that device: the import is kept as the SHO's shadow record and counted
  /// as if it had been stored (inserted / updated / unchanged against what this SHO imported
  /// before), and a `device.refused` audit entry names it. A PCID used by another device the
  /// caller holds (or shadows) fails the batch (errc::conflict), as it would without the shadow.
  virtual Result<ImportCounts> import_sho_devices(std::int64_t sho_id, std::span<const Device> devices,
                                                  AuditEntry audit, std::int64_t now) = 0;
  /// An SHO claims a device without an SHO by its device PIN, in ONE transaction with its audit
  /// entry (`device.claim`, or `device.refused` with the reason) and the failure count. The same
  /// statements run whatever the reason of a refusal, and the PIN is compared in constant time
  /// (against a dummy when there is nothing to compare with).
  virtual Result<ClaimOutcome> claim_device(const DeviceClaim& claim, const ClaimPolicy& policy,
                                            std::int64_t now) = 0;
  virtual Result<Device> get_device(std::string_view dev_id) = 0;
  /// The device as a DM session needs it: everything but the SIM secrets (device PIN, K and OPc
  /// stay sealed at rest and are empty here).
  virtual Result<Device> get_device_account(std::string_view dev_id) = 0;
  virtual Result<Device> get_device_by_pcid(std::string_view pcid) = 0;
  /// Devices of one SHO ordered by dev_id, starting after @p after_dev_id (paging).
  virtual Result<std::vector<Device>> list_devices(std::int64_t sho_id, std::string_view after_dev_id,
                                                   std::size_t limit) = 0;
  /// One page of devices in DevId order as @p query narrows them (indexed: a range walk of the
  /// DevId, SHO or state index, never a scan per page).
  virtual Result<std::vector<Device>> find_devices(const DeviceQuery& query) = 0;
  virtual Result<void> set_device_state(std::string_view dev_id, DeviceState state, std::int64_t now) = 0;
  virtual Result<void> set_device_pfc(std::string_view dev_id, ByteView pfc_der, std::int64_t now) = 0;
  virtual Result<void> set_pfc_validation(std::string_view dev_id, std::string_view verdict_json,
                                          std::int64_t now) = 0;
  /// Replaces the DM credentials (e.g. the DRF issuing a bootstrap).
  virtual Result<void> set_dm_credentials(std::string_view dev_id, const DmCredentials& dm, std::int64_t now) = 0;
  /// Writes what one DM message changed (@p writes: the nonces for the next authentication, DM_Security
  /// 1.2 §5.4, last seen, state, audit) in ONE transaction; nothing when it is empty.
  /// not_found (and nothing written) when the device does not exist.
  virtual Result<void> record_dm_message(std::string_view dev_id, const DmMessageWrites& writes,
                                         std::int64_t now) = 0;
  /// Applies @p patch to the device (not_found when it does not exist).
  virtual Result<void> patch_device(std::string_view dev_id, const DevicePatch& patch, std::int64_t now) = 0;
  /// ICF: atomically reserves @p count SQNs for the PCID; returns the first (the stored value
  /// advances by count).
  virtual Result<std::uint64_t> reserve_sqn(std::string_view pcid, std::uint32_t count, std::int64_t now) = 0;
  /// ICF resynchronisation: sets the next SQN for the PCID.
  virtual Result<void> set_sqn(std::string_view pcid, std::uint64_t next_sqn, std::int64_t now) = 0;
};

/// DPF jobs and their results (TR 33.812 §5.2 steps 14–21).
class JobStore {
 public:
  virtual ~JobStore() = default;
  /// Queues a job for an existing device (not_found if the device does not exist; invalid_argument
  /// if the correlator is taken: errc::conflict).
  virtual Result<Job> create_job(const NewJob& job, std::int64_t now) = 0;
  virtual Result<Job> get_job(std::int64_t id) = 0;
  virtual Result<Job> get_job_by_correlator(std::string_view correlator) = 0;
  virtual Result<std::vector<Job>> list_jobs(std::string_view dev_id) = 0;
  /// One page of jobs as @p query narrows them: with a DevId oldest first, else newest first.
  virtual Result<std::vector<Job>> list_jobs_page(const JobQuery& query) = 0;
  /// The device's job currently between delivering and awaiting_result, if any (to resume
  /// after a restart).
  virtual Result<std::optional<Job>> active_job(std::string_view dev_id) = 0;
  /// Atomically moves the oldest queued/notified, unexpired job of the device to `delivering`
  /// (attempts+1; its package 0 retry budget starts anew, for a session that stalls) — but only when the device has no active job, so two sessions can never
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
  /// Withdraws a job that has not reached the device (queued or notified) and appends @p audit,
  /// in ONE transaction; returns the cancelled job. errc::conflict when the job is being
  /// delivered, awaits its result or is terminal (it is left as it is); not_found.
  virtual Result<Job> cancel_job(std::int64_t id, const AuditEntry& audit, std::int64_t now) = 0;
  /// Moves every non-terminal job whose deadline (non-zero) is < now to expired; returns how many.
  virtual Result<std::size_t> expire_jobs(std::int64_t now) = 0;

  /// Jobs a package 0 should be pushed for now: unexpired, whose device has a push address, with
  /// fewer than @p max_attempts pushes so far and next_notify_at <= now, that are queued/notified,
  /// or claimed (delivering/delivered) by a session that has made no progress since
  /// @p stalled_before (the device lost the session, e.g. it restarted: it needs a new trigger).
  virtual Result<std::vector<Job>> jobs_to_notify(std::int64_t now, int max_attempts, std::size_t limit,
                                                  std::int64_t stalled_before) = 0;
  /// A package 0 was pushed for the job: notify_attempts+1, next try at @p next_notify_at, and
  /// queued -> notified (a stalled claimed job keeps its state). Returns false (nothing changed)
  /// when the job is no longer waiting for its device.
  virtual Result<bool> mark_job_notified(std::int64_t id, std::int64_t next_notify_at, std::int64_t now) = 0;
};

/// The bootstraps the DRF issued.
class BootstrapStore {
 public:
  virtual ~BootstrapStore() = default;
  /// In ONE transaction: replaces the device's DM credentials with @p dm, stores @p app_credentials
  /// (the application context's account, encrypted) with a new active bootstrap row (earlier
  /// rows become inactive), moves an imported device to `bootstrapped` and appends an audit
  /// entry. Returns the new row.
  virtual Result<BootstrapRecord> record_bootstrap(const BootstrapRecord& record, const DmCredentials& dm,
                                                   const DmCredentials& app_credentials, std::int64_t now) = 0;
  /// The device's active bootstrap, if any.
  virtual Result<std::optional<BootstrapRecord>> active_bootstrap(std::string_view dev_id) = 0;
  /// The device's bootstraps, newest first: ids below @p before_id (0 = from the newest), at most @p limit.
  virtual Result<std::vector<BootstrapRecord>> list_bootstraps(std::string_view dev_id, std::int64_t before_id,
                                                               std::size_t limit) = 0;
  /// Marks a bootstrap inactive (its delivery failed).
  virtual Result<void> deactivate_bootstrap(std::int64_t id) = 0;
  /// The device authenticated with its pending (re-bootstrap) DM credentials: they replace the
  /// current ones, and a variant-B operator change waiting for this device (state pristine)
  /// gets its install job (reprovisioning), in one transaction. False when there were none.
  virtual Result<bool> promote_pending_credentials(std::string_view dev_id, std::int64_t now) = 0;
};

/// Pending SHO callbacks (a transactional outbox: enqueued in the transaction that records a result).
class CallbackOutbox {
 public:
  virtual ~CallbackOutbox() = default;
  virtual Result<std::int64_t> enqueue_callback(std::int64_t sho_id, std::string_view url, std::string_view body,
                                                std::int64_t now) = 0;
  /// Unacknowledged entries with next_attempt_at <= now, oldest first.
  virtual Result<std::vector<OutboxEntry>> due_callbacks(std::int64_t now, std::size_t limit) = 0;
  virtual Result<void> mark_callback_acked(std::int64_t id) = 0;
  /// A delivery attempt failed: attempts+1, next try at @p next_attempt_at.
  virtual Result<void> reschedule_callback(std::int64_t id, std::int64_t next_attempt_at) = 0;
};

/// The append-only audit log.
class AuditLog {
 public:
  virtual ~AuditLog() = default;
  virtual Result<void> append_audit(const AuditEntry& entry) = 0;
  /// The newest @p limit entries, newest first.
  virtual Result<std::vector<AuditEntry>> list_audit(std::size_t limit) = 0;
  /// One page of the log, newest first: ids below @p before_id (0 = from the newest), at most @p limit.
  virtual Result<std::vector<AuditEntry>> list_audit_page(std::int64_t before_id, std::size_t limit) = 0;
};

/// Operator changes (docs/operator-change.md): each is created with its job in one transaction
/// and spends its authorisation's nonce; the device's confirmations move it on; the job's
/// result completes it (JobStore::record_result, same transaction: the device's SHO changes).
class OperatorChangeStore {
 public:
  virtual ~OperatorChangeStore() = default;
  /// Creates the job and the change (change.job_id, state, times are store-assigned) and
  /// appends @p audit, in one transaction. conflict when the nonce was already spent or the
  /// device has an operator change that is not terminal.
  virtual Result<std::pair<OperatorChange, Job>> create_operator_change(const OperatorChange& change,
                                                                        const NewJob& job, const AuditEntry& audit,
                                                                        std::int64_t now) = 0;
  virtual Result<OperatorChange> get_operator_change(std::int64_t id) = 0;
  virtual Result<std::optional<OperatorChange>> operator_change_for_job(std::int64_t job_id) = 0;
  virtual Result<std::vector<OperatorChange>> list_operator_changes(std::string_view dev_id) = 0;
  /// A new bulk request of @p to_sho for @p size devices; returns it.
  virtual Result<ChangeBatch> create_change_batch(std::int64_t to_sho, std::string_view variant, std::int64_t size,
                                                  std::int64_t now) = 0;
  virtual Result<ChangeBatch> get_change_batch(std::int64_t id) = 0;
  /// The changes of batch @p id, in request order.
  virtual Result<std::vector<OperatorChange>> operator_changes_of_batch(std::int64_t id) = 0;
  /// Every change in @p state, oldest first.
  virtual Result<std::vector<OperatorChange>> operator_changes_in(ChangeState state) = 0;
  /// One page of the changes not yet terminal, newest first (ids below @p before_id, 0 = from the
  /// newest); with @p sho_id only those where it is the old or the new SHO.
  virtual Result<std::vector<OperatorChange>> list_open_operator_changes(std::optional<std::int64_t> sho_id,
                                                                         std::int64_t before_id,
                                                                         std::size_t limit) = 0;
  /// True when an authorisation with @p nonce was already used for a change.
  virtual Result<bool> change_nonce_spent(std::string_view nonce) = 0;
  /// The device confirmed the old SHO's MCIM discarded (variant A step 9, B step 3): state discarded,
  /// @p detail kept, the old SHO's callback enqueued, in one transaction. Idempotent.
  virtual Result<OperatorChange> record_change_discarded(std::int64_t id, std::string_view detail,
                                                         std::int64_t now) = 0;
  /// The old SHO acknowledged the discard (step 10): acknowledged_at set and the new SHO's
  /// callback enqueued without old-SHO details (step 11), in one transaction. conflict before
  /// the discard; idempotent after.
  virtual Result<OperatorChange> acknowledge_change(std::int64_t id, std::int64_t now) = 0;
  /// A pristine change (B) whose device never used its re-bootstrap: failed, the new SHO told
  /// (callback operator_change.failed with @p reason), audited, in one transaction. False when
  /// the change is no longer pristine (nothing changes).
  virtual Result<bool> expire_pristine_change(std::int64_t id, std::string_view reason, std::int64_t now) = 0;
};

/// Generic management commands (m2mdm/server/mgmt_command.hpp): queued per device, claimed by
/// the device's next DM session, completed with the device's Statuses and Results.
class CommandStore {
 public:
  virtual ~CommandStore() = default;
  /// Queues @p cmd (id, state, times store-assigned) for an existing device (not_found if none)
  /// and appends @p audit, in one transaction.
  virtual Result<MgmtCommand> create_command(const MgmtCommand& cmd, const AuditEntry& audit, std::int64_t now) = 0;
  virtual Result<MgmtCommand> get_command(std::int64_t id) = 0;
  /// The device's commands, newest first: ids below @p before_id (0 = from the newest), at most @p limit.
  virtual Result<std::vector<MgmtCommand>> list_commands(std::string_view dev_id, std::int64_t before_id,
                                                         std::size_t limit) = 0;
  /// Atomically moves the device's oldest queued, unexpired command to delivered.
  virtual Result<std::optional<MgmtCommand>> claim_next_command(std::string_view dev_id, std::int64_t now) = 0;
  /// Stores the final state with the Statuses and Results (only from delivered; false otherwise).
  virtual Result<bool> finish_command(const MgmtCommand& cmd, std::int64_t now) = 0;
  /// True when the device has a queued, unexpired command (package 0 trigger).
  virtual Result<bool> has_queued_command(std::string_view dev_id, std::int64_t now) = 0;
  /// At start: a command still `delivered` was sent in a session of an earlier run of the server,
  /// whose Statuses can no longer arrive. Each becomes `failed` with @p why (not queued again:
  /// the device may have run it). Returns how many.
  virtual Result<std::size_t> fail_orphaned_commands(std::string_view why, std::int64_t now) = 0;
};

/// The RO's storage. Implementations must make every method atomic; errors are
/// server::errc::not_found (missing row), conflict (a uniqueness constraint), invalid_argument,
/// io_error / store_corrupt (the backing store failed).
///
/// Services take the narrowest of the interfaces above they need (the ICF a DeviceStore, the
/// callback worker a CallbackOutbox); the composition root holds the whole Store.
class Store : public ShoStore,
              public SubscriberStore,
              public DeviceStore,
              public JobStore,
              public BootstrapStore,
              public CallbackOutbox,
              public AuditLog,
              public OperatorChangeStore,
              public CommandStore {
 public:
  ~Store() override = default;

  /// Cheap liveness probe (/healthz).
  virtual Result<void> ping() = 0;
  virtual Result<StoreStats> stats() = 0;
};

}  // namespace m2mdm::server
