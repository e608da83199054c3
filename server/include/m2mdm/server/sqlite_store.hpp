/// @file sqlite_store.hpp
/// @brief The Store on SQLite: one file, WAL, schema migrations, secrets sealed with a mo::SecretBox.
#pragma once

#include "m2mdm/mo/secret_box.hpp"
#include "m2mdm/server/store.hpp"

#include <filesystem>
#include <memory>

namespace m2mdm::server {

/// The store's AES-256-GCM key in @p path (mo::SecretBox::load_or_create: created with 32 random
/// bytes and mode 0600 when absent). A key file that is not 32 bytes or is readable by group or
/// others fails with errc::config_error; other failures: io_error or the errno of the file.
Result<mo::SecretBox> load_store_key(const std::filesystem::path& path);

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
  /// is left untouched. Secrets are sealed with @p box; one that does not open (another key, or
  /// altered) fails with errc::decrypt_failed.
  static Result<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& path, mo::SecretBox box,
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
  Result<void> set_sho_signer(std::int64_t sho_id, std::string_view signer) override;
  // SubscriberStore (sqlite_subscribers.cpp)
  Result<Subscriber> create_subscriber(std::string_view name, ByteView token_hash, std::int64_t now) override;
  Result<Subscriber> get_subscriber(std::int64_t id) override;
  Result<Subscriber> find_subscriber_by_name(std::string_view name) override;
  Result<Subscriber> find_subscriber_by_token_hash(ByteView token_hash) override;
  Result<std::vector<Subscriber>> list_subscribers() override;
  Result<std::size_t> assign_devices(std::optional<std::int64_t> subscriber_id, std::span<const std::string> dev_ids,
                                     const AuditEntry& audit, std::int64_t now) override;
  Result<std::vector<Device>> list_subscriber_devices(std::int64_t subscriber_id, std::string_view after_dev_id,
                                                      std::size_t limit) override;
  Result<ImportCounts> upsert_devices(std::span<const Device> devices, std::int64_t now) override;
  Result<ImportCounts> import_devices(std::span<const Device> devices, std::optional<AuditEntry> audit,
                                      std::int64_t now) override;
  Result<ImportCounts> import_sho_devices(std::int64_t sho_id, std::span<const Device> devices, AuditEntry audit,
                                          std::int64_t now) override;
  Result<ClaimOutcome> claim_device(const DeviceClaim& claim, const ClaimPolicy& policy, std::int64_t now) override;
  Result<Device> get_device(std::string_view dev_id) override;
  Result<Device> get_device_account(std::string_view dev_id) override;
  Result<Device> get_device_by_pcid(std::string_view pcid) override;
  Result<std::vector<Device>> list_devices(std::int64_t sho_id, std::string_view after_dev_id,
                                           std::size_t limit) override;
  Result<std::vector<Device>> find_devices(const DeviceQuery& query) override;
  Result<void> set_device_state(std::string_view dev_id, DeviceState state, std::int64_t now) override;
  Result<void> set_device_pfc(std::string_view dev_id, ByteView pfc_der, std::int64_t now) override;
  Result<void> set_pfc_validation(std::string_view dev_id, std::string_view verdict_json, std::int64_t now) override;
  Result<void> set_dm_credentials(std::string_view dev_id, const DmCredentials& dm, std::int64_t now) override;
  Result<void> record_dm_message(std::string_view dev_id, const DmMessageWrites& writes, std::int64_t now) override;
  Result<void> patch_device(std::string_view dev_id, const DevicePatch& patch, std::int64_t now) override;
  Result<std::uint64_t> reserve_sqn(std::string_view pcid, std::uint32_t count, std::int64_t now) override;
  Result<void> set_sqn(std::string_view pcid, std::uint64_t next_sqn, std::int64_t now) override;
  Result<Job> create_job(const NewJob& job, std::int64_t now) override;
  Result<Job> get_job(std::int64_t id) override;
  Result<Job> get_job_by_correlator(std::string_view correlator) override;
  Result<std::vector<Job>> list_jobs(std::string_view dev_id) override;
  Result<std::vector<Job>> list_jobs_page(const JobQuery& query) override;
  Result<std::optional<Job>> active_job(std::string_view dev_id) override;
  Result<std::optional<Job>> claim_next_job(std::string_view dev_id, std::int64_t now) override;
  Result<bool> transition_job(std::int64_t id, JobState from, JobState to, std::int64_t now) override;
  Result<RecordOutcome> record_result(std::string_view correlator, int code, std::string_view message,
                                      std::int64_t now) override;
  Result<std::optional<JobResult>> get_result(std::int64_t job_id) override;
  Result<Job> cancel_job(std::int64_t id, const AuditEntry& audit, std::int64_t now) override;
  Result<std::size_t> expire_jobs(std::int64_t now) override;
  Result<std::vector<Job>> jobs_to_notify(std::int64_t now, int max_attempts, std::size_t limit,
                                          std::int64_t stalled_before) override;
  Result<bool> mark_job_notified(std::int64_t id, std::int64_t next_notify_at, std::int64_t now) override;
  Result<BootstrapRecord> record_bootstrap(const BootstrapRecord& record, const DmCredentials& dm,
                                           const DmCredentials& app_credentials, std::int64_t now) override;
  Result<std::optional<BootstrapRecord>> active_bootstrap(std::string_view dev_id) override;
  Result<std::vector<BootstrapRecord>> list_bootstraps(std::string_view dev_id, std::int64_t before_id,
                                                       std::size_t limit) override;
  Result<void> deactivate_bootstrap(std::int64_t id) override;
  Result<bool> promote_pending_credentials(std::string_view dev_id, std::int64_t now) override;
  Result<std::int64_t> enqueue_callback(std::int64_t sho_id, std::string_view url, std::string_view body,
                                        std::int64_t now) override;
  Result<std::vector<OutboxEntry>> due_callbacks(std::int64_t now, std::size_t limit) override;
  Result<void> mark_callback_acked(std::int64_t id) override;
  Result<void> reschedule_callback(std::int64_t id, std::int64_t next_attempt_at) override;
  Result<void> append_audit(const AuditEntry& entry) override;
  Result<std::vector<AuditEntry>> list_audit(std::size_t limit) override;
  Result<std::vector<AuditEntry>> list_audit_page(std::int64_t before_id, std::size_t limit) override;
  Result<StoreStats> stats() override;
  // OperatorChangeStore (sqlite_operator_changes.cpp)
  Result<std::pair<OperatorChange, Job>> create_operator_change(const OperatorChange& change, const NewJob& job,
                                                                const AuditEntry& audit, std::int64_t now) override;
  Result<OperatorChange> get_operator_change(std::int64_t id) override;
  Result<std::optional<OperatorChange>> operator_change_for_job(std::int64_t job_id) override;
  Result<std::vector<OperatorChange>> list_operator_changes(std::string_view dev_id) override;
  Result<std::vector<OperatorChange>> operator_changes_in(ChangeState state) override;
  Result<std::vector<OperatorChange>> list_open_operator_changes(std::optional<std::int64_t> sho_id,
                                                                 std::int64_t before_id, std::size_t limit) override;
  Result<ChangeBatch> create_change_batch(std::int64_t to_sho, std::string_view variant, std::int64_t size,
                                          std::int64_t now) override;
  Result<ChangeBatch> get_change_batch(std::int64_t id) override;
  Result<std::vector<OperatorChange>> operator_changes_of_batch(std::int64_t id) override;
  Result<bool> change_nonce_spent(std::string_view nonce) override;
  Result<OperatorChange> record_change_discarded(std::int64_t id, std::string_view detail, std::int64_t now) override;
  Result<OperatorChange> acknowledge_change(std::int64_t id, std::int64_t now) override;
  Result<bool> expire_pristine_change(std::int64_t id, std::string_view reason, std::int64_t now) override;
  // CommandStore (sqlite_commands.cpp)
  Result<MgmtCommand> create_command(const MgmtCommand& cmd, const AuditEntry& audit, std::int64_t now) override;
  Result<MgmtCommand> get_command(std::int64_t id) override;
  Result<std::vector<MgmtCommand>> list_commands(std::string_view dev_id, std::int64_t before_id,
                                                 std::size_t limit) override;
  Result<std::optional<MgmtCommand>> claim_next_command(std::string_view dev_id, std::int64_t now) override;
  Result<bool> finish_command(const MgmtCommand& cmd, std::int64_t now) override;
  Result<bool> has_queued_command(std::string_view dev_id, std::int64_t now) override;
  Result<std::size_t> fail_orphaned_commands(std::string_view why, std::int64_t now) override;

  struct Impl;

 private:
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace m2mdm::server
