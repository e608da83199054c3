// SqliteStore, operator changes (OperatorChangeStore; docs/operator-change.md).
#include "store/sqlite_impl.hpp"

namespace m2mdm::server {
namespace {

/// The columns of an operator change (mcim is written, never read back).
constexpr auto kChangeRow = row_columns<OperatorChange>(
    Field{"id", &OperatorChange::id}, Field{"dev_id", &OperatorChange::dev_id},
    Field{"variant", &OperatorChange::variant}, Field{"from_sho", &OperatorChange::from_sho},
    Field{"to_sho", &OperatorChange::to_sho}, Field{"job_id", &OperatorChange::job_id},
    Field{"nonce", &OperatorChange::nonce},
    EnumField{"state", &OperatorChange::state, change_state_from_string, ChangeState::failed},
    Field{"discard_detail", &OperatorChange::discard_detail}, Field{"discarded_at", &OperatorChange::discarded_at},
    Field{"acknowledged_at", &OperatorChange::acknowledged_at}, Field{"completed_at", &OperatorChange::completed_at},
    Field{"result_code", &OperatorChange::result_code}, Field{"created", &OperatorChange::created},
    Field{"updated", &OperatorChange::updated}, Field{"reset_job_id", &OperatorChange::reset_job_id},
    Field{"batch_id", &OperatorChange::batch_id}, Field{"install_ttl", &OperatorChange::install_ttl});

OperatorChange read_change(Query& st) { return kChangeRow.read(st); }

/// States in which a change still waits for something (at most one per device).
constexpr const char* kOpenChangeStates = "('requested','discarded','pristine','reprovisioning')";

}  // namespace

Result<OperatorChange> SqliteStore::Impl::change_where(const char* column, std::int64_t value) {
  return row_where(column_list<kChangeRow>(), "operator_changes", column, value, read_change);
}

Result<void> SqliteStore::Impl::set_change_outcome(const OperatorChange& change, ChangeState to, int code,
                                                   std::int64_t now) {
  const bool terminal = to == ChangeState::completed || to == ChangeState::failed;
  return update_one(
      "UPDATE operator_changes SET state = ?, completed_at = ?, result_code = ?, updated = ? WHERE id = ?",
      to_string(to), terminal ? now : std::int64_t{0}, std::int64_t{code}, now, change.id);
}

Result<void> SqliteStore::Impl::move_device_to(const OperatorChange& change, std::int64_t now) {
  // The DRF registry names the new SHO (A step 14, B step 8); the old SHO loses the device.
  return update_one("UPDATE devices SET sho_id = ?, updated = ? WHERE dev_id = ?", change.to_sho, now, change.dev_id);
}

Result<void> SqliteStore::Impl::tell_old_sho(const OperatorChange& change, bool left, std::int64_t now) {
  // The old SHO learns that the device left (or stays), nothing of the new SHO's MCIM.
  return enqueue_callback_for(change.from_sho,
                              {{"event", left ? "operator_change.completed" : "operator_change.failed"},
                               {"operatorChangeId", change.id},
                               {"devId", change.dev_id},
                               {"variant", change.variant},
                               {"at", now}},
                              now);
}

Result<void> SqliteStore::Impl::complete_operator_change(const Job& job, bool ok, int code, std::int64_t now) {
  auto change = change_where("job_id", job.id);
  if (!change) return change.error() == err(errc::not_found) ? Result<void>{} : fail(change.error());
  const std::string subject = std::to_string(change->id);
  const std::string detail = "job " + std::to_string(job.id) + " code " + std::to_string(code);
  const std::string actor = "device:" + job.dev_id;
  // Variant B, the reset's result (seed 004 §5.2.5.8.3.2 step 3): the device left the old SHO
  // for the pristine state, and the DRF registry names the new SHO (step 8) for the re-bootstrap.
  if (change->variant == "B" && change->reset_job_id == job.id) {
    if (change->state != ChangeState::requested && change->state != ChangeState::discarded) return {};
    if (!ok) {
      M2MDM_TRY(set_change_outcome(*change, ChangeState::failed, code, now));
      M2MDM_TRY(tell_old_sho(*change, false, now));
      return audit({0, now, actor, "operator_change.failed", subject, "reset refused: " + detail});
    }
    M2MDM_TRY(set_change_outcome(*change, ChangeState::pristine, 0, now));
    M2MDM_TRY(move_device_to(*change, now));
    M2MDM_TRY(update_one("UPDATE devices SET state = ?, updated = ? WHERE dev_id = ?",
                         to_string(DeviceState::registered), now, change->dev_id));
    M2MDM_TRY(tell_old_sho(*change, true, now));
    return audit({0, now, actor, "operator_change.pristine", subject, detail});
  }
  if (change->state == ChangeState::completed || change->state == ChangeState::failed) return {};
  M2MDM_TRY(set_change_outcome(*change, ok ? ChangeState::completed : ChangeState::failed, code, now));
  if (change->variant != "B") {
    if (ok) M2MDM_TRY(move_device_to(*change, now));
    M2MDM_TRY(tell_old_sho(*change, ok, now));
  }
  // B: the device left the old SHO at the reset; the install result is the new SHO's only.
  return audit({0, now, actor, ok ? "operator_change.completed" : "operator_change.failed", subject, detail});
}

Result<void> SqliteStore::Impl::begin_reprovisioning(std::string_view dev_id, std::int64_t now) {
  // Variant B steps 12-13: the device authenticated with the credentials of its re-bootstrap,
  // so it is the re-bootstrapped device: the new SHO's MCIM becomes its install job.
  auto st = q("SELECT id, to_sho, reset_job_id, mcim, install_ttl FROM operator_changes WHERE dev_id = ? AND "
              "variant = 'B' AND state = 'pristine'");
  if (!st) return fail(st.error());
  st->text(1, dev_id);
  auto found = st->next();
  if (!found) return fail(found.error());
  if (!*found) return {};
  const std::int64_t id = st->col_i64(0);
  const std::int64_t to_sho = st->col_i64(1);
  const std::int64_t reset_job_id = st->col_i64(2);
  Bytes mcim = st->col_blob(3);
  const std::int64_t ttl = st->col_i64(4);
  auto reset_job = job_where("id", reset_job_id);
  if (!reset_job) return fail(reset_job.error());
  NewJob nj{std::string(dev_id), to_sho, JobKind::operator_change, std::move(mcim), reset_job->authorisation, {},
            now + ttl};
  auto job = insert_job(nj, now);
  if (!job) return fail(job.error());
  M2MDM_TRY(update_one(
      "UPDATE operator_changes SET state = 'reprovisioning', job_id = ?, mcim = NULL, updated = ? WHERE id = ?",
      job->id, now, id));
  return audit({0, now, "device:" + std::string(dev_id), "operator_change.reprovisioning", std::to_string(id),
                "job " + std::to_string(job->id)});
}

Result<void> SqliteStore::Impl::fail_changes_of_ended_jobs(std::int64_t now) {
  return exec(
      "UPDATE operator_changes SET state = 'failed', completed_at = ?, updated = ? WHERE state IN "
      "('requested','discarded','reprovisioning') AND job_id IN (SELECT id FROM jobs WHERE state IN ('expired','cancelled'))",
      now, now);
}

Result<std::pair<OperatorChange, Job>> SqliteStore::create_operator_change(const OperatorChange& change,
                                                                           const NewJob& nj, const AuditEntry& audit,
                                                                           std::int64_t now) {
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  {
    auto open = impl_->q(std::string("SELECT COUNT(*) FROM operator_changes WHERE dev_id = ? AND state IN ") +
                         kOpenChangeStates);
    if (!open) return fail(open.error());
    open->text(1, change.dev_id);
    if (open->step() != SQLITE_ROW) return fail(err(errc::io_error));
    if (open->col_i64(0) != 0) return fail(err(errc::conflict));
  }
  auto job = impl_->insert_job(nj, now);
  if (!job) return fail(job.error());
  // Variant B: the job resets the device; the MCIM waits in the row for the re-bootstrap.
  const bool pristine = change.variant == "B";
  auto id = impl_->insert(
      "INSERT INTO operator_changes(dev_id, variant, from_sho, to_sho, job_id, nonce, state, created, updated, "
      "reset_job_id, mcim, install_ttl, batch_id) VALUES(?,?,?,?,?,?,'requested',?,?,?,?,?,?)",
      change.dev_id, change.variant, change.from_sho, change.to_sho, job->id, change.nonce, now, now,
      pristine ? job->id : 0, pristine ? std::optional<ByteView>(change.mcim) : std::nullopt, change.install_ttl,
      change.batch_id);
  if (!id) return fail(id.error());  // a spent nonce: conflict
  auto created = impl_->change_where("id", *id);
  if (!created) return fail(created.error());
  AuditEntry a = audit;
  a.subject = std::to_string(created->id);
  M2MDM_TRY(impl_->audit(a));
  M2MDM_TRY(tx.commit());
  return std::pair<OperatorChange, Job>{std::move(*created), std::move(*job)};
}

Result<OperatorChange> SqliteStore::get_operator_change(std::int64_t id) {
  Impl::Lock lock(*impl_);
  return impl_->change_where("id", id);
}

Result<std::optional<OperatorChange>> SqliteStore::operator_change_for_job(std::int64_t job_id) {
  Impl::Lock lock(*impl_);
  auto c = impl_->change_where("job_id", job_id);
  if (!c) {
    if (c.error() == err(errc::not_found)) return std::optional<OperatorChange>{};
    return fail(c.error());
  }
  return std::optional<OperatorChange>{std::move(*c)};
}

Result<std::vector<OperatorChange>> SqliteStore::list_operator_changes(std::string_view dev_id) {
  Impl::Lock lock(*impl_);
  return impl_->rows_where(column_list<kChangeRow>(), "operator_changes", "dev_id", dev_id, read_change);
}

Result<std::vector<OperatorChange>> SqliteStore::operator_changes_in(ChangeState state) {
  Impl::Lock lock(*impl_);
  return impl_->rows_where(column_list<kChangeRow>(), "operator_changes", "state", to_string(state), read_change);
}

Result<ChangeBatch> SqliteStore::create_change_batch(std::int64_t to_sho, std::string_view variant,
                                                     std::int64_t size, std::int64_t now) {
  Impl::Lock lock(*impl_);
  auto id = impl_->insert("INSERT INTO operator_change_batches(to_sho, variant, size, created) VALUES(?,?,?,?)", to_sho,
                          variant, size, now);
  if (!id) return fail(id.error());
  return ChangeBatch{*id, to_sho, std::string(variant), size, now};
}

Result<ChangeBatch> SqliteStore::get_change_batch(std::int64_t id) {
  Impl::Lock lock(*impl_);
  auto st = impl_->q("SELECT id, to_sho, variant, size, created FROM operator_change_batches WHERE id = ?");
  if (!st) return fail(st.error());
  st->i64(1, id);
  M2MDM_TRY(st->row());
  return ChangeBatch{st->col_i64(0), st->col_i64(1), st->col_text(2), st->col_i64(3), st->col_i64(4)};
}

Result<std::vector<OperatorChange>> SqliteStore::operator_changes_of_batch(std::int64_t id) {
  Impl::Lock lock(*impl_);
  return impl_->rows_where(column_list<kChangeRow>(), "operator_changes", "batch_id", id, read_change);
}

Result<bool> SqliteStore::change_nonce_spent(std::string_view nonce) {
  Impl::Lock lock(*impl_);
  auto st = impl_->q("SELECT 1 FROM operator_changes WHERE nonce = ?");
  if (!st) return fail(st.error());
  st->text(1, nonce);
  return st->next();
}

Result<OperatorChange> SqliteStore::record_change_discarded(std::int64_t id, std::string_view detail,
                                                            std::int64_t now) {
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  auto change = impl_->change_where("id", id);
  if (!change) return fail(change.error());
  if (change->discarded_at != 0) return change;  // the device sent it again
  const bool open = change->state == ChangeState::requested;
  M2MDM_TRY(impl_->exec(
      "UPDATE operator_changes SET state = CASE WHEN state = 'requested' THEN 'discarded' ELSE state END, "
      "discard_detail = ?, discarded_at = ?, updated = ? WHERE id = ?",
      detail, now, now, id));
  // Seed 004 step 9: the discard confirmation reaches the old SHO (its own MCIM's details).
  M2MDM_TRY(impl_->enqueue_callback_for(change->from_sho,
                                        {{"event", "operator_change.discarded"},
                                         {"operatorChangeId", id},
                                         {"devId", change->dev_id},
                                         {"detail", detail},
                                         {"ackUrl", "/api/v1/operator-changes/" + std::to_string(id) + "/ack"},
                                         {"at", now}},
                                        now));
  M2MDM_TRY(impl_->audit({0, now, "device:" + change->dev_id, "operator_change.discarded", std::to_string(id),
                          open ? std::string(detail) : "after " + std::string(to_string(change->state))}));
  auto updated = impl_->change_where("id", id);
  if (!updated) return fail(updated.error());
  M2MDM_TRY(tx.commit());
  return updated;
}

Result<OperatorChange> SqliteStore::acknowledge_change(std::int64_t id, std::int64_t now) {
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  auto change = impl_->change_where("id", id);
  if (!change) return fail(change.error());
  if (change->discarded_at == 0) return fail(err(errc::conflict));
  if (change->acknowledged_at != 0) return change;
  M2MDM_TRY(impl_->exec("UPDATE operator_changes SET acknowledged_at = ?, updated = ? WHERE id = ?", now, now, id));
  // Step 11: relayed to the new SHO filtered of everything of the old SHO.
  M2MDM_TRY(impl_->enqueue_callback_for(change->to_sho,
                                        {{"event", "operator_change.acknowledged"},
                                         {"operatorChangeId", id},
                                         {"devId", change->dev_id},
                                         {"at", now}},
                                        now));
  M2MDM_TRY(impl_->audit({0, now, "sho:" + std::to_string(change->from_sho), "operator_change.acknowledged",
                          std::to_string(id), change->dev_id}));
  auto updated = impl_->change_where("id", id);
  if (!updated) return fail(updated.error());
  M2MDM_TRY(tx.commit());
  return updated;
}

Result<bool> SqliteStore::expire_pristine_change(std::int64_t id, std::string_view reason, std::int64_t now) {
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  auto change = impl_->change_where("id", id);
  if (!change) return fail(change.error());
  if (change->state != ChangeState::pristine) return false;
  M2MDM_TRY(impl_->set_change_outcome(*change, ChangeState::failed, 0, now));
  // The new SHO asked for the change; the old SHO was told at the reset that the device left.
  M2MDM_TRY(impl_->enqueue_callback_for(change->to_sho,
                                        {{"event", "operator_change.failed"},
                                         {"operatorChangeId", id},
                                         {"devId", change->dev_id},
                                         {"variant", change->variant},
                                         {"reason", std::string(reason)},
                                         {"at", now}},
                                        now));
  M2MDM_TRY(impl_->audit({0, now, "ro", "operator_change.failed", std::to_string(id), std::string(reason)}));
  M2MDM_TRY(tx.commit());
  return true;
}

Result<std::vector<OperatorChange>> SqliteStore::list_open_operator_changes(std::optional<std::int64_t> sho_id,
                                                                            std::int64_t before_id, std::size_t limit) {
  Impl::Lock lock(*impl_);
  std::string sql = "SELECT " + column_list<kChangeRow>() + " FROM operator_changes WHERE state IN " +
                    kOpenChangeStates;
  std::vector<Impl::SqlValue> values;
  if (sho_id) {
    sql += " AND (from_sho = ? OR to_sho = ?)";
    values.emplace_back(*sho_id);
    values.emplace_back(*sho_id);
  }
  return impl_->select_id_page(std::move(sql), std::move(values), before_id, true, limit, read_change);
}

}  // namespace m2mdm::server
