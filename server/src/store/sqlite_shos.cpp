// SqliteStore, SHO accounts (ShoStore).
#include "store/sqlite_impl.hpp"

namespace m2mdm::server {

Result<Sho> SqliteStore::create_sho(std::string_view name, ByteView token_hash, std::int64_t now) {
  Impl::Lock lock(*impl_);
  auto id = impl_->insert("INSERT INTO shos(name, token_hash, created) VALUES(?,?,?)", name, token_hash, now);
  if (!id) return fail(id.error());
  return impl_->sho_where("id", *id);
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
  auto st = impl_->q("SELECT " + column_list<kShoRow>() + " FROM shos ORDER BY id");
  if (!st) return fail(st.error());
  return st->rows(Impl::read_sho);
}

Result<void> SqliteStore::set_sho_callback(std::int64_t sho_id, std::string_view url) {
  Impl::Lock lock(*impl_);
  return impl_->update_one("UPDATE shos SET callback_url = ? WHERE id = ?", url, sho_id);
}

Result<void> SqliteStore::set_sho_signer(std::int64_t sho_id, std::string_view signer) {
  Impl::Lock lock(*impl_);
  return impl_->update_one("UPDATE shos SET signer = ? WHERE id = ?", signer, sho_id);
}

}  // namespace m2mdm::server
