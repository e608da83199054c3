/// @file pva.hpp
/// @brief Platform Validation Authority (TR 33.812 §5.1.3.5): validates a device's PfC
///        (platform credential certificate) against the configured manufacturer CAs —
///        chain, validity period, CRL revocation.
#pragma once

#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace m2mdm::server {

/// The PVA's verdict on one PfC.
struct PvaVerdict {
  bool valid = false;
  std::string reason;     ///< "ok" or why not (OpenSSL verify error text, "unparseable certificate"...)
  std::string subject;    ///< RFC 2253 subject (empty if unparseable)
  std::string issuer;     ///< RFC 2253 issuer
  std::string not_after;  ///< ISO 8601 UTC ("2030-01-01T00:00:00Z")
  Bytes der;              ///< the certificate in DER (empty if unparseable)
};

/// Trust configuration: manufacturer CA certificates (PEM files, several certs each allowed)
/// and optional CRLs (PEM or DER). When any CRL is configured, every certificate in the chain
/// must be covered by a CRL (X509_V_FLAG_CRL_CHECK | CRL_CHECK_ALL).
class Pva {
 public:
  /// Loads the CA and CRL files; fails with errc::config_error naming the bad file.
  static Result<Pva> load(const std::vector<std::filesystem::path>& ca_files,
                          const std::vector<std::filesystem::path>& crl_files);
  /// A PVA with no trust anchors (every PfC is invalid: "no manufacturer CA configured").
  Pva();
  ~Pva();
  Pva(Pva&&) noexcept;
  Pva& operator=(Pva&&) noexcept;

  /// Validates a PfC given as PEM or DER at time @p now (Unix seconds); @p chain_pem optionally
  /// carries untrusted intermediates. Never fails: a bad input is an invalid verdict.
  PvaVerdict validate(ByteView pfc, std::int64_t now, ByteView intermediates_pem = {}) const;
  std::size_t ca_count() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace m2mdm::server
