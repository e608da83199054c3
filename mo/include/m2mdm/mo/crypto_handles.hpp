/// @file crypto_handles.hpp
/// @brief Small value types over OpenSSL objects used by the MCIM sealing layer: an X.509
///        certificate, a private (or public) key, and a byte buffer for secrets that is wiped on
///        destruction. OpenSSL types appear only as opaque pointers (`native()`), so callers of
///        the sealing API never handle raw OpenSSL handles or their lifetimes.
#pragma once

#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <openssl/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::mo {

/// Bytes that hold key material (K, OPc, OTA keys, a TRE storage key). The buffer is wiped with
/// OPENSSL_cleanse when the value is destroyed or overwritten; it has no stream operator, so it
/// cannot be printed by accident.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(ByteView data) : bytes_(data.begin(), data.end()) {}
  SecretBytes(const SecretBytes& other) : bytes_(other.bytes_) {}
  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) { other.bytes_.clear(); }
  SecretBytes& operator=(const SecretBytes& other);
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();

  /// Read access to the secret (keep the view's lifetime short).
  ByteView view() const noexcept { return bytes_; }
  std::size_t size() const noexcept { return bytes_.size(); }
  bool empty() const noexcept { return bytes_.empty(); }
  /// Constant-time equality.
  friend bool operator==(const SecretBytes& a, const SecretBytes& b) noexcept {
    return constant_time_equal(a.view(), b.view());
  }

 private:
  void wipe() noexcept;
  Bytes bytes_;
};

/// Key algorithm of a platform or signer key.
enum class KeyType { ec_p256, rsa };

class PrivateKey;

/// A shared, immutable X.509 certificate.
class Certificate {
 public:
  Certificate() = default;
  /// Takes ownership of @p x (may be null).
  explicit Certificate(X509* x);

  static Result<Certificate> from_der(ByteView der);
  /// Reads the first certificate of a PEM text.
  static Result<Certificate> from_pem(std::string_view pem);
  /// Reads every certificate of a PEM text (at least one).
  static Result<std::vector<Certificate>> all_from_pem(std::string_view pem);

  bool valid() const noexcept { return x_ != nullptr; }
  Bytes to_der() const;
  std::string to_pem() const;
  /// Subject common name (empty if absent).
  std::string subject_cn() const;
  /// Subject as a one-line RFC 2253 string.
  std::string subject() const;
  /// SHA-256 of the DER SubjectPublicKeyInfo (the PfC binding hash).
  Bytes spki_sha256() const;
  /// URIs of the subjectAltName extension.
  std::vector<std::string> san_uris() const;
  /// Serial number as upper-case hex.
  std::string serial_hex() const;
  /// The public key (a new reference).
  Result<PrivateKey> public_key() const;
  /// Whether the certificate carries the m2mdm test-PKI policy OID (see kTestPolicyOid).
  bool is_test_certificate() const;

  /// The underlying handle (still owned by this object).
  X509* native() const noexcept { return x_.get(); }

 private:
  std::shared_ptr<X509> x_;
};

/// The certificatePolicies OID that marks every certificate of a *test* PKI
/// (under the ITU-T/ISO "example" arc 2.999, reserved for documentation and tests).
inline constexpr std::string_view kTestPolicyOid = "2.999.1.1";

/// A shared asymmetric key (private, or public only).
class PrivateKey {
 public:
  PrivateKey() = default;
  /// Takes ownership of @p k (may be null).
  explicit PrivateKey(EVP_PKEY* k);

  static Result<PrivateKey> generate(KeyType type, int rsa_bits = 2048);
  /// Reads a PEM private key (PKCS#8 or traditional, unencrypted).
  static Result<PrivateKey> from_pem(std::string_view pem);
  /// PKCS#8 PEM, unencrypted (write it to a 0600 file).
  std::string to_pem() const;
  /// SubjectPublicKeyInfo PEM.
  std::string public_pem() const;

  bool valid() const noexcept { return k_ != nullptr; }
  std::optional<KeyType> type() const noexcept;
  /// Whether this key's public half equals @p cert's public key.
  bool matches(const Certificate& cert) const;
  /// Signs @p data: ECDSA-SHA256 (DER signature) or RSA-PSS-SHA256.
  Result<Bytes> sign(ByteView data) const;
  /// Verifies a signature made by sign() with the public half.
  Result<bool> verify(ByteView data, ByteView signature) const;

  EVP_PKEY* native() const noexcept { return k_.get(); }

 private:
  std::shared_ptr<EVP_PKEY> k_;
};

/// Cryptographically random bytes (RAND_bytes); fails with errc::crypto_failure.
Result<Bytes> random_bytes(std::size_t n);

/// The text of the OpenSSL error queue (then cleared); for logs only.
std::string drain_openssl_errors();

}  // namespace m2mdm::mo
