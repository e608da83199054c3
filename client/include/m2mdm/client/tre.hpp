/// @file tre.hpp
/// @brief The Trusted Runtime Environment of the M2ME (TR 33.812 §5.1.1.1): holds the platform
///        key, opens sealed MCIMs inside itself (step 19 of §5.1.3.7.1), signs, and keeps MIDs
///        in protected storage.
///
/// The interface never hands out the platform private key: opening and signing happen behind
/// it. It is shaped so that other backends can implement it without changing callers:
/// - a TPM 2.0 backend keeps the platform key as a non-exportable TPM object (ECDH via
///   TPM2_ECDH_ZGen, RSA-OAEP via TPM2_RSA_Decrypt, signing via TPM2_Sign) and seals storage
///   blobs to the TPM (TPM2_Create with a storage parent), e.g. through the tpm2-openssl provider
///   so that m2mdm::mo::open_sealed() runs unchanged on a provider-backed key;
/// - a PKCS#11 backend uses a token object (CKM_ECDH1_DERIVE / CKM_RSA_PKCS_OAEP / CKM_ECDSA)
///   and wraps storage with a token secret key (CKM_AES_GCM), e.g. through the pkcs11-provider.
/// SoftwareTre (software_tre.hpp) is the file-backed implementation for tests and development.
#pragma once

#include "m2mdm/mo/crypto_handles.hpp"
#include "m2mdm/mo/seal.hpp"
#include "m2mdm/mo/trust.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::client {

/// One item of the TRE's protected storage, as listed.
struct StoredItem {
  std::string id;
  bool blocked = false;  ///< failed its integrity check at a TRE start (seed 002 §5.1.1.1.3)
};

/// The TRE interface (see file comment for hardware backends).
class Tre {
 public:
  virtual ~Tre() = default;

  /// The platform credential (PfC) as DER.
  virtual Bytes platform_certificate() const = 0;
  /// This device's DevId (from the PfC: SAN URI urn:m2mdm:dev:ID, else CN).
  virtual std::string device_id() const = 0;

  /// Decrypts and verifies a sealed MCIM with the platform key, inside the TRE. The TRE sets
  /// policy.device_id to its own device_id() (the caller cannot choose it). Errors are the
  /// mo::errc seal_* / profile_* codes.
  virtual Result<mo::OpenedMcim> open_sealed(ByteView sealed, const mo::TrustAnchors& anchors,
                                             const mo::OpenPolicy& policy) = 0;

  /// Signs @p data with the platform key (ECDSA-SHA256 DER, or RSA-PSS-SHA256).
  virtual Result<Bytes> sign(ByteView data) = 0;

  /// Protected storage: ids are [A-Za-z0-9._-]{1,64}; each item is encrypted and integrity
  /// protected, written atomically (old or new content after a power loss).
  virtual Result<void> put(std::string_view id, ByteView data) = 0;
  /// Reads an item; client::errc::tre_mid_blocked if it failed its check, mo::errc::not_found
  /// if absent.
  virtual Result<mo::SecretBytes> get(std::string_view id) const = 0;
  virtual Result<std::vector<StoredItem>> list() const = 0;
  /// Removes an item (blocked or not); succeeds if it is absent.
  virtual Result<void> erase(std::string_view id) = 0;

  /// Ids that failed their integrity check at this TRE's start (seed 002 §5.1.1.1.3) and were
  /// blocked then; the Device reports them once as Blocked. Default: none.
  virtual std::vector<std::string> blocked_at_start() const { return {}; }
};

/// Whether @p id is a valid storage id.
bool valid_storage_id(std::string_view id) noexcept;

}  // namespace m2mdm::client
