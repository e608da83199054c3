#include "m2mdm/client/mcim_registry.hpp"

#include "m2mdm/client/error.hpp"
#include "m2mdm/mo/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace m2mdm::client {
namespace {

using json = nlohmann::json;

constexpr std::string_view kRegistryItem = "registry";

std::string profile_item(std::string_view id) { return "mcim." + std::string(id); }
std::string download_item(std::string_view id) { return "dl." + std::string(id); }

// Whether the TRE item @p item is one the registry writes (a profile or a download).
bool is_registry_item(std::string_view item) { return item.starts_with("mcim.") || item.starts_with("dl."); }

bool valid_mcim_id(std::string_view id) { return id.size() <= 48 && valid_storage_id(id); }

constexpr McimState kAllStates[] = {McimState::downloaded, McimState::installed, McimState::active,
                                    McimState::inactive,   McimState::blocked,   McimState::deleted};

std::optional<McimState> state_from(std::string_view s) {
  for (auto st : kAllStates)
    if (to_string(st) == s) return st;
  return std::nullopt;
}

bool holds_profile(McimState s) {
  return s == McimState::installed || s == McimState::active || s == McimState::inactive;
}

}  // namespace

std::string_view to_string(McimState s) noexcept {
  switch (s) {
    case McimState::downloaded: return "Downloaded";
    case McimState::installed: return "Installed";
    case McimState::active: return "Active";
    case McimState::inactive: return "Inactive";
    case McimState::blocked: return "Blocked";
    case McimState::deleted: return "Deleted";
  }
  return "Unknown";
}

Result<McimRegistry> McimRegistry::open(Tre& tre) {
  McimRegistry reg(tre);
  auto items = tre.list();
  if (!items) return fail(items.error());
  auto state = tre.get(kRegistryItem);
  if (!state && state.error() != mo::errc::not_found) return fail(errc::registry_corrupt);
  if (state) {
    json j = json::parse(as_chars(state->view()), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("entries") || !j["entries"].is_array() ||
        !j.contains("counters") || !j["counters"].is_object())
      return fail(errc::registry_corrupt);
    try {
      for (const auto& e : j["entries"]) {
        McimEntry m;
        m.id = e.at("id").get<std::string>();
        auto st = state_from(e.at("state").get<std::string>());
        if (!st || !valid_mcim_id(m.id)) return fail(errc::registry_corrupt);
        m.state = *st;
        m.sho_id = e.at("sho").get<std::string>();
        m.imsi = e.at("imsi").get<std::string>();
        m.iccid = e.at("iccid").get<std::string>();
        m.counter = e.at("counter").get<std::uint64_t>();
        m.last_result = e.at("last_result").get<std::string>();
        reg.entries_.push_back(std::move(m));
      }
      const json& counters = j["counters"];
      for (auto it = counters.begin(); it != counters.end(); ++it) reg.counters_[it.key()] = it.value().get<std::uint64_t>();
      if (j.contains("change_nonces")) {  // absent in registries written before operator change
        const json& nonces = j["change_nonces"];
        if (!nonces.is_object()) return fail(errc::registry_corrupt);
        for (auto it = nonces.begin(); it != nonces.end(); ++it)
          reg.nonces_[it.key()] = it.value().get<std::int64_t>();
      }
    } catch (const json::exception&) {
      return fail(errc::registry_corrupt);
    }
  }

  // Reconcile with what the TRE holds (seed 002 §5.1.1.1.3: a MID whose stored form failed its
  // check at this start is Blocked).
  auto status_of = [&](const std::string& item) -> std::optional<bool> {  // nullopt = absent, true = blocked
    for (const auto& s : *items)
      if (s.id == item) return s.blocked;
    return std::nullopt;
  };
  bool changed = false;
  std::set<std::string> referenced{std::string(kRegistryItem)};
  for (auto& e : reg.entries_) {
    std::string item;
    if (e.state == McimState::downloaded) item = download_item(e.id);
    else if (holds_profile(e.state)) item = profile_item(e.id);
    if (item.empty()) continue;
    const auto st = status_of(item);
    if (!st || *st) {
      e.state = McimState::blocked;
      e.last_result = !st ? "stored MCIM missing" : "stored MCIM failed its integrity check";
      changed = true;
    } else {
      referenced.insert(item);
    }
  }
  if (changed) {
    if (auto r = reg.persist(reg.entries_, reg.counters_, reg.nonces_); !r) return fail(r.error());
  }
  // Orphans: written by an install that did not reach its registry write, or left by a delete
  // after it. Blocked items stay (forensics) until their entry is removed. Only the registry's
  // own items (mcim.*, dl.*) are considered: the TRE holds others (e.g. the device's state key).
  for (const auto& s : *items) {
    if (referenced.count(s.id) != 0 || !is_registry_item(s.id)) continue;
    const bool is_blocked_entry_item = std::any_of(reg.entries_.begin(), reg.entries_.end(), [&](const McimEntry& e) {
      return e.state == McimState::blocked && (s.id == profile_item(e.id) || s.id == download_item(e.id));
    });
    if (!is_blocked_entry_item) {
      if (auto r = tre.erase(s.id); !r) return fail(r.error());
    }
  }
  return reg;
}

Result<void> McimRegistry::persist(const std::vector<McimEntry>& entries, const Counters& counters,
                                   const Nonces& nonces) {
  json j = json::object();
  j["version"] = 1;
  j["entries"] = json::array();
  for (const auto& e : entries) {
    j["entries"].push_back({{"id", e.id},
                            {"state", std::string(to_string(e.state))},
                            {"sho", e.sho_id},
                            {"imsi", e.imsi},
                            {"iccid", e.iccid},
                            {"counter", e.counter},
                            {"last_result", e.last_result}});
  }
  j["counters"] = json::object();
  for (const auto& [sho, n] : counters) j["counters"][sho] = n;
  if (!nonces.empty()) {
    j["change_nonces"] = json::object();
    for (const auto& [nonce, until] : nonces) j["change_nonces"][nonce] = until;
  }
  const std::string text = j.dump();
  return tre_->put(kRegistryItem, as_bytes(text));
}

McimEntry* McimRegistry::find_mut(std::string_view id) {
  for (auto& e : entries_)
    if (e.id == id) return &e;
  return nullptr;
}

std::optional<McimEntry> McimRegistry::find(std::string_view id) const {
  for (const auto& e : entries_)
    if (e.id == id) return e;
  return std::nullopt;
}

std::optional<McimEntry> McimRegistry::active() const {
  for (const auto& e : entries_)
    if (e.state == McimState::active) return e;
  return std::nullopt;
}

std::optional<std::uint64_t> McimRegistry::last_counter(std::string_view sho_id) const {
  auto it = counters_.find(sho_id);
  if (it == counters_.end()) return std::nullopt;
  return it->second;
}

Result<void> McimRegistry::store_downloaded(std::string_view id, ByteView sealed) {
  if (!valid_mcim_id(id)) return fail(errc::tre_bad_id);
  const McimEntry* existing = find_mut(id);
  if (existing != nullptr && existing->state != McimState::deleted) return fail(errc::registry_exists);
  if (auto r = tre_->put(download_item(id), sealed); !r) return r;
  auto next = entries_;
  std::erase_if(next, [&](const McimEntry& e) { return e.id == id; });
  McimEntry e;
  e.id = std::string(id);
  e.state = McimState::downloaded;
  e.last_result = "ok";
  next.push_back(std::move(e));
  return commit(std::move(next));
}

Result<McimEntry> McimRegistry::install(std::string_view id, const mo::TrustAnchors& anchors,
                                        const mo::OpenPolicy& policy, const AcceptOpened& accept) {
  McimEntry* entry = find_mut(id);
  if (entry == nullptr) return fail(mo::errc::not_found);
  if (entry->state != McimState::downloaded) return fail(errc::registry_bad_transition);
  auto sealed = tre_->get(download_item(id));
  if (!sealed) return fail(sealed.error());

  mo::OpenPolicy p = policy;
  auto caller = policy.last_counter;
  p.last_counter = [this, caller](std::string_view sho) -> std::optional<std::uint64_t> {
    std::optional<std::uint64_t> mine = last_counter(sho);
    std::optional<std::uint64_t> theirs = caller ? caller(sho) : std::nullopt;
    if (mine && theirs) return std::max(*mine, *theirs);
    return mine ? mine : theirs;
  };
  auto opened = tre_->open_sealed(sealed->view(), anchors, p);
  if (opened && accept) {
    if (auto ok = accept(*opened); !ok) opened = fail(ok.error());
  }
  if (!opened) {
    auto next = entries_;
    for (auto& e : next)
      if (e.id == id) e.last_result = opened.error().message();
    (void)commit(std::move(next));  // the reason is kept when it can be; the failure is returned anyway
    return fail(opened.error());
  }
  const mo::McimProfile& prof = opened->profile;
  // 1. the profile item, 2. the registry (the commit point), 3. drop the sealed package.
  const mo::SecretBytes stored = mo::serialize_profile(prof);
  if (auto r = tre_->put(profile_item(id), stored.view()); !r) return fail(r.error());
  auto next = entries_;
  auto counters = counters_;
  McimEntry result;
  for (auto& e : next) {
    if (e.id != id) continue;
    e.state = McimState::installed;
    e.sho_id = prof.sho_id;
    e.imsi = prof.imsi;
    e.iccid = prof.iccid;
    e.counter = prof.binding->counter;
    e.last_result = "ok";
    result = e;
  }
  counters[prof.sho_id] = prof.binding->counter;
  if (auto r = commit(std::move(next), std::move(counters), nonces_); !r) return fail(r.error());
  (void)tre_->erase(download_item(id));  // an orphan left here is removed by the next open()
  return result;
}

Result<McimEntry> McimRegistry::install_sealed(std::string_view id, ByteView sealed, const mo::TrustAnchors& anchors,
                                               const mo::OpenPolicy& policy, const AcceptOpened& accept) {
  if (auto r = store_downloaded(id, sealed); !r) return fail(r.error());
  return install(id, anchors, policy, accept);
}

Result<void> McimRegistry::activate(std::string_view id) {
  const McimEntry* entry = find_mut(id);
  if (entry == nullptr) return fail(mo::errc::not_found);
  if (entry->state == McimState::active) return {};
  if (entry->state != McimState::installed && entry->state != McimState::inactive)
    return fail(errc::registry_bad_transition);
  // One write switches both: the old Active becomes Inactive and the new one Active.
  auto next = entries_;
  for (auto& e : next) {
    if (e.state == McimState::active) e.state = McimState::inactive;
    if (e.id == id) {
      e.state = McimState::active;
      e.last_result = "ok";
    }
  }
  return commit(std::move(next));
}

Result<void> McimRegistry::deactivate(std::string_view id) {
  const McimEntry* entry = find_mut(id);
  if (entry == nullptr) return fail(mo::errc::not_found);
  if (entry->state != McimState::active) return fail(errc::registry_bad_transition);
  return commit(with_state(id, McimState::inactive));
}

Result<void> McimRegistry::remove(std::string_view id) {
  const McimEntry* entry = find_mut(id);
  if (entry == nullptr) return fail(mo::errc::not_found);
  if (entry->state == McimState::deleted) return {};
  if (auto r = commit(with_state(id, McimState::deleted)); !r) return r;
  // After the commit point; an item left by a power loss here is an orphan for the next open().
  if (auto r = tre_->erase(profile_item(id)); !r) return r;
  return tre_->erase(download_item(id));
}

Result<std::vector<McimEntry>> McimRegistry::reset_to_pristine(const std::optional<SpentNonce>& spent) {
  if (spent && nonces_.contains(spent->nonce)) return fail(errc::registry_bad_transition);
  // One write is the commit point (variant B step 3): every MCIM -> Deleted and the
  // authorisation spent. Before it nothing changed; after it no MCIM is usable.
  auto next = entries_;
  std::vector<McimEntry> deleted;
  for (auto& e : next) {
    if (e.state == McimState::deleted) continue;
    e.state = McimState::deleted;
    e.last_result = "removed: back to the pristine state";
    deleted.push_back(e);
  }
  Nonces nonces = spent ? with_spent(*spent) : nonces_;
  if (auto r = commit(std::move(next), counters_, std::move(nonces)); !r) return fail(r.error());
  erase_items(deleted);
  return deleted;
}

Result<void> McimRegistry::commit(std::vector<McimEntry> next) {
  return commit(std::move(next), counters_, nonces_);
}

Result<void> McimRegistry::commit(std::vector<McimEntry> next, Counters counters, Nonces nonces) {
  if (auto r = persist(next, counters, nonces); !r) return r;
  entries_ = std::move(next);
  counters_ = std::move(counters);
  nonces_ = std::move(nonces);
  return {};
}

std::vector<McimEntry> McimRegistry::with_state(std::string_view id, McimState state) const {
  auto next = entries_;
  for (auto& e : next)
    if (e.id == id) e.state = state;
  return next;
}

McimRegistry::Nonces McimRegistry::with_spent(const SpentNonce& spent) const {
  Nonces nonces;
  for (const auto& [n, until] : nonces_)
    if (until > spent.now) nonces.emplace(n, until);  // an expired token is refused anyway
  nonces.emplace(spent.nonce, spent.until);
  return nonces;
}

void McimRegistry::erase_items(const std::vector<McimEntry>& gone) {
  for (const auto& e : gone) {
    // After the commit point; an item left by a power loss here is an orphan for the next open().
    (void)tre_->erase(profile_item(e.id));
    (void)tre_->erase(download_item(e.id));
  }
}

bool McimRegistry::change_nonce_used(std::string_view nonce) const { return nonces_.contains(nonce); }

Result<std::vector<McimEntry>> McimRegistry::switch_operator(std::string_view id, std::string_view from_sho,
                                                             const SpentNonce& spent) {
  const McimEntry* entry = find_mut(id);
  if (entry == nullptr) return fail(mo::errc::not_found);
  if (entry->state != McimState::installed && entry->state != McimState::inactive)
    return fail(errc::registry_bad_transition);
  if (entry->sho_id == from_sho) return fail(errc::registry_bad_transition);
  if (nonces_.contains(spent.nonce)) return fail(errc::registry_bad_transition);
  // One write is the commit point (docs/operator-change.md, variant A step 8): every MCIM of the
  // old SHO -> Deleted, the new one -> Active, the token's nonce spent. Before it the old MCIM
  // is the active one, after it the new one; the old credentials are erased right after.
  auto next = entries_;
  std::vector<McimEntry> discarded;
  for (auto& e : next) {
    if (e.id == id) {
      e.state = McimState::active;
      e.last_result = "ok";
    } else if (e.sho_id == from_sho && e.state != McimState::deleted) {
      e.state = McimState::deleted;
      e.last_result = "discarded by operator change to " + entry->sho_id;
      discarded.push_back(e);
    } else if (e.state == McimState::active) {
      e.state = McimState::inactive;  // another SHO's: at most one Active
    }
  }
  Nonces nonces = with_spent(spent);
  if (auto r = commit(std::move(next), counters_, std::move(nonces)); !r) return fail(r.error());
  erase_items(discarded);
  return discarded;
}

Result<mo::McimProfile> McimRegistry::profile(std::string_view id) const {
  auto entry = find(id);
  if (!entry) return fail(mo::errc::not_found);
  if (!holds_profile(entry->state)) return fail(errc::registry_bad_transition);
  auto item = tre_->get(profile_item(id));
  if (!item) return fail(item.error());
  return mo::parse_profile(item->view());
}

}  // namespace m2mdm::client
