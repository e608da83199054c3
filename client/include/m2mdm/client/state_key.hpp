/// @file state_key.hpp
/// @brief The device's state key: seals tree.m2mt (and its .prev) at rest under a key kept in
///        the TRE's protected storage (issue 14, finding 6).
///
/// The key is 32 random bytes, created at the first seal and stored as the TRE item
/// kStateKeyItem; it never leaves the process in clear (SoftwareTre encrypts its items with its
/// storage key, a hardware TRE seals them to its own). The tree image is sealed with
/// AES-256-GCM (mo::SecretBox) under it, the file name as associated data (mo::TreeStore).
#pragma once

#include "m2mdm/client/tre.hpp"
#include "m2mdm/mo/tree_store.hpp"

#include <string_view>

namespace m2mdm::client {

/// The TRE storage id of the state key (outside the MCIM registry's mcim.* / dl.* items).
inline constexpr std::string_view kStateKeyItem = "m2mdm.state-key";
/// The TRE item saying both tree generations are sealed: clear images are refused from then on.
inline constexpr std::string_view kStateSealedItem = "m2mdm.state-sealed";

/// A mo::TreeSealer whose key is the state key in @p tre, which must outlive it. seal() creates
/// the key when the TRE has none; open() never does: without the key (absent, blocked or not
/// 32 bytes) it fails with mo::errc::bad_key, with another key or on a tampered image with
/// mo::errc::seal_tag_mismatch.
mo::TreeSealer tre_tree_sealer(Tre& tre);

}  // namespace m2mdm::client
