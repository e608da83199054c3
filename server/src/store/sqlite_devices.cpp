// SqliteStore, devices (DeviceStore): import, DM credentials and nonces, PfC, the ICF's SQN.
#include "store/crash_point.hpp"
#include "store/sqlite_impl.hpp"

#include <functional>

namespace m2mdm::server {

Result<ImportCounts> SqliteStore::upsert_devices(std::span<const Device> devices, std::int64_t now) {
  return import_devices(devices, std::nullopt, now);
}

Result<ImportCounts> SqliteStore::import_devices(std::span<const Device> devices, std::optional<AuditEntry> audit,
                                                 std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  Impl::Tx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  ImportCounts counts;
  std::size_t n = 0;
  for (const Device& d : devices) {
    if (++n == devices.size() / 2 + 1) crash_point("upsert_devices.mid");
    auto existing = impl_->device_where("dev_id", d.dev_id);
    if (!existing && existing.error() != err(errc::not_found)) return fail(existing.error());
    if (!existing) {
      auto st = impl_->q(
          "INSERT INTO devices(dev_id, pcid, sho_id, dpf_address, sqn, state, push_address, created, updated, "
          "sec_method) VALUES(?,?,?,?,?,?,?,?,?,?)");
      if (!st) return fail(st.error());
      st->text(1, d.dev_id).text(2, d.pcid);
      if (d.sho_id)
        st->i64(3, *d.sho_id);
      else
        st->null(3);
      st->text(4, d.dpf_address)
          .i64(5, static_cast<std::int64_t>(d.sqn))
          .text(6, to_string(d.state))
          .text(7, d.push_address)
          .i64(8, now)
          .i64(9, now)
          .text(10, d.sec_method.empty() ? std::string_view("USERPIN") : std::string_view(d.sec_method));
      M2MDM_TRY(st->exec());
      M2MDM_TRY(impl_->write_secrets(sqlite3_last_insert_rowid(impl_->db.get()), d));
      ++counts.inserted;
      continue;
    }
    const Device& e = *existing;
    // Secrets and delivery settings the import leaves out are kept (a re-import must not wipe the
    // DM credentials the DRF issued, nor the PIN or K/OPc).
    Device merged = d;
    if (dm_empty(d.dm)) merged.dm = e.dm;
    if (d.device_pin.empty()) merged.device_pin = e.device_pin;
    if (d.k.empty()) merged.k = e.k;
    if (d.opc.empty()) merged.opc = e.opc;
    if (d.push_address.empty()) merged.push_address = e.push_address;
    if (d.sec_method.empty()) merged.sec_method = e.sec_method;
    if (e.pcid == merged.pcid && e.sho_id == merged.sho_id && e.dpf_address == merged.dpf_address &&
        same_dm(e.dm, merged.dm) && e.device_pin == merged.device_pin && e.k == merged.k && e.opc == merged.opc &&
        e.push_address == merged.push_address && e.sec_method == merged.sec_method) {
      ++counts.unchanged;
      continue;
    }
    // Keeps state, SQN, PfC, nonces: an import re-states registry data, not progress.
    merged.dm.server_nonce = e.dm.server_nonce;
    merged.dm.client_nonce = e.dm.client_nonce;
    auto st = impl_->q(
        "UPDATE devices SET pcid = ?, sho_id = ?, dpf_address = ?, push_address = ?, updated = ?, sec_method = ? "
        "WHERE id = ?");
    if (!st) return fail(st.error());
    st->text(1, d.pcid);
    if (d.sho_id)
      st->i64(2, *d.sho_id);
    else
      st->null(2);
    st->text(3, d.dpf_address).text(4, merged.push_address).i64(5, now).text(6, merged.sec_method).i64(7, e.id);
    M2MDM_TRY(st->exec());
    M2MDM_TRY(impl_->write_secrets(e.id, merged));
    ++counts.updated;
  }
  if (audit) {
    audit->detail += (audit->detail.empty() ? "" : ": ") + std::string("inserted ") + std::to_string(counts.inserted) +
                     ", updated " + std::to_string(counts.updated) + ", unchanged " + std::to_string(counts.unchanged);
    M2MDM_TRY(impl_->audit(*audit));
  }
  crash_point("import_devices.before_commit");
  M2MDM_TRY(tx.commit());
  return counts;
}

Result<Device> SqliteStore::get_device(std::string_view dev_id) {
  std::lock_guard lock(impl_->mutex);
  return impl_->device_where("dev_id", dev_id);
}

Result<Device> SqliteStore::get_device_by_pcid(std::string_view pcid) {
  std::lock_guard lock(impl_->mutex);
  return impl_->device_where("pcid", pcid);
}

Result<std::vector<Device>> SqliteStore::list_devices(std::int64_t sho_id, std::string_view after_dev_id,
                                                      std::size_t limit) {
  std::lock_guard lock(impl_->mutex);
  return impl_->devices_page("sho_id", sho_id, after_dev_id, limit);
}

Result<void> SqliteStore::set_device_state(std::string_view dev_id, DeviceState state, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  return impl_->update_one("UPDATE devices SET state = ?, updated = ? WHERE dev_id = ?",
                           [&](Query& st) { st.text(1, to_string(state)).i64(2, now).text(3, dev_id); });
}

Result<void> SqliteStore::touch_device(std::string_view dev_id, std::string_view push_address, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  return impl_->update_one(
      "UPDATE devices SET last_seen = ?, push_address = CASE WHEN ? = '' THEN push_address ELSE ? END, "
      "updated = ? WHERE dev_id = ?",
      [&](Query& st) { st.i64(1, now).text(2, push_address).text(3, push_address).i64(4, now).text(5, dev_id); });
}

Result<void> SqliteStore::set_device_pfc(std::string_view dev_id, ByteView pfc_der, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  return impl_->update_one("UPDATE devices SET pfc_der = ?, updated = ? WHERE dev_id = ?",
                           [&](Query& st) { st.blob(1, pfc_der).i64(2, now).text(3, dev_id); });
}

Result<void> SqliteStore::set_pfc_validation(std::string_view dev_id, std::string_view verdict_json,
                                             std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  return impl_->update_one("UPDATE devices SET pfc_validation = ?, updated = ? WHERE dev_id = ?",
                           [&](Query& st) { st.text(1, verdict_json).i64(2, now).text(3, dev_id); });
}

Result<void> SqliteStore::set_dm_credentials(std::string_view dev_id, const DmCredentials& dm, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  auto dev = impl_->device_where("dev_id", dev_id);
  if (!dev) return fail(dev.error());
  return impl_->write_dm_credentials(dev->id, dm, now);
}

Result<void> SqliteStore::set_dm_nonces(std::string_view dev_id, ByteView server_nonce, ByteView client_nonce,
                                        std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  auto dev = impl_->device_where("dev_id", dev_id);
  if (!dev) return fail(dev.error());
  DmCredentials dm = dev->dm;
  dm.server_nonce.assign(server_nonce.begin(), server_nonce.end());
  dm.client_nonce.assign(client_nonce.begin(), client_nonce.end());
  return impl_->write_dm_credentials(dev->id, dm, now);
}

Result<std::uint64_t> SqliteStore::reserve_sqn(std::string_view pcid, std::uint32_t count, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  constexpr std::uint64_t kSqnMax = (std::uint64_t{1} << 48) - 1;
  auto st = impl_->q(
      "UPDATE devices SET sqn = sqn + ?, updated = ? WHERE pcid = ? AND sqn + ? <= ? RETURNING sqn - ?");
  if (!st) return fail(st.error());
  st->i64(1, count).i64(2, now).text(3, pcid).i64(4, count).i64(5, static_cast<std::int64_t>(kSqnMax)).i64(6, count);
  int rc = st->step();
  if (rc == SQLITE_DONE) return fail(err(errc::not_found));
  if (rc != SQLITE_ROW) return fail(from_sqlite(rc));
  auto first = static_cast<std::uint64_t>(st->col_i64(0));
  while ((rc = st->step()) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return fail(from_sqlite(rc));
  return first;
}

Result<void> SqliteStore::set_sqn(std::string_view pcid, std::uint64_t next_sqn, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  return impl_->update_one("UPDATE devices SET sqn = ?, updated = ? WHERE pcid = ?", [&](Query& st) {
    st.i64(1, static_cast<std::int64_t>(next_sqn)).i64(2, now).text(3, pcid);
  });
}

Result<void> SqliteStore::patch_device(std::string_view dev_id, const DevicePatch& patch, std::int64_t now) {
  std::lock_guard lock(impl_->mutex);
  Impl::Tx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  auto dev = impl_->device_where("dev_id", dev_id);
  if (!dev) return fail(dev.error());
  auto st = impl_->q("UPDATE devices SET push_address = ?, sec_method = ?, updated = ? WHERE id = ?");
  if (!st) return fail(st.error());
  st->text(1, patch.push_address.value_or(dev->push_address))
      .text(2, patch.sec_method.value_or(dev->sec_method))
      .i64(3, now)
      .i64(4, dev->id);
  M2MDM_TRY(st->exec());
  return tx.commit();
}

}  // namespace m2mdm::server
