// SqliteStore, the audit log (AuditLog).
#include "store/sqlite_impl.hpp"

namespace m2mdm::server {

Result<void> SqliteStore::append_audit(const AuditEntry& entry) {
  std::lock_guard lock(impl_->mutex);
  return impl_->audit(entry);
}

Result<std::vector<AuditEntry>> SqliteStore::list_audit(std::size_t limit) {
  std::lock_guard lock(impl_->mutex);
  auto st = impl_->q("SELECT id, at, actor, action, subject, detail FROM audit ORDER BY id DESC LIMIT ?");
  if (!st) return fail(st.error());
  st->i64(1, static_cast<std::int64_t>(limit));
  std::vector<AuditEntry> out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW)
    out.push_back({st->col_i64(0), st->col_i64(1), st->col_text(2), st->col_text(3), st->col_text(4), st->col_text(5)});
  if (rc != SQLITE_DONE) return fail(from_sqlite(rc));
  return out;
}

}  // namespace m2mdm::server
