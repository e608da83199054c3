/// @file tree_store.hpp
/// @brief Persistence of the device's management tree, crash-safe, two generations.
///
/// File format "M2MT" version 1 (all integers big-endian):
/// ```
/// magic "M2MT" | u32 version=1 | u64 change_count | u32 node_count |
///   node*: u16 path_len path | u8 format | u8 access | u8 scope | u32 verno | i64 tstamp |
///          u16 type_len type | u16 title_len title | u16 acl_len acl | u8 has_value |
///          [u32 value_len value]
/// | SHA-256 of every preceding byte (32 bytes)
/// ```
/// A TreeStore given a TreeSealer writes the image sealed instead, format "M2MS" version 1:
/// ```
/// magic "M2MS" | u32 version=1 | seal(image above, AAD "m2mdm-tree:v1:" || file name)
/// ```
/// where seal() is the sealer's (the device's: AES-256-GCM under the TRE's state key, i.e.
/// 12-byte nonce || ciphertext || 16-byte tag; client/state_key.hpp). The AAD names the file
/// (e.g. "tree.m2mt", also for the `.prev` generation, which is the same bytes renamed), so an
/// image of another store does not open. Such a store still loads a clear image (a tree of an
/// earlier release) and reports it (holds_clear_image()); the caller then saves twice so that
/// both generations are sealed. A sealed image never loads without the sealer.
///
/// save(): the new image goes to `<file>.tmp` (fsync), then the current `<file>` is renamed to
/// `<file>.prev`, then `<file>.tmp` to `<file>`, then the directory is fsynced. load() takes
/// `<file>` if it verifies, else `<file>.prev`; a power loss at any byte of any step leaves
/// one of them holding the old or the new tree.
#pragma once

#include "m2mdm/mo/atomic_file.hpp"
#include "m2mdm/mo/crypto_handles.hpp"
#include "m2mdm/mo/tree.hpp"
#include "m2mdm/syncml/result.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace m2mdm::mo {

/// Serialises the nodes of @p tree (format above).
Bytes serialize_tree(const Tree& tree);
/// Parses and verifies an image; store_corrupt / store_version on failure. The nodes are
/// installed into a fresh Tree built with @p options (descriptions and handlers are not stored:
/// re-register them after load).
Result<Tree> deserialize_tree(ByteView image, TreeOptions options = {});

/// How a TreeStore seals its images at rest (authenticated encryption under a key the caller
/// holds). Both functions are given the same associated data, which names the file.
struct TreeSealer {
  /// Seals a serialized image.
  std::function<Result<Bytes>(ByteView image, std::string_view aad)> seal;
  /// Opens what seal() produced; fails when the key or @p aad differ or the bytes were altered.
  std::function<Result<SecretBytes>(ByteView sealed, std::string_view aad)> open;
  /// True once both generations have been sealed (see mark_sealed): from then on a clear image
  /// is refused (errc::store_unsealed) — only whoever can write the state directory could have
  /// put it there, e.g. to plant a DM account of its own. Empty: clear images are always read.
  std::function<bool()> sealed_before;
  /// Records, where the state cannot be rewritten without the key (e.g. the TRE), that both
  /// generations are sealed; called once after the save that made it so. Empty: nothing kept.
  std::function<Result<void>()> mark_sealed;
};

/// Which generation load() used.
enum class Generation : std::uint8_t { Current, Previous };

/// The persistent tree of one device.
class TreeStore {
 public:
  /// A store of clear images (format "M2MT"); a sealed image does not load (errc::bad_key).
  explicit TreeStore(std::filesystem::path file, FileOps& ops = posix_file_ops());
  /// A store of sealed images (format "M2MS"), opened and sealed with @p sealer.
  TreeStore(std::filesystem::path file, TreeSealer sealer, FileOps& ops = posix_file_ops());

  /// Writes @p tree crash-safely, keeping the former image as `<file>.prev`. With a sealer, the
  /// image is sealed before its first byte is written; a sealer failure writes nothing.
  Result<void> save(const Tree& tree);
  /// Loads the newest generation that verifies; store_missing when neither file exists,
  /// store_corrupt when none verifies. A sealed generation that does not open gives the
  /// sealer's error (e.g. seal_tag_mismatch: another key, or altered) unless the other
  /// generation loads; a sealed generation without a sealer: bad_key, at once.
  Result<Tree> load(TreeOptions options = {});
  /// The generation the last successful load() used.
  Generation last_generation() const noexcept { return last_; }
  /// After a successful load() by a sealing store: whether `<file>`, `<file>.prev` or
  /// `<file>.tmp` holds a clear image (written by an earlier release). Two save()s then leave
  /// only sealed images.
  bool holds_clear_image() const noexcept { return clear_on_disk_; }
  /// Whether this store seals what it saves.
  bool sealing() const noexcept { return static_cast<bool>(sealer_.seal); }

  const std::filesystem::path& file() const noexcept { return file_; }
  std::filesystem::path prev_file() const;
  std::filesystem::path tmp_file() const;

 private:
  // The image as written to disk (sealed when the store seals).
  Result<Bytes> encode(const Tree& tree) const;
  // The tree of one stored image; @p clear is set when the image was not sealed.
  Result<Tree> decode(ByteView stored, const TreeOptions& options, bool& clear) const;
  std::string aad() const;
  // Whether @p path holds an unsealed image.
  bool clear_image_at(const std::filesystem::path& path) const;

  std::filesystem::path file_;
  TreeSealer sealer_;
  FileOps* ops_;
  Generation last_ = Generation::Current;
  bool clear_on_disk_ = false;
};

}  // namespace m2mdm::mo
