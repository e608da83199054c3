/// @file secret_box.hpp
/// @brief AES-256-GCM for secrets at rest (NIST SP 800-38D), shared by the server (its store's
///        DM passwords, PINs, K/OPc), the software TRE (its protected storage) and the device's
///        sealed tree (mo::TreeStore with a TreeSealer).
///
/// Sealed format: 12-byte random nonce || ciphertext || 16-byte tag. The associated data names
/// what is sealed (a column, a storage id, a file), so that a sealed value moved elsewhere does
/// not open.
#pragma once

#include "m2mdm/mo/crypto_handles.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstddef>
#include <filesystem>
#include <string_view>

namespace m2mdm::mo {

/// The key in @p path, or a new one of @p size random bytes written there (mode 0600, O_EXCL,
/// fsync) when the file does not exist. A file of another size or readable by group or others:
/// errc::bad_key; other failures: the errno of the file operation, crypto_failure, io_error.
Result<SecretBytes> load_or_create_key_file(const std::filesystem::path& path, std::size_t size);

/// An AES-256-GCM key and the two operations on it. Errors are mo::errc values:
/// invalid_argument (a key that is not 32 bytes), seal_tag_mismatch (wrong key, wrong associated
/// data, truncated or altered), bad_key (a key file of the wrong size or mode), crypto_failure,
/// io_error or the errno of a key file operation.
class SecretBox {
 public:
  static constexpr std::size_t key_size = 32;    ///< AES-256
  static constexpr std::size_t nonce_size = 12;  ///< 96-bit random IV
  static constexpr std::size_t tag_size = 16;    ///< 128-bit tag

  /// @p key must be 32 bytes (errc::invalid_argument otherwise).
  static Result<SecretBox> from_key(ByteView key);
  /// The box of the key in @p path, created if absent (load_or_create_key_file()).
  static Result<SecretBox> load_or_create(const std::filesystem::path& path);

  /// nonce || ciphertext || tag of @p plain, @p aad authenticated.
  Result<Bytes> seal(ByteView plain, std::string_view aad) const;
  /// The plaintext; errc::seal_tag_mismatch if the tag or @p aad does not match.
  Result<SecretBytes> open(ByteView sealed, std::string_view aad) const;

 private:
  explicit SecretBox(SecretBytes key) : key_(std::move(key)) {}
  SecretBytes key_;
};

}  // namespace m2mdm::mo
