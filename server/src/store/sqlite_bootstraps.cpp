// SqliteStore, the DRF's bootstrap history (BootstrapStore).
#include "store/crash_point.hpp"
#include "store/sqlite_impl.hpp"

namespace m2mdm::server {
namespace {

constexpr auto kBootstrapRow = row_columns<BootstrapRecord>(
    Field{"id", &BootstrapRecord::id}, Field{"dev_id", &BootstrapRecord::dev_id},
    Field{"issued", &BootstrapRecord::issued}, Field{"actor", &BootstrapRecord::actor},
    Field{"sec_method", &BootstrapRecord::sec_method}, Field{"delivery", &BootstrapRecord::delivery},
    Field{"rebootstrap", &BootstrapRecord::rebootstrap}, Field{"active", &BootstrapRecord::active});

BootstrapRecord read_bootstrap(Query& st) { return kBootstrapRow.read(st); }

}  // namespace

Result<BootstrapRecord> SqliteStore::record_bootstrap(const BootstrapRecord& record, const DmCredentials& dm,
                                                      const DmCredentials& app_credentials, std::int64_t now) {
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  auto dev = impl_->device_where("dev_id", record.dev_id);
  if (!dev) return fail(dev.error());
  M2MDM_TRY(impl_->exec("UPDATE bootstraps SET active = 0 WHERE dev_id = ? AND active = 1", record.dev_id));
  auto inserted = impl_->insert(
      "INSERT INTO bootstraps(dev_id, issued, actor, sec_method, delivery, rebootstrap, active) "
      "VALUES(?,?,?,?,?,?,1)",
      record.dev_id, now, record.actor, record.sec_method, record.delivery, record.rebootstrap ? 1 : 0);
  if (!inserted) return fail(inserted.error());
  const std::int64_t id = *inserted;
  crash_point("record_bootstrap.mid");
  {
    auto app_json = dm_to_json(app_credentials).dump();
    auto sealed = impl_->seal_with(as_bytes(app_json), aad("bootstraps", "app_credentials", id));
    if (!sealed) return fail(sealed.error());
    M2MDM_TRY(impl_->exec("UPDATE bootstraps SET app_credentials = ? WHERE id = ?", *sealed, id));
  }
  // A first bootstrap gives the device its DM credentials. A re-bootstrap's wait beside the
  // current ones until the device authenticates with them (promote_pending_credentials): until
  // then the device, which may never get or accept this bootstrap, keeps working with the old.
  const bool pending = record.rebootstrap && !dm_empty(dev->dm);
  {
    auto dm_json = dm_to_json(dm).dump();
    auto sealed = impl_->seal(pending ? "pending_dm_credentials" : "dm_credentials", dev->id, as_bytes(dm_json));
    if (!sealed) return fail(sealed.error());
    const char* sql = pending ? "UPDATE devices SET pending_dm_credentials = ?, updated = ? WHERE id = ?"
                              : "UPDATE devices SET dm_credentials = ?, pending_dm_credentials = NULL, state = CASE "
                                "WHEN state = 'imported' THEN 'bootstrapped' ELSE state END, updated = ? WHERE id = ?";
    M2MDM_TRY(impl_->exec(sql, *sealed, now, dev->id));
  }
  M2MDM_TRY(impl_->audit({0, now, record.actor, record.rebootstrap ? "drf.rebootstrap" : "drf.bootstrap",
                          record.dev_id,
                          "bootstrap " + std::to_string(id) + " " + record.sec_method + " via " + record.delivery}));
  M2MDM_TRY(tx.commit());
  BootstrapRecord out = record;
  out.id = id;
  out.issued = now;
  out.active = true;
  return out;
}

Result<std::optional<BootstrapRecord>> SqliteStore::active_bootstrap(std::string_view dev_id) {
  Impl::Lock lock(*impl_);
  auto st = impl_->q("SELECT " + column_list<kBootstrapRow>() +
                     " FROM bootstraps WHERE dev_id = ? AND active = 1 ORDER BY id DESC LIMIT 1");
  if (!st) return fail(st.error());
  st->text(1, dev_id);
  return st->optional_row(read_bootstrap);
}

Result<void> SqliteStore::deactivate_bootstrap(std::int64_t id) {
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  M2MDM_TRY(impl_->update_one("UPDATE bootstraps SET active = 0 WHERE id = ?", id));
  // A re-bootstrap that never left: its credentials go too (the device keeps its current ones).
  M2MDM_TRY(impl_->exec(
      "UPDATE devices SET pending_dm_credentials = NULL WHERE dev_id = (SELECT dev_id FROM bootstraps WHERE id = ?) "
      "AND (SELECT rebootstrap FROM bootstraps WHERE id = ?) = 1",
      id, id));
  return tx.commit();
}

Result<bool> SqliteStore::promote_pending_credentials(std::string_view dev_id, std::int64_t now) {
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  auto dev = impl_->device_where("dev_id", dev_id);
  if (!dev) return fail(dev.error());
  if (!dev->pending_dm) return false;
  M2MDM_TRY(impl_->write_dm_credentials(dev->id, *dev->pending_dm, now));
  M2MDM_TRY(impl_->update_one("UPDATE devices SET pending_dm_credentials = NULL WHERE id = ?", dev->id));
  M2MDM_TRY(impl_->audit({0, now, "device:" + std::string(dev_id), "dm.credentials.rebootstrapped",
                          std::string(dev_id), "the device authenticated with its re-bootstrap's credentials"}));
  M2MDM_TRY(impl_->begin_reprovisioning(dev_id, now));
  M2MDM_TRY(tx.commit());
  return true;
}

Result<std::vector<BootstrapRecord>> SqliteStore::list_bootstraps(std::string_view dev_id, std::int64_t before_id,
                                                                  std::size_t limit) {
  Impl::Lock lock(*impl_);
  return impl_->select_id_page("SELECT " + column_list<kBootstrapRow>() + " FROM bootstraps WHERE dev_id = ?",
                               {std::string(dev_id)}, before_id, true, limit, read_bootstrap);
}

}  // namespace m2mdm::server
