// SqliteStore, the audit log (AuditLog).
#include "store/sqlite_impl.hpp"

namespace m2mdm::server {

Result<void> SqliteStore::append_audit(const AuditEntry& entry) {
  Impl::Lock lock(*impl_);
  return impl_->audit(entry);
}

Result<std::vector<AuditEntry>> SqliteStore::list_audit(std::size_t limit) {
  Impl::Lock lock(*impl_);
  auto st = impl_->q("SELECT id, at, actor, action, subject, detail FROM audit ORDER BY id DESC LIMIT ?");
  if (!st) return fail(st.error());
  st->i64(1, static_cast<std::int64_t>(limit));
  return st->rows([](Query& row) {
    return AuditEntry{row.col_i64(0), row.col_i64(1), row.col_text(2), row.col_text(3), row.col_text(4), row.col_text(5)};
  });
}

Result<std::vector<AuditEntry>> SqliteStore::list_audit_page(std::int64_t before_id, std::size_t limit) {
  Impl::Lock lock(*impl_);
  return impl_->select_id_page("SELECT id, at, actor, action, subject, detail FROM audit", {}, before_id, true, limit,
                               [](Query& row) {
    return AuditEntry{row.col_i64(0), row.col_i64(1), row.col_text(2), row.col_text(3), row.col_text(4), row.col_text(5)};
  });
}

}  // namespace m2mdm::server
