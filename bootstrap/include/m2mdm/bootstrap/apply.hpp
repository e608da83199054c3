/// @file apply.hpp
/// @brief From a verified bootstrap to DM accounts and connectivity profiles, and their atomic
///        application to an account store behind the re-bootstrap guard. No I/O.
///
/// Mapping (DM Standardized Objects 1.2 appendix, DM Bootstrap 1.2 §3.1.3.4):
/// w7 APPID -> AppID, PROVIDER-ID -> ServerID, NAME -> Name, TO-NAPID -> PrefConRef,
/// APPADDR/ADDR, ADDRTYPE, PORT/PORTNBR -> AppAddr/<x>/Addr, AddrType, Port/<x>/PortNbr,
/// APPAUTH AAUTHLEVEL APPSRV -> AppAuth/<x>/AAuthLevel "CLCRED" (the client's credentials
/// towards the server), CLIENT -> "SRVCRED" (the server's credentials towards the client),
/// AAUTHTYPE/NAME/SECRET/DATA -> AAuthType/Name/Secret/Data (AAUTHDATA base64-decoded);
/// the new ServerID gets Get, Replace and Delete ACL rights on everything mapped.
/// NAPDEF -> ConnectivityProfile.
#pragma once

#include "m2mdm/bootstrap/builder.hpp"
#include "m2mdm/bootstrap/cp_document.hpp"
#include "m2mdm/bootstrap/security.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::bootstrap {

/// One DMAcc AppAuth entry.
struct AuthCredential {
  std::string level;   ///< "CLCRED" (from APPSRV) or "SRVCRED" (from CLIENT)
  std::string type;    ///< AAuthType
  std::string name;    ///< AAuthName
  std::string secret;  ///< AAuthSecret
  Bytes data;          ///< AAuthData (decoded)

  bool operator==(const AuthCredential&) const = default;
};

/// A DMAcc (DM Standardized Objects 1.2 §5.3) as data.
struct DmAccount {
  std::string app_id = "w7";
  std::string server_id;
  std::string name;
  std::string addr;
  std::string addr_type;
  std::optional<std::uint16_t> port;
  std::string pref_conref;  ///< TO-NAPID (NAPID of the connectivity profile, or "INTERNET")
  std::vector<AuthCredential> app_auth;
  bool init = false;  ///< INIT present: start a session right after the bootstrap
  std::string acl;    ///< "Get=<sid>&Replace=<sid>&Delete=<sid>"

  /// The credential for @p level ("CLCRED"/"SRVCRED"), or nullptr.
  const AuthCredential* credential(std::string_view level) const noexcept;
  bool operator==(const DmAccount&) const = default;
};

/// NAPDEF as data (what the modem/PDP layer needs).
struct ConnectivityProfile {
  std::string napid;
  std::string name;
  std::string bearer;
  std::string apn;        ///< NAP-ADDRESS
  std::string addr_type;  ///< NAP-ADDRTYPE (APN)
  std::string auth_type;  ///< NAPAUTHINFO AUTHTYPE ("" when absent)
  std::string auth_name;
  std::string auth_secret;

  bool operator==(const ConnectivityProfile&) const = default;
};

/// One context of the bootstrap.
struct BootstrapContext {
  /// The context name the re-bootstrap guard uses: the VENDORCONFIG M2M-CONTEXT value
  /// ("mcim-provisioning" / "m2m-application"), or the ServerID when no VENDORCONFIG names it.
  std::string context;
  std::optional<ContextRole> role;
  DmAccount account;
  std::optional<ConnectivityProfile> connectivity;
  /// SHA-256 of the DM server's SubjectPublicKeyInfo (VENDORCONFIG SPKI-SHA256); the client
  /// must refuse a TLS server whose key does not hash to this.
  std::optional<Bytes> spki_sha256;
  std::string rebootstrap_token;  ///< VENDORCONFIG REBOOTSTRAP-TOKEN ("" when absent)

  bool operator==(const BootstrapContext&) const = default;
};

/// Everything a bootstrap provides.
struct BootstrapResult {
  std::optional<std::string> provurl;  ///< BOOTSTRAP PROVURL
  std::optional<std::string> name;     ///< BOOTSTRAP NAME
  std::vector<BootstrapContext> contexts;

  bool operator==(const BootstrapResult&) const = default;
};

/// Maps a CP document (already verified!) to the result. Errors: cp_missing_w7, cp_invalid_w7.
Result<BootstrapResult> interpret_cp_document(const ProvisioningDoc& doc);

/// A bootstrap whose MAC verified. Only verify_cp_bootstrap / verify_dm_bootstrap (dm_profile.hpp)
/// create one, so apply_bootstrap cannot be handed an unverified document.
class VerifiedBootstrap {
 public:
  const BootstrapResult& result() const noexcept { return result_; }
  SecMethod method() const noexcept { return method_; }

 private:
  VerifiedBootstrap(BootstrapResult r, SecMethod m) : result_(std::move(r)), method_(m) {}
  BootstrapResult result_;
  SecMethod method_;
  friend Result<VerifiedBootstrap> verify_cp_bootstrap(ByteView, SecMethod, const SecCredentials&,
                                                       std::optional<std::string_view>, const CpLimits&);
  friend Result<VerifiedBootstrap> make_verified_dm_bootstrap(BootstrapResult, SecMethod);
};

/// Verifies the MAC over the exact @p wbxml bytes first, then decodes and interprets.
/// Nothing is decoded before the MAC holds.
Result<VerifiedBootstrap> verify_cp_bootstrap(ByteView wbxml, SecMethod method, const SecCredentials& creds,
                                              std::optional<std::string_view> mac, const CpLimits& limits = {});

/// The device-side storage the bootstrap is applied to (the client's DM tree adapter).
/// apply_bootstrap calls begin(), then put_*/mark_bootstrapped, then commit(); on any error it
/// calls rollback(), and an implementation must then leave no trace of the staged changes.
class AccountStore {
 public:
  virtual ~AccountStore() = default;
  virtual bool is_bootstrapped(std::string_view context) const = 0;
  virtual Result<void> begin() = 0;
  virtual Result<void> put_account(std::string_view context, const DmAccount& account) = 0;
  virtual Result<void> put_connectivity(std::string_view context, const ConnectivityProfile& profile) = 0;
  virtual Result<void> put_server_pin(std::string_view context, const Bytes& spki_sha256) = 0;
  virtual Result<void> mark_bootstrapped(std::string_view context) = 0;
  virtual Result<void> commit() = 0;
  virtual void rollback() noexcept = 0;
};

/// A complete in-memory AccountStore (staging area + committed state); also a reference for
/// persistent implementations. `fail_commit_after` lets tests make the n-th put fail.
class MemoryAccountStore final : public AccountStore {
 public:
  struct Entry {
    std::optional<DmAccount> account;
    std::optional<ConnectivityProfile> connectivity;
    std::optional<Bytes> pin;
    bool bootstrapped = false;
    bool operator==(const Entry&) const = default;
  };
  bool is_bootstrapped(std::string_view context) const override;
  Result<void> begin() override;
  Result<void> put_account(std::string_view context, const DmAccount& account) override;
  Result<void> put_connectivity(std::string_view context, const ConnectivityProfile& profile) override;
  Result<void> put_server_pin(std::string_view context, const Bytes& spki_sha256) override;
  Result<void> mark_bootstrapped(std::string_view context) override;
  Result<void> commit() override;
  void rollback() noexcept override;

  const std::map<std::string, Entry, std::less<>>& committed() const noexcept { return committed_; }
  /// Makes the put call number @p n (0-based, counted from begin()) fail with io_error.
  void fail_put_at(std::optional<int> n) noexcept { fail_at_ = n; }

 private:
  Result<void> count_put();
  std::map<std::string, Entry, std::less<>> committed_;
  std::optional<std::map<std::string, Entry, std::less<>>> staged_;
  std::optional<int> fail_at_;
  int puts_ = 0;
};

/// The re-bootstrap guard (TR 33.812 §5.2.2.6.3.2 leaves re-bootstrapping FFS; design in
/// docs/bootstrap.md): a bootstrapped context accepts a new bootstrap only while it is armed.
/// The current DM server arms it, inside an authenticated DM session, by a Replace on
/// ./M2MSIMMobj/Bootstrap/<context>/ReBootstrap with a one-shot token; the arm expires after a
/// TTL and is consumed by the first attempt (success or failure). The new bootstrap must carry
/// the same token in VENDORCONFIG REBOOTSTRAP-TOKEN. Only SHA-256(token) is kept.
class RebootstrapGuard {
 public:
  using Clock = std::chrono::system_clock;
  /// Arms @p context. Error: invalid_argument for an empty token (< 16 chars) or TTL <= 0.
  Result<void> arm(std::string_view context, std::string_view token, std::chrono::seconds ttl, Clock::time_point now);
  /// Checks without consuming: true when armed, unexpired and the token matches (constant-time).
  bool check(std::string_view context, std::string_view token, Clock::time_point now) const;
  /// Removes the arm of @p context (one-shot use).
  void consume(std::string_view context) noexcept;
  bool armed(std::string_view context, Clock::time_point now) const;

 private:
  struct Arm {
    Bytes token_sha256;
    Clock::time_point expires;
  };
  std::map<std::string, Arm, std::less<>> arms_;
};

/// Applies every context of @p bootstrap to @p store, all or nothing. A context the store
/// reports as bootstrapped needs guard.check(context, its REBOOTSTRAP-TOKEN) to hold, else
/// already_bootstrapped (no arm) or rebootstrap_denied (wrong/expired token; the arm is then
/// consumed). Any store error rolls everything back: store_failed. Arms used are consumed.
Result<void> apply_bootstrap(const VerifiedBootstrap& bootstrap, AccountStore& store, RebootstrapGuard& guard,
                             RebootstrapGuard::Clock::time_point now);

}  // namespace m2mdm::bootstrap
