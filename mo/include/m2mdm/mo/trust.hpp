/// @file trust.hpp
/// @brief The set of SHO trust anchors a device accepts MCIM signers from, with an explicit
///        kind: a Test set and a Production set are never mixed (m2msimmobj.md, "test and
///        production anchors kept strictly apart").
///
/// A certificate belongs to a test PKI when it carries the certificatePolicies OID
/// kTestPolicyOid (`m2mdm pki init` marks every certificate it issues). A Test set accepts only
/// such certificates, a Production set only unmarked ones; a package whose signer chain contains
/// a test certificate is refused by a device holding Production anchors.
#pragma once

#include "m2mdm/mo/crypto_handles.hpp"
#include "m2mdm/syncml/result.hpp"

#include <string_view>
#include <vector>

namespace m2mdm::mo {

/// Which PKI a trust-anchor set belongs to.
enum class AnchorKind { test, production };

/// An ordered set of trust-anchor certificates of one kind.
class TrustAnchors {
 public:
  explicit TrustAnchors(AnchorKind kind) noexcept : kind_(kind) {}

  /// Reads every certificate of @p pem into a new set of @p kind.
  static Result<TrustAnchors> from_pem(std::string_view pem, AnchorKind kind);

  /// Adds one anchor. Fails with errc::trust_anchor_kind_mismatch if the certificate's kind
  /// (test marker present or not) differs from the set's, errc::bad_key if it is not a CA.
  Result<void> add(const Certificate& anchor);

  AnchorKind kind() const noexcept { return kind_; }
  const std::vector<Certificate>& certificates() const noexcept { return anchors_; }
  bool empty() const noexcept { return anchors_.empty(); }

 private:
  AnchorKind kind_;
  std::vector<Certificate> anchors_;
};

}  // namespace m2mdm::mo
