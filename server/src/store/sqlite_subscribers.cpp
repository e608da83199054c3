// SqliteStore, subscribers and their devices (SubscriberStore).
#include "store/sqlite_impl.hpp"

namespace m2mdm::server {
namespace {

constexpr auto kSubscriberRow =
    row_columns<Subscriber>(Field{"id", &Subscriber::id}, Field{"name", &Subscriber::name},
                            Field{"token_hash", &Subscriber::token_hash}, Field{"created", &Subscriber::created});

Subscriber read_subscriber(Query& st) { return kSubscriberRow.read(st); }

template <typename Value>
Result<Subscriber> subscriber_where(SqliteStore::Impl& impl, const char* column, const Value& value) {
  return impl.row_where(column_list<kSubscriberRow>(), "subscribers", column, value, read_subscriber);
}

}  // namespace

Result<Subscriber> SqliteStore::create_subscriber(std::string_view name, ByteView token_hash, std::int64_t now) {
  Impl::Lock lock(*impl_);
  auto id = impl_->insert("INSERT INTO subscribers(name, token_hash, created) VALUES(?,?,?)", name, token_hash, now);
  if (!id) return fail(id.error());
  return subscriber_where(*impl_, "id", *id);
}

Result<Subscriber> SqliteStore::get_subscriber(std::int64_t id) {
  Impl::Lock lock(*impl_);
  return subscriber_where(*impl_, "id", id);
}

Result<Subscriber> SqliteStore::find_subscriber_by_name(std::string_view name) {
  Impl::Lock lock(*impl_);
  return subscriber_where(*impl_, "name", name);
}

Result<Subscriber> SqliteStore::find_subscriber_by_token_hash(ByteView token_hash) {
  Impl::Lock lock(*impl_);
  return subscriber_where(*impl_, "token_hash", token_hash);
}

Result<std::vector<Subscriber>> SqliteStore::list_subscribers() {
  Impl::Lock lock(*impl_);
  auto st = impl_->q("SELECT " + column_list<kSubscriberRow>() + " FROM subscribers ORDER BY id");
  if (!st) return fail(st.error());
  return st->rows(read_subscriber);
}

Result<std::size_t> SqliteStore::assign_devices(std::optional<std::int64_t> subscriber_id,
                                                std::span<const std::string> dev_ids, const AuditEntry& audit,
                                                std::int64_t now) {
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  std::size_t changed = 0;
  for (const auto& dev_id : dev_ids) {
    auto st = impl_->q("SELECT subscriber_id FROM devices WHERE dev_id = ?");
    if (!st) return fail(st.error());
    st->text(1, dev_id);
    M2MDM_TRY(st->row());  // none: not_found, and the transaction rolls back
    std::optional<std::int64_t> current;
    if (!st->col_null(0)) current = st->col_i64(0);
    if (current == subscriber_id) continue;
    M2MDM_TRY(impl_->exec("UPDATE devices SET subscriber_id = ?, updated = ? WHERE dev_id = ?", subscriber_id, now,
                          dev_id));
    ++changed;
  }
  AuditEntry entry = audit;
  entry.detail += (entry.detail.empty() ? "" : ": ") + std::to_string(dev_ids.size()) + " device(s), " +
                  std::to_string(changed) + " changed";
  M2MDM_TRY(impl_->audit(entry));
  M2MDM_TRY(tx.commit());
  return changed;
}

Result<std::vector<Device>> SqliteStore::list_subscriber_devices(std::int64_t subscriber_id,
                                                                 std::string_view after_dev_id, std::size_t limit) {
  Impl::Lock lock(*impl_);
  return impl_->devices_page("subscriber_id", subscriber_id, after_dev_id, limit);
}

}  // namespace m2mdm::server
