/// @file software_tre.hpp
/// @brief A file-backed TRE for development and tests (not a security boundary).
///
/// Directory layout (as `m2mdm pki device` creates it):
/// - `platform-key.pem` (mode 0600) and `pfc.pem`: the platform key pair and its PfC;
/// - `storage.key` (0600): a random 32-byte TRE storage key, created at the first open;
/// - `store/<id>.bin`: items, each `"M2T1" || nonce(12) || AES-256-GCM(ciphertext) || tag(16)`
///   with AAD `"m2mdm-tre-store:v1:" || id`, written via temp file + fsync + rename + fsync(dir);
/// - `store/<id>.blocked`: an item that failed its check at a start (kept for forensics).
/// At each open(), every stored item is checked; one that fails becomes Blocked (seed 002
/// §5.1.1.1.3), and leftover temp files of interrupted writes are removed.
#pragma once

#include "m2mdm/client/tre.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

namespace m2mdm::client {

class SoftwareTre final : public Tre {
 public:
  /// Opens the TRE in @p dir (checks the key matches the PfC, runs the start-up integrity check).
  static Result<std::unique_ptr<SoftwareTre>> open(const std::filesystem::path& dir);

  Bytes platform_certificate() const override;
  std::string device_id() const override;
  Result<mo::OpenedMcim> open_sealed(ByteView sealed, const mo::TrustAnchors& anchors,
                                     const mo::OpenPolicy& policy) override;
  Result<Bytes> sign(ByteView data) override;
  Result<void> put(std::string_view id, ByteView data) override;
  Result<mo::SecretBytes> get(std::string_view id) const override;
  Result<std::vector<StoredItem>> list() const override;
  Result<void> erase(std::string_view id) override;

  /// Ids that became Blocked at this open (their stored form failed its check).
  std::vector<std::string> blocked_at_start() const override { return blocked_at_start_; }
  /// The PfC.
  const mo::Certificate& pfc() const noexcept { return pfc_; }

  /// Test hook simulating a power loss inside put(): called with the step name ("write" = after
  /// half the bytes reached the temp file, "sync" = before fsync, "rename" = before the rename,
  /// "dir-sync" = after the rename) and the id; returning true aborts put() right there with
  /// mo::errc::io_error, leaving the files as a crash would.
  void set_crash_hook_for_testing(std::function<bool(std::string_view step, std::string_view id)> hook) {
    crash_hook_ = std::move(hook);
  }

  const std::filesystem::path& dir() const noexcept { return dir_; }

 private:
  SoftwareTre() = default;
  std::filesystem::path dir_;
  mo::PrivateKey key_;
  mo::Certificate pfc_;
  mo::SecretBytes storage_key_;
  std::vector<std::string> blocked_at_start_;
  std::function<bool(std::string_view, std::string_view)> crash_hook_;
};

}  // namespace m2mdm::client
