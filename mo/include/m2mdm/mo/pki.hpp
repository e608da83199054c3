/// @file pki.hpp
/// @brief A test PKI for m2mdm (`m2mdm pki init|device|revoke`): manufacturer CA (issues PfCs,
///        publishes a CRL), SHO CA + SHO signing certificate, a TLS CA + server certificate for
///        127.0.0.1/localhost, and a PVA certificate. Every certificate carries the test-PKI policy
///        OID (kTestPolicyOid), so it can only ever be loaded as a *test* trust anchor.
///
/// A device's PfC has subject CN=DEVID and subjectAltName URI `urn:m2mdm:dev:DEVID` (the DevId;
/// see docs/mcim.md). Key files are written with mode 0600, every file atomically.
#pragma once

#include "m2mdm/mo/crypto_handles.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::mo {

/// What to put in a certificate issued by issue_certificate().
struct CertSpec {
  std::string common_name;
  std::string organization = "m2mdm test PKI";
  bool is_ca = false;
  std::optional<int> path_len;              ///< CA only
  std::vector<std::string> subject_alt_names;  ///< OpenSSL syntax: "DNS:localhost", "IP:127.0.0.1", "URI:..."
  std::string key_usage;                    ///< e.g. "critical,digitalSignature"; empty = none
  std::string ext_key_usage;                ///< e.g. "serverAuth"; empty = none
  std::int64_t not_before = 0;              ///< seconds since the epoch
  std::int64_t not_after = 0;
  bool test_policy = true;                  ///< add certificatePolicies kTestPolicyOid
};

/// Issues an X.509 v3 certificate for @p subject_key's public half, signed by @p issuer_key
/// (SHA-256). @p issuer null = self-signed. Random 128-bit positive serial.
Result<Certificate> issue_certificate(const CertSpec& spec, const PrivateKey& subject_key, const Certificate* issuer,
                                      const PrivateKey& issuer_key);

/// A CRL (PEM, v2, SHA-256) by @p ca listing @p revoked_serials (upper-case hex), valid from
/// @p now for 30 days, with CRL number @p crl_number.
Result<std::string> make_crl(const Certificate& ca, const PrivateKey& ca_key, std::span<const std::string> revoked_serials,
                             std::int64_t now, std::uint64_t crl_number);

/// The DevId URI placed in a PfC's subjectAltName.
std::string device_uri(std::string_view device_id);
/// The DevId of a PfC: the `urn:m2mdm:dev:` SAN URI if present, else the subject CN.
std::string device_id_of(const Certificate& pfc);

/// One file written by the PKI commands, as printed (`name: path`).
struct PkiFile {
  std::string name;
  std::filesystem::path path;
};

/// Options of init_test_pki().
struct PkiInitOptions {
  std::string sho_id = "sho.example";  ///< CN of the SHO signing certificate (= profile sho_id)
  bool force = false;                  ///< overwrite an existing PKI in the directory
  std::int64_t now = 0;                ///< 0 = the current time
};

/// Creates the test PKI in @p dir (created if absent). Writes and returns, in this order:
/// manufacturer-ca, manufacturer-ca-key, manufacturer-crl, sho-ca, sho-ca-key, sho-cert, sho-key,
/// tls-ca, tls-ca-key, tls-cert, tls-key, pva-cert, pva-key.
Result<std::vector<PkiFile>> init_test_pki(const std::filesystem::path& dir, const PkiInitOptions& options = {});

/// Issues a device's platform key and PfC under the manufacturer CA of the PKI in @p dir, as a
/// software-TRE directory @p dir/devices/DEVID. Returns pfc, platform-key, manufacturer-ca,
/// tre-dir.
Result<std::vector<PkiFile>> issue_test_device(const std::filesystem::path& dir, std::string_view device_id,
                                               KeyType key_type = KeyType::ec_p256, std::int64_t now = 0);

/// Issues one more SHO signing certificate (CN = @p sho_id, the sho_id of its MCIM profiles and
/// the "from"/"to" of operator-change tokens) under the SHO CA of the PKI in @p dir, into
/// @p dir/shos/SHO_ID. Returns sho-cert, sho-key. @p sho_id: [A-Za-z0-9._-]{1,64}.
Result<std::vector<PkiFile>> issue_test_sho(const std::filesystem::path& dir, std::string_view sho_id,
                                            std::int64_t now = 0);

/// Issues a subscriber's (a device owner's) signing certificate, CN = @p subscriber_id (the
/// "subscriber" of the operator-change tokens it signs), under the PKI's subscriber CA
/// @p dir/subscriber-ca.pem (created with its key on first use: the owner CA a device and the RO
/// trust for subscriber-signed tokens), into @p dir/subscribers/ID. Returns subscriber-ca (only
/// when created), subscriber-cert, subscriber-key. @p subscriber_id: [A-Za-z0-9._-]{1,64}.
Result<std::vector<PkiFile>> issue_test_subscriber(const std::filesystem::path& dir, std::string_view subscriber_id,
                                                   std::int64_t now = 0);

/// Adds the PfC of @p device_id to the manufacturer CRL (re-issued with the next CRL number).
/// Returns manufacturer-crl.
Result<std::vector<PkiFile>> revoke_test_device(const std::filesystem::path& dir, std::string_view device_id,
                                                std::int64_t now = 0);

/// Writes @p data to @p path atomically (temp file in the same directory, fsync, rename, fsync of
/// the directory) with permission @p mode.
Result<void> write_file_atomically(const std::filesystem::path& path, ByteView data, unsigned mode = 0644);

}  // namespace m2mdm::mo
