// SqliteStore, devices (DeviceStore): import, DM credentials and nonces, PfC, the ICF's SQN.
#include "store/crash_point.hpp"
#include "store/sqlite_impl.hpp"

#include <algorithm>
#include <functional>
#include <optional>

namespace m2mdm::server {

Result<ImportCounts> SqliteStore::upsert_devices(std::span<const Device> devices, std::int64_t now) {
  return import_devices(devices, std::nullopt, now);
}

namespace {

/// What a re-import of @p d over @p e stores: the secrets and delivery settings the import leaves
/// out are kept (a re-import must not wipe the DM credentials the DRF issued, nor the PIN or K/OPc).
Device merge_import(const Device& e, const Device& d) {
  Device merged = d;
  if (dm_empty(d.dm)) merged.dm = e.dm;
  if (d.device_pin.empty()) merged.device_pin = e.device_pin;
  if (d.k.empty()) merged.k = e.k;
  if (d.opc.empty()) merged.opc = e.opc;
  if (d.push_address.empty()) merged.push_address = e.push_address;
  if (d.sec_method.empty()) merged.sec_method = e.sec_method;
  return merged;
}

/// True when importing @p merged over @p e changes nothing an import sets.
bool same_import(const Device& e, const Device& merged) {
  return e.pcid == merged.pcid && e.sho_id == merged.sho_id && e.dpf_address == merged.dpf_address &&
         same_dm(e.dm, merged.dm) && e.device_pin == merged.device_pin && e.k == merged.k && e.opc == merged.opc &&
         e.push_address == merged.push_address && e.sec_method == merged.sec_method;
}

nlohmann::json shadow_json(const Device& d) {
  return {{"pcid", d.pcid},
          {"dpf_address", d.dpf_address},
          {"push_address", d.push_address},
          {"sec_method", d.sec_method},
          {"sqn", d.sqn},
          {"dm", dm_to_json(d.dm)},
          {"pin", hex_encode(d.device_pin)},
          {"k", hex_encode(d.k)},
          {"opc", hex_encode(d.opc)}};
}

/// An import's counts as its audit entry tells them: "inserted N, updated N, unchanged N".
std::string import_summary(const ImportCounts& counts) {
  return "inserted " + std::to_string(counts.inserted) + ", updated " + std::to_string(counts.updated) +
         ", unchanged " + std::to_string(counts.unchanged);
}

/// The not_found of a lookup as an empty optional; any other error stays an error.
Result<std::optional<Device>> maybe(Result<Device> d) {
  if (d) return std::optional<Device>(std::move(*d));
  if (d.error() == err(errc::not_found)) return std::optional<Device>();
  return fail(d.error());
}

}  // namespace

Result<std::optional<SqliteStore::Impl::Shadow>> SqliteStore::Impl::shadow_where(std::int64_t sho_id,
                                                                                  const char* column,
                                                                                  std::string_view value) {
  auto st = q(std::string("SELECT id, dev_id, record FROM import_shadows WHERE sho_id = ? AND ") + column + " = ?");
  if (!st) return fail(st.error());
  st->i64(1, sho_id).text(2, value);
  auto found = st->next();
  if (!found) return fail(found.error());
  if (!*found) return std::optional<Shadow>();
  Shadow sh;
  sh.id = st->col_i64(0);
  sh.device.dev_id = st->col_text(1);
  sh.device.sho_id = sho_id;
  auto plain = open_with(st->col_blob(2), aad("import_shadows", "record", sh.id));
  if (!plain) return fail(plain.error());
  auto j = nlohmann::json::parse(as_chars(*plain), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("dm") || !j["dm"].is_object())
    return fail(err(errc::store_corrupt));
  Device& d = sh.device;
  d.pcid = j.value("pcid", "");
  d.dpf_address = j.value("dpf_address", "");
  d.push_address = j.value("push_address", "");
  d.sec_method = j.value("sec_method", "");
  d.sqn = j.value("sqn", std::uint64_t{0});
  d.dm = dm_from_json(j["dm"]);
  d.device_pin = hex_decode(j.value("pin", "")).value_or(Bytes{});
  d.k = hex_decode(j.value("k", "")).value_or(Bytes{});
  d.opc = hex_decode(j.value("opc", "")).value_or(Bytes{});
  return std::optional<Shadow>(std::move(sh));
}

Result<void> SqliteStore::Impl::write_shadow(std::int64_t sho_id, std::int64_t id, const Device& d, std::int64_t now) {
  if (id == 0) {
    auto inserted = insert(
        "INSERT INTO import_shadows(sho_id, dev_id, pcid, record, created, updated) VALUES(?,?,?,x'',?,?)", sho_id,
        d.dev_id, d.pcid, now, now);
    if (!inserted) return fail(inserted.error());
    id = *inserted;
  }
  const std::string plain = shadow_json(d).dump();
  auto sealed = seal_with(as_bytes(plain), aad("import_shadows", "record", id));
  if (!sealed) return fail(sealed.error());
  return exec("UPDATE import_shadows SET pcid = ?, record = ?, updated = ? WHERE id = ?", d.pcid, *sealed, now, id);
}

Result<void> SqliteStore::Impl::insert_device(const Device& d, std::int64_t now) {
  auto id = insert(
      "INSERT INTO devices(dev_id, pcid, sho_id, dpf_address, sqn, state, push_address, created, updated, "
      "sec_method) VALUES(?,?,?,?,?,?,?,?,?,?)",
      d.dev_id, d.pcid, d.sho_id, d.dpf_address, static_cast<std::int64_t>(d.sqn), to_string(d.state), d.push_address,
      now, now, d.sec_method.empty() ? std::string_view("USERPIN") : std::string_view(d.sec_method));
  if (!id) return fail(id.error());
  return write_secrets(*id, d);
}

Result<void> SqliteStore::Impl::update_device(const Device& e, const Device& merged, std::int64_t now) {
  Device m = merged;
  m.dm.server_nonce = e.dm.server_nonce;
  m.dm.client_nonce = e.dm.client_nonce;
  M2MDM_TRY(exec(
      "UPDATE devices SET pcid = ?, sho_id = ?, dpf_address = ?, push_address = ?, updated = ?, sec_method = ? "
      "WHERE id = ?",
      m.pcid, m.sho_id, m.dpf_address, m.push_address, now, m.sec_method, e.id));
  return write_secrets(e.id, m);
}

Result<ImportCounts> SqliteStore::import_devices(std::span<const Device> devices, std::optional<AuditEntry> audit,
                                                 std::int64_t now) {
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  ImportCounts counts;
  std::size_t n = 0;
  for (const Device& d : devices) {
    if (++n == devices.size() / 2 + 1) crash_point("upsert_devices.mid");
    auto existing = impl_->device_where("dev_id", d.dev_id);
    if (!existing && existing.error() != err(errc::not_found)) return fail(existing.error());
    if (!existing) {
      M2MDM_TRY(impl_->insert_device(d, now));
      ++counts.inserted;
      continue;
    }
    const Device& e = *existing;
    Device merged = merge_import(e, d);
    if (same_import(e, merged)) {
      ++counts.unchanged;
      continue;
    }
    M2MDM_TRY(impl_->update_device(e, merged, now));
    ++counts.updated;
  }
  if (audit) {
    audit->detail += (audit->detail.empty() ? "" : ": ") + import_summary(counts);
    M2MDM_TRY(impl_->audit(*audit));
  }
  crash_point("import_devices.before_commit");
  M2MDM_TRY(tx.commit());
  return counts;
}

Result<ImportCounts> SqliteStore::import_sho_devices(std::int64_t sho_id, std::span<const Device> devices,
                                                     AuditEntry audit, std::int64_t now) {
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  ImportCounts counts;
  std::size_t held = 0;
  for (const Device& item : devices) {
    Device d = item;
    d.sho_id = sho_id;
    auto by_id = maybe(impl_->device_where("dev_id", d.dev_id));
    auto by_pcid = maybe(impl_->device_where("pcid", d.pcid));
    if (!by_id) return fail(by_id.error());
    if (!by_pcid) return fail(by_pcid.error());
    auto shadow = impl_->shadow_where(sho_id, "dev_id", d.dev_id);
    auto shadow_of_pcid = impl_->shadow_where(sho_id, "pcid", d.pcid);
    if (!shadow) return fail(shadow.error());
    if (!shadow_of_pcid) return fail(shadow_of_pcid.error());
    const bool own = *by_id && (*by_id)->sho_id == sho_id;
    // A PCID conflict among what the caller itself holds or imported: what a fresh import refuses.
    if ((*by_pcid && (*by_pcid)->sho_id == sho_id && (*by_pcid)->dev_id != d.dev_id) ||
        (*shadow_of_pcid && (*shadow_of_pcid)->device.dev_id != d.dev_id))
      return fail(err(errc::conflict));
    // Held by someone else: another SHO, or the operator's registry without an SHO (claim it).
    const char* held_by = nullptr;
    if (*by_id && !own)
      held_by = (*by_id)->sho_id ? "DevId of another SHO" : "DevId in the registry without an SHO (claim it)";
    else if (*by_pcid && (*by_pcid)->sho_id != sho_id)
      held_by = "PCID of another device";
    // The caller's view of the DevId: its shadow, else its own device, else nothing (a fresh insert).
    const Device* seen = *shadow ? &(*shadow)->device : own ? &**by_id : nullptr;
    const Device merged = seen ? merge_import(*seen, d) : d;
    const bool same = seen && same_import(*seen, merged);
    if (!seen)
      ++counts.inserted;
    else if (same)
      ++counts.unchanged;
    else
      ++counts.updated;
    if (held_by) {
      ++held;
      if (!same) M2MDM_TRY(impl_->write_shadow(sho_id, *shadow ? (*shadow)->id : 0, merged, now));
      M2MDM_TRY(impl_->audit({0, now, audit.actor, "device.refused", d.dev_id, std::string("import: ") + held_by}));
      continue;
    }
    if (*shadow)  // what held the DevId is gone: the caller's import becomes the device
      M2MDM_TRY(impl_->exec("DELETE FROM import_shadows WHERE id = ?", (*shadow)->id));
    if (!*by_id)
      M2MDM_TRY(impl_->insert_device(merged, now));
    else if (!same_import(**by_id, merged))
      M2MDM_TRY(impl_->update_device(**by_id, merge_import(**by_id, merged), now));
  }
  audit.detail += (audit.detail.empty() ? "" : ": ") + import_summary(counts) +
                  (held ? ", held elsewhere " + std::to_string(held) : std::string());
  M2MDM_TRY(impl_->audit(audit));
  M2MDM_TRY(tx.commit());
  return counts;
}

Result<ClaimOutcome> SqliteStore::claim_device(const DeviceClaim& claim, const ClaimPolicy& policy,
                                               std::int64_t now) {
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  // The SHO's failures in its current window; over the limit, the proof is not even looked at.
  auto window = impl_->optional_row("SELECT window_start, failures FROM claim_failures WHERE sho_id = ?",
                                    [](Query& row) { return std::pair{row.col_i64(0), row.col_i64(1)}; }, claim.sho_id);
  if (!window) return fail(window.error());
  auto [window_start, failures] = window->value_or(std::pair{now, std::int64_t{0}});
  if (window_start + policy.window_seconds <= now) {
    window_start = now;
    failures = 0;
  }
  if (failures >= policy.max_failures)
    return ClaimOutcome{ClaimVerdict::throttled, std::max<std::int64_t>(1, window_start + policy.window_seconds - now)};

  // The device: one SELECT and one AES-GCM open whether it exists or not, whether it has a PIN.
  if (impl_->dummy_pin.empty()) {
    auto dummy = impl_->seal("device_pin", 0, as_bytes("0000000000000000"));
    if (!dummy) return fail(dummy.error());
    impl_->dummy_pin = std::move(*dummy);
  }
  struct ClaimedRow {
    std::int64_t rowid = 0;
    std::optional<std::int64_t> holder;
    Bytes sealed_pin;
  };
  auto row = impl_->optional_row(
      "SELECT id, sho_id, device_pin FROM devices WHERE dev_id = ?",
      [](Query& r) {
        return ClaimedRow{r.col_i64(0), r.col_null(1) ? std::nullopt : std::optional(r.col_i64(1)), r.col_blob(2)};
      },
      claim.dev_id);
  if (!row) return fail(row.error());
  const bool found = row->has_value();
  const auto [rowid, holder, sealed_pin] = row->value_or(ClaimedRow{});
  const bool has_pin_blob = found && !sealed_pin.empty();
  auto stored = has_pin_blob ? impl_->unseal("device_pin", rowid, sealed_pin)
                             : impl_->unseal("device_pin", 0, impl_->dummy_pin);
  if (!stored) return fail(stored.error());
  const bool has_pin = has_pin_blob && !stored->empty();
  // Digests: equal lengths, so the comparison takes the same time whatever the PIN's length.
  const bool pin_ok = constant_time_equal(hash_token(as_chars(claim.device_pin)), hash_token(as_chars(*stored)));
  const bool free_or_own = !holder || *holder == claim.sho_id;
  const bool ok = found & has_pin & pin_ok & free_or_own & !claim.device_pin.empty();
  const std::string actor = "sho:" + std::to_string(claim.sho_id);
  if (ok) {
    M2MDM_TRY(impl_->exec("UPDATE devices SET sho_id = ?, updated = ? WHERE id = ?", claim.sho_id, now, rowid));
    M2MDM_TRY(impl_->exec("DELETE FROM import_shadows WHERE sho_id = ? AND dev_id = ?", claim.sho_id, claim.dev_id));
    M2MDM_TRY(impl_->audit({0, now, actor, "device.claim", claim.dev_id,
                            holder ? "already this SHO's" : "claimed with the device PIN"}));
    M2MDM_TRY(tx.commit());
    return ClaimOutcome{ClaimVerdict::claimed, 0};
  }
  // Refused: the caller learns nothing more; the operator's audit log says why.
  std::string why = !found                    ? "no such device"
                    : holder && !free_or_own  ? std::string("device of another SHO (PIN ") +
                                                   (has_pin && pin_ok ? "right" : "wrong") + ")"
                    : !has_pin                ? "no device PIN on record"
                                              : "wrong device PIN";
  M2MDM_TRY(impl_->exec(
      "INSERT INTO claim_failures(sho_id, window_start, failures) VALUES(?,?,?) "
      "ON CONFLICT(sho_id) DO UPDATE SET window_start = excluded.window_start, failures = excluded.failures",
      claim.sho_id, window_start, failures + 1));
  M2MDM_TRY(impl_->audit({0, now, actor, "device.refused", claim.dev_id,
                          "claim: " + why + " (failure " + std::to_string(failures + 1) + " of " +
                              std::to_string(policy.max_failures) + " in the window)"}));
  M2MDM_TRY(tx.commit());
  return ClaimOutcome{ClaimVerdict::refused, 0};
}

Result<Device> SqliteStore::get_device(std::string_view dev_id) {
  Impl::Lock lock(*impl_);
  return impl_->device_where("dev_id", dev_id);
}

Result<Device> SqliteStore::get_device_account(std::string_view dev_id) {
  Impl::Lock lock(*impl_);
  return impl_->row_where(device_account_columns(), "devices", "dev_id", dev_id,
                          [this](Query& row) { return impl_->read_device(row); });
}

Result<Device> SqliteStore::get_device_by_pcid(std::string_view pcid) {
  Impl::Lock lock(*impl_);
  return impl_->device_where("pcid", pcid);
}

Result<std::vector<Device>> SqliteStore::list_devices(std::int64_t sho_id, std::string_view after_dev_id,
                                                      std::size_t limit) {
  Impl::Lock lock(*impl_);
  return impl_->devices_page("sho_id", sho_id, after_dev_id, limit);
}

Result<void> SqliteStore::set_device_state(std::string_view dev_id, DeviceState state, std::int64_t now) {
  Impl::Lock lock(*impl_);
  return impl_->update_one("UPDATE devices SET state = ?, updated = ? WHERE dev_id = ?", to_string(state), now,
                           dev_id);
}

Result<void> SqliteStore::set_device_pfc(std::string_view dev_id, ByteView pfc_der, std::int64_t now) {
  Impl::Lock lock(*impl_);
  return impl_->update_one("UPDATE devices SET pfc_der = ?, updated = ? WHERE dev_id = ?", pfc_der, now, dev_id);
}

Result<void> SqliteStore::set_pfc_validation(std::string_view dev_id, std::string_view verdict_json,
                                             std::int64_t now) {
  Impl::Lock lock(*impl_);
  return impl_->update_one("UPDATE devices SET pfc_validation = ?, updated = ? WHERE dev_id = ?", verdict_json, now,
                           dev_id);
}

Result<void> SqliteStore::set_dm_credentials(std::string_view dev_id, const DmCredentials& dm, std::int64_t now) {
  Impl::Lock lock(*impl_);
  auto dev = impl_->device_where("dev_id", dev_id);
  if (!dev) return fail(dev.error());
  return impl_->write_dm_credentials(dev->id, dm, now);
}

Result<void> SqliteStore::record_dm_message(std::string_view dev_id, const DmMessageWrites& w, std::int64_t now) {
  if (w.empty()) return {};
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  // One statement: the row (with its sealed cells and PfC) is found and rewritten once, whatever
  // the message changed. `registered` moves only imported/bootstrapped devices; `state` wins over it.
  M2MDM_TRY(impl_->update_one(
      "UPDATE devices SET updated = ?1, "
      "dm_server_nonce = CASE WHEN ?2 THEN ?3 ELSE dm_server_nonce END, "
      "dm_client_nonce = CASE WHEN ?2 THEN ?4 ELSE dm_client_nonce END, "
      "last_seen = CASE WHEN ?5 THEN ?1 ELSE last_seen END, "
      "state = CASE WHEN ?6 IS NOT NULL THEN ?6 "
      "             WHEN ?7 AND state IN ('imported','bootstrapped') THEN 'registered' ELSE state END "
      "WHERE dev_id = ?8",
      now, std::int64_t{w.server_nonce ? 1 : 0}, w.server_nonce,
      w.server_nonce ? std::optional<Bytes>(w.client_nonce.value_or(Bytes{})) : std::nullopt,
      std::int64_t{w.seen ? 1 : 0}, w.state ? std::optional<std::string_view>(to_string(*w.state)) : std::nullopt,
      std::int64_t{w.registered ? 1 : 0}, dev_id));
  for (const AuditEntry& e : w.audit) M2MDM_TRY(impl_->audit(e));
  return tx.commit();
}

Result<std::uint64_t> SqliteStore::reserve_sqn(std::string_view pcid, std::uint32_t count, std::int64_t now) {
  Impl::Lock lock(*impl_);
  constexpr std::uint64_t kSqnMax = (std::uint64_t{1} << 48) - 1;
  auto st = impl_->q(
      "UPDATE devices SET sqn = sqn + ?, updated = ? WHERE pcid = ? AND sqn + ? <= ? RETURNING sqn - ?");
  if (!st) return fail(st.error());
  st->i64(1, count).i64(2, now).text(3, pcid).i64(4, count).i64(5, static_cast<std::int64_t>(kSqnMax)).i64(6, count);
  M2MDM_TRY(st->row());
  auto first = static_cast<std::uint64_t>(st->col_i64(0));
  for (;;) {  // step the statement to its end
    auto more = st->next();
    if (!more) return fail(more.error());
    if (!*more) return first;
  }
}

Result<void> SqliteStore::set_sqn(std::string_view pcid, std::uint64_t next_sqn, std::int64_t now) {
  Impl::Lock lock(*impl_);
  return impl_->update_one("UPDATE devices SET sqn = ?, updated = ? WHERE pcid = ?",
                           static_cast<std::int64_t>(next_sqn), now, pcid);
}

Result<void> SqliteStore::patch_device(std::string_view dev_id, const DevicePatch& patch, std::int64_t now) {
  Impl::WriteTx tx(*impl_);
  if (!tx.began()) return fail(err(errc::io_error));
  auto dev = impl_->device_where("dev_id", dev_id);
  if (!dev) return fail(dev.error());
  M2MDM_TRY(impl_->exec("UPDATE devices SET push_address = ?, sec_method = ?, updated = ? WHERE id = ?",
                        patch.push_address.value_or(dev->push_address), patch.sec_method.value_or(dev->sec_method),
                        now, dev->id));
  return tx.commit();
}

Result<std::vector<Device>> SqliteStore::find_devices(const DeviceQuery& query) {
  Impl::Lock lock(*impl_);
  // Each filter is an equality on a leading column of an index that ends with dev_id (devices_sho,
  // devices_subscriber, devices_state, devices_sho_state) or the DevId range itself: a page is a
  // range walk of one index in DevId order.
  std::string sql = "SELECT " + column_list<kDeviceRow>() + " FROM devices WHERE dev_id > ?";
  std::vector<Impl::SqlValue> values{query.after_dev_id};
  if (query.sho_id) {
    sql += " AND sho_id = ?";
    values.emplace_back(*query.sho_id);
  }
  if (query.subscriber_id) {
    sql += " AND subscriber_id = ?";
    values.emplace_back(*query.subscriber_id);
  }
  if (query.state) {
    sql += " AND state = ?";
    values.emplace_back(std::string(to_string(*query.state)));
  }
  if (!query.dev_id_prefix.empty()) {
    // [prefix, prefix + 0xFF): every DevId that starts with the prefix (DevIds are UTF-8, which
    // never holds the byte 0xFF), compared bytewise like the index.
    sql += " AND dev_id >= ? AND dev_id < ?";
    values.emplace_back(query.dev_id_prefix);
    values.emplace_back(query.dev_id_prefix + "\xff");
  }
  sql += " ORDER BY dev_id LIMIT ?";
  values.emplace_back(static_cast<std::int64_t>(query.limit));
  return impl_->select_rows(sql, values, [this](Query& row) { return impl_->read_device(row); });
}

}  // namespace m2mdm::server
