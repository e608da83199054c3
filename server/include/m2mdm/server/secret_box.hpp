/// @file secret_box.hpp
/// @brief Encryption of secrets at rest (the store's DM passwords, PINs, K/OPc).
#pragma once

#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstddef>
#include <filesystem>
#include <string_view>

namespace m2mdm::server {

/// AES-256-GCM for secrets at rest. Sealed format: 12-byte random nonce || ciphertext || 16-byte tag.
class SecretBox {
 public:
  static constexpr std::size_t key_size = 32;
  /// @p key must be 32 bytes (invalid_argument otherwise).
  static Result<SecretBox> from_key(ByteView key);
  /// Reads the key from @p path, or creates it (32 random bytes, mode 0600) if it does not
  /// exist. A key file that is not 32 bytes or is group/world accessible is refused.
  static Result<SecretBox> load_or_create(const std::filesystem::path& path);

  Result<Bytes> seal(ByteView plain, std::string_view aad) const;
  /// Fails with server::errc::decrypt_failed if the tag or AAD does not match.
  Result<Bytes> open(ByteView sealed, std::string_view aad) const;

 private:
  explicit SecretBox(Bytes key) : key_(std::move(key)) {}
  Bytes key_;
};

}  // namespace m2mdm::server
