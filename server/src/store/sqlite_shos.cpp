// SqliteStore, SHO accounts (ShoStore).
#include "store/sqlite_impl.hpp"

namespace m2mdm::server {

Result<Sho> SqliteStore::create_sho(std::string_view name, ByteView token_hash, std::int64_t now) {
  Impl::Lock lock(*impl_);
  auto st = impl_->q("INSERT INTO shos(name, token_hash, created) VALUES(?,?,?)");
  if (!st) return fail(st.error());
  st->text(1, name).blob(2, token_hash).i64(3, now);
  M2MDM_TRY(st->exec());
  return impl_->sho_where("id", std::int64_t{sqlite3_last_insert_rowid(impl_->db.get())});
}

Result<Sho> SqliteStore::get_sho(std::int64_t id) {
  Impl::Lock lock(*impl_);
  return impl_->sho_where("id", id);
}

Result<Sho> SqliteStore::find_sho_by_token_hash(ByteView token_hash) {
  Impl::Lock lock(*impl_);
  return impl_->sho_where("token_hash", token_hash);
}

Result<std::vector<Sho>> SqliteStore::list_shos() {
  Impl::Lock lock(*impl_);
  auto st = impl_->q(std::string("SELECT ") + kShoColumns + " FROM shos ORDER BY id");
  if (!st) return fail(st.error());
  return st->rows(Impl::read_sho);
}

Result<void> SqliteStore::set_sho_callback(std::int64_t sho_id, std::string_view url) {
  Impl::Lock lock(*impl_);
  return impl_->update_one("UPDATE shos SET callback_url = ? WHERE id = ?",
                           [&](Query& st) { st.text(1, url).i64(2, sho_id); });
}

Result<void> SqliteStore::set_sho_signer(std::int64_t sho_id, std::string_view signer) {
  Impl::Lock lock(*impl_);
  auto st = impl_->q("UPDATE shos SET signer = ? WHERE id = ?");
  if (!st) return fail(st.error());
  st->text(1, signer).i64(2, sho_id);
  M2MDM_TRY(st->exec());
  return impl_->changed_one(impl_->db.get());
}

}  // namespace m2mdm::server
