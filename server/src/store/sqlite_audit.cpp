// SqliteStore, the audit log (AuditLog).
#include "store/sqlite_impl.hpp"

namespace m2mdm::server {
namespace {

constexpr auto kAuditRow = row_columns<AuditEntry>(Field{"id", &AuditEntry::id}, Field{"at", &AuditEntry::at},
                                                   Field{"actor", &AuditEntry::actor},
                                                   Field{"action", &AuditEntry::action},
                                                   Field{"subject", &AuditEntry::subject},
                                                   Field{"detail", &AuditEntry::detail});

AuditEntry read_audit(Query& st) { return kAuditRow.read(st); }

}  // namespace

Result<void> SqliteStore::append_audit(const AuditEntry& entry) {
  Impl::Lock lock(*impl_);
  return impl_->audit(entry);
}

Result<std::vector<AuditEntry>> SqliteStore::list_audit(std::size_t limit) {
  Impl::Lock lock(*impl_);
  static const std::string sql = "SELECT " + column_list<kAuditRow>() + " FROM audit ORDER BY id DESC LIMIT ?";
  auto st = impl_->q(sql);
  if (!st) return fail(st.error());
  st->i64(1, static_cast<std::int64_t>(limit));
  return st->rows(read_audit);
}

Result<std::vector<AuditEntry>> SqliteStore::list_audit_page(std::int64_t before_id, std::size_t limit) {
  Impl::Lock lock(*impl_);
  return impl_->select_id_page("SELECT " + column_list<kAuditRow>() + " FROM audit", {}, before_id, true, limit,
                               read_audit);
}

}  // namespace m2mdm::server
