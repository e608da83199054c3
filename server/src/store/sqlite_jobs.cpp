// SqliteStore, DPF jobs and results (JobStore).
#include "store/crash_point.hpp"
#include "store/sqlite_impl.hpp"

#include <limits>

namespace m2mdm::server {
namespace {
/// next_notify_at of a job the notifier cannot reach (see jobs_to_notify); the same literal is in
/// migration 0010's trigger.
constexpr std::int64_t kNotifyParked = std::numeric_limits<std::int64_t>::max();

/// The oldest job of @p dev_id that a session may claim at @p now, if any.
Result<std::optional<std::int64_t>> next_claimable_job(SqliteStore::Impl& impl, std::string_view dev_id,
                                                       std::int64_t now) {
  auto next = impl.q(
      "SELECT id FROM jobs WHERE dev_id = ? AND state IN ('queued','notified') AND (deadline = 0 OR deadline >= ?) "
      "ORDER BY id LIMIT 1");
  if (!next) return fail(next.error());
  next->text(1, dev_id).i64(2, now);
  return next->optional_row([](Query& row) { return row.col_i64(0); });
}
}  // namespace

Result<Job> SqliteStore::Impl::insert_job(const NewJob& job, std::int64_t now) {
  auto dev = device_where("dev_id", job.dev_id);
  if (!dev) return fail(dev.error());
  const std::string correlator = job.correlator.empty() ? "pending-" + random_hex(16) : job.correlator;
  auto inserted = insert(
      "INSERT INTO jobs(dev_id, sho_id, kind, payload, authorisation, correlator, state, attempts, deadline, "
      "created, updated) VALUES(?,?,?,?,?,?,'queued',0,?,?,?)",
      job.dev_id, job.sho_id, to_string(job.kind), job.payload, job.authorisation, correlator, job.deadline, now, now);
  if (!inserted) return fail(inserted.error());
  const std::int64_t id = *inserted;
  crash_point("create_job.mid");
  if (job.correlator.empty())
    M2MDM_TRY(
        exec("UPDATE jobs SET correlator = ? WHERE id = ?", "job-" + std::to_string(id) + "-" + random_hex(8), id));
  M2MDM_TRY(audit({0, now, "sho:" + std::to_string(job.sho_id), "job.create", std::to_string(id),
                   std::string(to_string(job.kind)) + " for " + job.dev_id}));
  return job_where("id", id);
}

Result<Job> SqliteStore::create_job(const NewJob& job, std::int64_t now) {
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  auto created = impl_->insert_job(job, now);
  if (!created) return fail(created.error());
  M2MDM_TRY(tx.commit());
  return created;
}

Result<Job> SqliteStore::get_job(std::int64_t id) {
  Impl::Lock lock(*impl_);
  return impl_->job_where("id", id);
}

Result<Job> SqliteStore::get_job_by_correlator(std::string_view correlator) {
  Impl::Lock lock(*impl_);
  return impl_->job_where("correlator", correlator);
}

Result<std::vector<Job>> SqliteStore::list_jobs(std::string_view dev_id) {
  Impl::Lock lock(*impl_);
  return impl_->rows_where(column_list<kJobRow>(), "jobs", "dev_id", dev_id, Impl::read_job);
}

Result<std::optional<Job>> SqliteStore::active_job(std::string_view dev_id) {
  Impl::Lock lock(*impl_);
  auto st = impl_->q("SELECT " + column_list<kJobRow>() +
                     " FROM jobs WHERE dev_id = ? AND state IN ('delivering','delivered','awaiting_result') "
                     "ORDER BY id LIMIT 1");
  if (!st) return fail(st.error());
  st->text(1, dev_id);
  return st->optional_row(Impl::read_job);
}

Result<std::optional<Job>> SqliteStore::claim_next_job(std::string_view dev_id, std::int64_t now) {
  Impl::Lock lock(*impl_);
  {
    // Most DM messages find nothing to claim: a read says so without taking SQLite's write lock
    // (a write transaction, even an empty one, would also wait for a sync of the -wal file).
    auto any = next_claimable_job(*impl_, dev_id, now);
    if (!any) return fail(any.error());
    if (!*any) return std::optional<Job>{};
  }
  Impl::Tx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  auto busy = impl_->scalar(
      "SELECT count(*) FROM jobs WHERE dev_id = ? AND state IN ('delivering','delivered','awaiting_result')", dev_id);
  if (!busy) return fail(busy.error());
  if (*busy > 0) return std::optional<Job>{};
  auto next = next_claimable_job(*impl_, dev_id, now);
  if (!next) return fail(next.error());
  if (!*next) return std::optional<Job>{};
  const std::int64_t id = **next;
  crash_point("claim_next_job.mid");
  M2MDM_TRY(impl_->exec(
      "UPDATE jobs SET state = 'delivering', attempts = attempts + 1, notify_attempts = 0, next_notify_at = 0, "
      "updated = ? WHERE id = ? AND state IN ('queued','notified')",
      now, id));
  auto job = impl_->job_where("id", id);
  if (!job) return fail(job.error());
  M2MDM_TRY(tx.commit());
  return std::optional<Job>{std::move(*job)};
}

Result<bool> SqliteStore::transition_job(std::int64_t id, JobState from, JobState to, std::int64_t now) {
  Impl::Lock lock(*impl_);
  M2MDM_TRY(impl_->exec("UPDATE jobs SET state = ?, updated = ? WHERE id = ? AND state = ?", to_string(to), now, id,
                        to_string(from)));
  if (sqlite3_changes(impl_->db.get()) == 1) return true;
  auto exists = impl_->job_where("id", id);
  if (!exists) return fail(exists.error());
  return false;
}

Result<RecordOutcome> SqliteStore::record_result(std::string_view correlator, int code, std::string_view message,
                                                 std::int64_t now) {
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  auto job = impl_->job_where("correlator", correlator);
  if (!job) return fail(job.error());
  auto seen = impl_->scalar("SELECT count(*) FROM results WHERE job_id = ?", job->id);
  if (!seen) return fail(seen.error());
  if (*seen > 0) return RecordOutcome::duplicate;
  M2MDM_TRY(impl_->exec("INSERT INTO results(job_id, code, message, at) VALUES(?,?,?,?)", job->id, code, message, now));
  crash_point("record_result.after_result");
  // 2xx (a SyncML status) or 1200 (the M2MSIMMobj Generic Alert result "Success", see
  // mo::M2msimResult) is a success; everything else (4xx/5xx, 14xx) a failure.
  const bool ok = (code >= 200 && code < 300) || code == 1200;
  const JobState final_state = ok ? JobState::succeeded : JobState::failed;
  M2MDM_TRY(impl_->exec("UPDATE jobs SET state = ?, updated = ? WHERE id = ?", to_string(final_state), now, job->id));
  if (job->kind == JobKind::install || job->kind == JobKind::operator_change)
    M2MDM_TRY(impl_->exec("UPDATE devices SET state = ?, updated = ? WHERE dev_id = ?",
                          to_string(ok ? DeviceState::provisioned : DeviceState::failed), now, job->dev_id));
  M2MDM_TRY(impl_->enqueue_callback_for(job->sho_id,
                                         {{"event", "job.result"},
                                          {"jobId", job->id},
                                          {"devId", job->dev_id},
                                          {"kind", to_string(job->kind)},
                                          {"correlator", job->correlator},
                                          {"state", to_string(final_state)},
                                          {"code", code},
                                          {"message", message},
                                          {"at", now}},
                                         now));
  if (job->kind == JobKind::operator_change || job->kind == JobKind::reset)
    M2MDM_TRY(impl_->complete_operator_change(*job, ok, code, now));
  M2MDM_TRY(impl_->audit({0, now, "device:" + job->dev_id, "job.result", std::to_string(job->id),
                          std::to_string(code) + " " + std::string(message)}));
  M2MDM_TRY(tx.commit());
  return RecordOutcome::recorded;
}

Result<std::optional<JobResult>> SqliteStore::get_result(std::int64_t job_id) {
  Impl::Lock lock(*impl_);
  auto st = impl_->q("SELECT job_id, code, message, at FROM results WHERE job_id = ?");
  if (!st) return fail(st.error());
  st->i64(1, job_id);
  return st->optional_row([](Query& row) {
    return JobResult{row.col_i64(0), static_cast<int>(row.col_i64(1)), row.col_text(2), row.col_i64(3)};
  });
}

Result<Job> SqliteStore::cancel_job(std::int64_t id, const AuditEntry& audit, std::int64_t now) {
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  M2MDM_TRY(impl_->exec(
      "UPDATE jobs SET state = 'cancelled', updated = ? WHERE id = ? AND state IN ('queued','notified')", now, id));
  const bool cancelled = sqlite3_changes(impl_->db.get()) == 1;
  auto job = impl_->job_where("id", id);
  if (!job) return fail(job.error());
  if (!cancelled) return fail(err(errc::conflict));
  M2MDM_TRY(impl_->fail_changes_of_ended_jobs(now));
  M2MDM_TRY(impl_->audit(audit));
  M2MDM_TRY(tx.commit());
  return job;
}

Result<std::size_t> SqliteStore::expire_jobs(std::int64_t now) {
  Impl::Lock lock(*impl_);
  M2MDM_TRY(impl_->exec(
      "UPDATE jobs SET state = 'expired', updated = ? WHERE deadline != 0 AND deadline < ? AND "
      "state NOT IN ('succeeded','failed','expired')",
      now, now));
  const auto expired = static_cast<std::size_t>(sqlite3_changes(impl_->db.get()));
  if (expired != 0) M2MDM_TRY(impl_->fail_changes_of_ended_jobs(now));
  return expired;
}

Result<std::vector<Job>> SqliteStore::jobs_to_notify(std::int64_t now, int max_attempts, std::size_t limit,
                                                     std::int64_t stalled_before) {
  Impl::Lock lock(*impl_);
  // A due job that cannot be notified (its device has no push address, or its retries are used
  // up) is parked: next_notify_at = kNotifyParked takes it out of the jobs_notify index range, so
  // the scan that runs after every submission sees each such job once, not on every run (which
  // made a backlog of N jobs for devices without a push address cost O(N) per submission). A
  // claim resets next_notify_at; a device that gets a push address un-parks its jobs (trigger
  // jobs_unpark_on_push_address, migration 0010). The job's columns, then parkable (built once).
  static const std::string sql = "SELECT " + kJobRow.list("j.") +
                                 ", (d.push_address = '' OR j.notify_attempts >= ?) AS parkable"
                                 " FROM jobs j JOIN devices d ON d.dev_id = j.dev_id "
                                 "WHERE (j.state IN ('queued','notified') OR "
                                 "       (j.state IN ('delivering','delivered') AND j.updated <= ?)) "
                                 "AND j.next_notify_at <= ? AND (j.deadline = 0 OR j.deadline >= ?) "
                                 "ORDER BY j.id LIMIT ?";
  constexpr int parkable_column = kJobRow.size();
  std::vector<Job> due;
  for (;;) {
    auto st = impl_->q(sql);
    if (!st) return fail(st.error());
    st->i64(1, max_attempts).i64(2, stalled_before).i64(3, now).i64(4, now).i64(5, static_cast<std::int64_t>(limit));
    auto rows = st->rows([](Query& row) { return std::pair{Impl::read_job(row), row.col_i64(parkable_column) != 0}; });
    if (!rows) return fail(rows.error());
    std::vector<std::int64_t> park;
    for (auto& [job, parkable] : *rows) {
      if (parkable)
        park.push_back(job.id);
      else
        due.push_back(std::move(job));
    }
    if (park.empty()) return due;
    Impl::Tx tx(*impl_);
    if (!tx.began()) return fail(err(errc::io_error));
    for (const std::int64_t id : park)
      M2MDM_TRY(impl_->exec("UPDATE jobs SET next_notify_at = ? WHERE id = ?", kNotifyParked, id));
    M2MDM_TRY(tx.commit());
    // A page of only parked jobs may hide due ones behind it: look again (each job parks once).
    if (!due.empty() || rows->size() < limit) return due;
  }
}

Result<bool> SqliteStore::mark_job_notified(std::int64_t id, std::int64_t next_notify_at, std::int64_t now) {
  Impl::Lock lock(*impl_);
  M2MDM_TRY(impl_->exec(
      "UPDATE jobs SET notify_attempts = notify_attempts + 1, next_notify_at = ?, "
      "state = CASE WHEN state = 'queued' THEN 'notified' ELSE state END, "
      "updated = CASE WHEN state IN ('queued','notified') THEN ? ELSE updated END "
      "WHERE id = ? AND state IN ('queued','notified','delivering','delivered')",
      next_notify_at, now, id));
  return sqlite3_changes(impl_->db.get()) == 1;
}

Result<std::vector<Job>> SqliteStore::list_jobs_page(const JobQuery& query) {
  Impl::Lock lock(*impl_);
  // Indexes: jobs_dev_state (a device's jobs), jobs_sho (an SHO's), jobs_state (one state), the
  // primary key otherwise.
  std::string sql = "SELECT " + column_list<kJobRow>() + " FROM jobs WHERE 1";
  std::vector<Impl::SqlValue> values;
  if (!query.dev_id.empty()) {
    sql += " AND dev_id = ?";
    values.emplace_back(query.dev_id);
  }
  if (query.sho_id) {
    // With a DevId, "+" keeps the planner on the device's index (a few jobs) rather than the
    // SHO's (maybe millions).
    sql += query.dev_id.empty() ? " AND sho_id = ?" : " AND +sho_id = ?";
    values.emplace_back(*query.sho_id);
  }
  if (query.state) {
    sql += " AND state = ?";
    values.emplace_back(std::string(to_string(*query.state)));
  }
  const bool oldest_first = !query.dev_id.empty();  // one device's timeline reads forwards
  return impl_->select_id_page(std::move(sql), std::move(values), query.after_id, !oldest_first, query.limit,
                               Impl::read_job);
}

}  // namespace m2mdm::server
