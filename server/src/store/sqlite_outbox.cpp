// SqliteStore, the SHO callback outbox (CallbackOutbox).
#include "store/sqlite_impl.hpp"

namespace m2mdm::server {
namespace {

constexpr auto kOutboxRow = row_columns<OutboxEntry>(
    Field{"id", &OutboxEntry::id}, Field{"sho_id", &OutboxEntry::sho_id}, Field{"url", &OutboxEntry::url},
    Field{"body", &OutboxEntry::body}, Field{"attempts", &OutboxEntry::attempts},
    Field{"next_attempt_at", &OutboxEntry::next_attempt_at}, Field{"acknowledged", &OutboxEntry::acknowledged});

}  // namespace

Result<std::int64_t> SqliteStore::enqueue_callback(std::int64_t sho_id, std::string_view url, std::string_view body,
                                                   std::int64_t now) {
  Impl::Lock lock(*impl_);
  return impl_->insert_callback(sho_id, url, body, now);
}

Result<std::vector<OutboxEntry>> SqliteStore::due_callbacks(std::int64_t now, std::size_t limit) {
  Impl::Lock lock(*impl_);
  static const std::string sql =
      "SELECT " + column_list<kOutboxRow>() +
      " FROM outbox WHERE acknowledged = 0 AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?";
  auto st = impl_->q(sql);
  if (!st) return fail(st.error());
  st->i64(1, now).i64(2, static_cast<std::int64_t>(limit));
  return st->rows([](Query& row) { return kOutboxRow.read(row); });
}

Result<void> SqliteStore::mark_callback_acked(std::int64_t id) {
  Impl::Lock lock(*impl_);
  return impl_->update_one("UPDATE outbox SET acknowledged = 1 WHERE id = ?", id);
}

Result<void> SqliteStore::reschedule_callback(std::int64_t id, std::int64_t next_attempt_at) {
  Impl::Lock lock(*impl_);
  return impl_->update_one("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
                           next_attempt_at, id);
}

}  // namespace m2mdm::server
