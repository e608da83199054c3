/// @file mcim_registry.hpp
/// @brief The TRE's registry of MIDs/MCIMs (seed 002 §5.1.1.1.3; m2msimmobj.md): several stored,
///        at most one Active, lifecycle states, the last installed counter per SHO (rollback
///        protection), and atomic switching.
///
/// Durability: the whole registry state is one item ("registry") of the TRE's protected storage,
/// replaced atomically, so every transition (install, activate = "A Inactive + B Active",
/// deactivate, delete) is one durable write: after a power loss the registry is the old or the
/// new state, never a mix. Profiles are separate items ("mcim.<id>") written *before* the
/// registry refers to them and erased *after* it stops referring to them; open() removes items
/// no entry refers to (the remains of an interrupted install or delete).
#pragma once

#include "m2mdm/client/tre.hpp"
#include "m2mdm/mo/mcim_profile.hpp"
#include "m2mdm/mo/seal.hpp"
#include "m2mdm/mo/trust.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::client {

/// An operator-change authorisation's nonce, spent in the same durable write as the change it
/// authorises (docs/operator-change.md): kept until @p until; spent nonces whose time passed
/// @p now are dropped in that write.
struct SpentNonce {
  std::string nonce;
  std::int64_t until = 0;
  std::int64_t now = 0;
};

/// Lifecycle state of a stored MCIM (m2msimmobj.md).
enum class McimState { downloaded, installed, active, inactive, blocked, deleted };

/// "Downloaded", "Installed", "Active", "Inactive", "Blocked", "Deleted".
std::string_view to_string(McimState s) noexcept;

/// One registry entry (no secrets).
struct McimEntry {
  std::string id;            ///< [A-Za-z0-9._-]{1,48}
  McimState state = McimState::downloaded;
  std::string sho_id;        ///< empty while Downloaded
  std::string imsi;
  std::string iccid;
  std::uint64_t counter = 0;
  std::string last_result;   ///< "ok" or the message of the last error for this entry
};

/// The registry, bound to one TRE.
class McimRegistry {
 public:
  /// Loads the registry from @p tre (an empty one if none is stored). Entries whose stored item
  /// is blocked or missing become Blocked (and lose Active); orphan items are erased; the result
  /// is persisted. Fails with registry_corrupt if the registry item itself is unreadable.
  static Result<McimRegistry> open(Tre& tre);

  /// Stores a sealed package as Downloaded (not yet opened).
  Result<void> store_downloaded(std::string_view id, ByteView sealed);
  /// A last check of an opened package before anything of it is stored (e.g. the operator-change
  /// authorisation); an error refuses the package like a failed open.
  using AcceptOpened = std::function<Result<void>(const mo::OpenedMcim&)>;
  /// Opens the Downloaded package @p id inside the TRE with the registry's last counter for the
  /// package's SHO, runs @p accept on it, stores the profile, entry -> Installed, counter
  /// recorded. On failure the entry stays Downloaded with last_result set, nothing else changes
  /// (counters included), and the error is returned.
  Result<McimEntry> install(std::string_view id, const mo::TrustAnchors& anchors, const mo::OpenPolicy& policy,
                            const AcceptOpened& accept = {});
  /// store_downloaded() + install().
  Result<McimEntry> install_sealed(std::string_view id, ByteView sealed, const mo::TrustAnchors& anchors,
                                   const mo::OpenPolicy& policy, const AcceptOpened& accept = {});
  /// Installed/Inactive -> Active; the previously Active entry -> Inactive, in one write.
  Result<void> activate(std::string_view id);
  /// Active -> Inactive.
  Result<void> deactivate(std::string_view id);
  /// Any state -> Deleted; the profile is erased (the entry is kept as a record).
  Result<void> remove(std::string_view id);
  /// Deletes every MCIM (the pristine state of operator change variant B, seed 004
  /// §5.2.5.8.3.2 step 3) in one durable write, with @p spent (the authorisation's nonce) recorded
  /// in that same write; the profiles are erased after it. The counters per SHO are kept, so old
  /// packages stay refused. Returns the entries it deleted. Fails with registry_bad_transition
  /// when the nonce was already spent.
  Result<std::vector<McimEntry>> reset_to_pristine(const std::optional<SpentNonce>& spent = std::nullopt);

  /// Operator change (variant A, docs/operator-change.md): in one durable write, every MCIM of
  /// @p from_sho becomes Deleted, the Installed/Inactive entry @p id (another SHO's, already
  /// opened and stored) becomes Active, and the authorisation's @p nonce is recorded as spent
  /// (@p spent). The old
  /// profiles are erased after that write. Returns the discarded entries. Fails with
  /// registry_bad_transition when @p id is not Installed/Inactive, is @p from_sho's own, or the
  /// nonce was already spent.
  Result<std::vector<McimEntry>> switch_operator(std::string_view id, std::string_view from_sho,
                                                 const SpentNonce& spent);
  /// True when an operator-change authorisation with @p nonce was already used on this device.
  bool change_nonce_used(std::string_view nonce) const;

  /// The profile of an Installed/Active/Inactive entry (for the USIM).
  Result<mo::McimProfile> profile(std::string_view id) const;

  const std::vector<McimEntry>& entries() const noexcept { return entries_; }
  std::optional<McimEntry> find(std::string_view id) const;
  /// The Active entry, if any.
  std::optional<McimEntry> active() const;
  /// The last installed counter for @p sho_id.
  std::optional<std::uint64_t> last_counter(std::string_view sho_id) const;

 private:
  using Counters = std::map<std::string, std::uint64_t, std::less<>>;
  using Nonces = std::map<std::string, std::int64_t, std::less<>>;  ///< spent token nonce -> its not_after
  explicit McimRegistry(Tre& tre) : tre_(&tre) {}
  Result<void> persist(const std::vector<McimEntry>& entries, const Counters& counters, const Nonces& nonces);
  /// Persists @p next with the current counters and nonces and, once written (the commit point),
  /// keeps it.
  Result<void> commit(std::vector<McimEntry> next);
  /// Persists the three together and, once written (the commit point), keeps them.
  Result<void> commit(std::vector<McimEntry> next, Counters counters, Nonces nonces);
  /// The entries with @p id's in @p state, the others unchanged.
  std::vector<McimEntry> with_state(std::string_view id, McimState state) const;
  McimEntry* find_mut(std::string_view id);
  /// nonces_ with @p spent added and the expired ones dropped.
  Nonces with_spent(const SpentNonce& spent) const;
  /// Erases the stored items of @p gone (after the commit point that stopped referring to them).
  void erase_items(const std::vector<McimEntry>& gone);

  Tre* tre_;
  std::vector<McimEntry> entries_;
  Counters counters_;
  Nonces nonces_;
};

}  // namespace m2mdm::client
