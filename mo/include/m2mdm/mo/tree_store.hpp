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
/// save(): the new image goes to `<file>.tmp` (fsync), then the current `<file>` is renamed to
/// `<file>.prev`, then `<file>.tmp` to `<file>`, then the directory is fsynced. load() takes
/// `<file>` if it verifies, else `<file>.prev`; a power loss at any byte of any step leaves
/// one of them holding the old or the new tree.
#pragma once

#include "m2mdm/mo/atomic_file.hpp"
#include "m2mdm/mo/tree.hpp"
#include "m2mdm/syncml/result.hpp"

#include <filesystem>

namespace m2mdm::mo {

/// Serialises the nodes of @p tree (format above).
Bytes serialize_tree(const Tree& tree);
/// Parses and verifies an image; store_corrupt / store_version on failure. The nodes are
/// installed into a fresh Tree built with @p options (descriptions and handlers are not stored:
/// re-register them after load).
Result<Tree> deserialize_tree(ByteView image, TreeOptions options = {});

/// Which generation load() used.
enum class Generation : std::uint8_t { Current, Previous };

/// The persistent tree of one device.
class TreeStore {
 public:
  explicit TreeStore(std::filesystem::path file, FileOps& ops = posix_file_ops());

  /// Writes @p tree crash-safely, keeping the former image as `<file>.prev`.
  Result<void> save(const Tree& tree);
  /// Loads the newest generation that verifies; store_missing when neither file exists,
  /// store_corrupt when none verifies.
  Result<Tree> load(TreeOptions options = {});
  /// The generation the last successful load() used.
  Generation last_generation() const noexcept { return last_; }

  const std::filesystem::path& file() const noexcept { return file_; }
  std::filesystem::path prev_file() const;
  std::filesystem::path tmp_file() const;

 private:
  std::filesystem::path file_;
  FileOps* ops_;
  Generation last_ = Generation::Current;
};

}  // namespace m2mdm::mo
