// SqliteStore, the SHO callback outbox (CallbackOutbox).
#include "store/sqlite_impl.hpp"

namespace m2mdm::server {

Result<std::int64_t> SqliteStore::enqueue_callback(std::int64_t sho_id, std::string_view url, std::string_view body,
                                                   std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  return impl_->insert_callback(sho_id, url, body, now);
}

Result<std::vector<OutboxEntry>> SqliteStore::due_callbacks(std::int64_t now, std::size_t limit) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q(
      "SELECT id, sho_id, url, body, attempts, next_attempt_at, acknowledged FROM outbox "
      "WHERE acknowledged = 0 AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?");
  if (!st) return fail(st.error());
  st->i64(1, now).i64(2, static_cast<std::int64_t>(limit));
  std::vector<OutboxEntry> out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW)
    out.push_back({st->col_i64(0), st->col_i64(1), st->col_text(2), st->col_text(3),
                   static_cast<int>(st->col_i64(4)), st->col_i64(5), st->col_i64(6) != 0});
  if (rc != SQLITE_DONE) return fail(from_sqlite(rc));
  return out;
}

Result<void> SqliteStore::mark_callback_acked(std::int64_t id) {
  std::lock_guard lock(impl_->mutex);
  return impl_->update_one("UPDATE outbox SET acknowledged = 1 WHERE id = ?",
                           [&](Query& st) { st.i64(1, id); });
}

Result<void> SqliteStore::reschedule_callback(std::int64_t id, std::int64_t next_attempt_at) {
  std::lock_guard lock(impl_->mutex);
  return impl_->update_one("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
                           [&](Query& st) { st.i64(1, next_attempt_at).i64(2, id); });
}

}  // namespace m2mdm::server
