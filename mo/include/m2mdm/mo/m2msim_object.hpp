/// @file m2msim_object.hpp
/// @brief The M2MSIMMobj: the m2mdm definition of the "OMA DM management object for M2M"
/// that 3GPP TR 33.812 names but never defines. Full reference: docs/m2msimmobj.md; DDF:
/// mo/ddf/m2msim.ddf.
///
/// ```
/// ./M2MSIMMobj                       Type urn:oma:mo:m2mdm-m2msim:1.0, permanent
///   PfC                              b64  Get       platform credential certificate (DER)
///   DevId                            chr  Get       the M2ME identity packages are bound to
///   MCIM/                            node Get       registry of stored MCIMs
///     <x>/                           node Get       one MCIM (created by the device)
///       Id SHO State Counter LastResult              Get
///       Operations/Activate|Deactivate|Delete        Exec
///   Download/                        node Get,Add
///     <x>/                           node Add,Delete,Get
///       Package                      bin  Add,Replace        sealed MCIM (CMS), large object
///       TransactionId                chr  Add,Get,Replace
///       AuthToken                    bin  Add,Replace        operator-change authorisation
///       State                        chr  Get                Idle|Installing|Installed|Failed
///       Operations/Install           Exec
///   Operations/ResetToPristine       Exec
///   ReBootstrap/Armed ArmedBy Expiry Get; ReBootstrap/Operations/Arm|Disarm Exec
/// ```
#pragma once

#include "m2mdm/mo/tree.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::mo {

/// MO identifier (Type of ./M2MSIMMobj).
inline constexpr std::string_view kM2msimUrn = "urn:oma:mo:m2mdm-m2msim:1.0";
/// The root of the object.
inline constexpr std::string_view kM2msimRoot = "./M2MSIMMobj";
/// Media type of Download/<x>/Package (a CMS AuthEnvelopedData, RFC 5083, DER).
inline constexpr std::string_view kSealedPackageType = "application/vnd.m2mdm.mcim-sealed";

/// Generic Alert 1226 type URNs (Meta/Type of the alert item).
inline constexpr std::string_view kAlertInstall = "urn:oma:at:m2mdm-m2msim:install:1.0";
inline constexpr std::string_view kAlertActivate = "urn:oma:at:m2mdm-m2msim:activate:1.0";
inline constexpr std::string_view kAlertDeactivate = "urn:oma:at:m2mdm-m2msim:deactivate:1.0";
inline constexpr std::string_view kAlertDelete = "urn:oma:at:m2mdm-m2msim:delete:1.0";
inline constexpr std::string_view kAlertReset = "urn:oma:at:m2mdm-m2msim:reset:1.0";
/// Sent unsolicited (no correlator) when an MCIM fails its integrity check at TRE start.
inline constexpr std::string_view kAlertBlocked = "urn:oma:at:m2mdm-m2msim:blocked:1.0";
/// Operator change variant A: the old credentials were discarded (to the old SHO via the DPF).
inline constexpr std::string_view kAlertDiscarded = "urn:oma:at:m2mdm-m2msim:discarded:1.0";

/// Lifecycle state of a stored MCIM (seed 002 §5.1.1.1.3).
enum class McimState : std::uint8_t { Downloaded, Installed, Active, Inactive, Blocked, Deleted };
std::string_view mcim_state_name(McimState s) noexcept;
std::optional<McimState> parse_mcim_state(std::string_view name) noexcept;

/// State of a delivery slot Download/<x>.
enum class DownloadState : std::uint8_t { Idle, Installing, Installed, Failed };
std::string_view download_state_name(DownloadState s) noexcept;
std::optional<DownloadState> parse_download_state(std::string_view name) noexcept;

/// Result codes reported in Generic Alert Data and in MCIM/<x>/LastResult (modelled on the
/// SCOMO/FUMO 1xxx ranges: 1200 success, 14xx device-side failures, 15xx internal).
enum class M2msimResult : std::uint16_t {
  Success = 1200,
  ClientError = 1400,          ///< unspecified device-side error
  BadSignature = 1401,         ///< SHO signature does not verify
  WrongDevice = 1402,          ///< package bound to another M2ME
  Expired = 1403,              ///< past its expiry (or not yet valid)
  Replayed = 1404,             ///< counter equals the last installed for that SHO
  RolledBack = 1405,           ///< counter below the last installed for that SHO
  UntrustedSigner = 1406,      ///< signer does not chain to the configured SHO anchors
  DecryptionFailed = 1407,     ///< wrong recipient, key unwrap or GCM tag failure
  StorageFailure = 1408,       ///< TRE protected storage could not commit
  MalformedPackage = 1409,     ///< CMS or profile does not parse / unsupported algorithm
  InvalidState = 1410,         ///< operation not allowed in the MCIM's lifecycle state
  NotFound = 1411,             ///< no package delivered / no such MCIM
  AuthorizationFailed = 1412,  ///< operator-change or re-bootstrap authorisation missing/invalid
  UsimFailure = 1413,          ///< the UICC/USIM refused the update (Alt 3d)
  IntegrityFailure = 1414,     ///< stored MCIM failed its integrity check; now Blocked
  InternalError = 1500,        ///< unexpected failure inside the device
};
std::string_view m2msim_result_name(M2msimResult r) noexcept;
/// All codes, for documentation and tests.
const std::vector<M2msimResult>& all_m2msim_results();

/// What the session engine puts into one Generic Alert (DM_Protocol 1.2 §8.7 / DM_RepPro
/// §6.6.2 Alert 1226): Correlator, Item Source LocURI, Meta Type and Format, Mark, Data.
struct GenericAlertPayload {
  std::string correlator;        ///< from the Exec (empty for unsolicited alerts)
  std::string source_uri;        ///< the Exec'd node, or the MCIM node for blocked
  std::string type;              ///< one of the kAlert* URNs
  std::string format = "chr";
  std::string mark;              ///< "critical" for failures, "" for success
  std::string data;              ///< "<code>" or "<code> <message>"
};

/// Builds the alert for @p result; the message is optional human-readable text (no newlines).
GenericAlertPayload make_m2msim_alert(std::string_view type, std::string_view source_uri,
                                      std::string_view correlator, M2msimResult result,
                                      std::string_view message = {});
/// Server side: splits alert Data "<code> <message>" (malformed when no leading 4-digit code).
Result<std::pair<std::uint16_t, std::string>> parse_m2msim_alert_data(std::string_view data);

/// Configuration of the object on one device.
struct M2msimConfig {
  Bytes pfc_der;                 ///< the PfC (DER X.509)
  std::string dev_id;            ///< M2ME identity (same as ./DevInfo/DevId)
  /// ServerIDs allowed to use the object (the DPF's ServerID). They get Get on the root,
  /// Add/Get/Delete on Download, Exec on the operations. Nobody else sees anything.
  std::vector<std::string> servers;
};

/// Creates ./M2MSIMMobj with its permanent nodes and ACLs, and registers its DDF rules.
StatusCode install_m2msim_object(Tree& tree, const M2msimConfig& config);

/// The DDF-derived rules (AccessType, Scope, Format) of the object, as Tree::describe takes
/// them; also checked against mo/ddf/m2msim.ddf by the tests.
std::vector<NodeRule> m2msim_rules();

/// One registry entry MCIM/<x>.
struct McimEntryView {
  std::string node_name;         ///< the <x>
  std::string id;                ///< Id (e.g. the ICCID)
  std::string sho;               ///< SHO (PLMN id / name)
  McimState state = McimState::Downloaded;
  std::uint64_t counter = 0;
  std::uint16_t last_result = 0; ///< an M2msimResult value, 0 = none yet
  /// Servers that may see this entry (its SHO's DPF). Empty = inherit.
  std::vector<std::string> visible_to;
};

/// Device: creates or updates MCIM/<node_name>.
StatusCode write_mcim_entry(Tree& tree, const McimEntryView& entry);
/// Device: reads MCIM/<node_name>.
Result<McimEntryView> read_mcim_entry(const Tree& tree, std::string_view node_name);
std::vector<McimEntryView> list_mcim_entries(const Tree& tree);

/// One delivery slot Download/<x> as the install handler sees it.
struct DownloadView {
  std::string node_name;
  Bytes package;
  std::string transaction_id;
  Bytes auth_token;
  DownloadState state = DownloadState::Idle;
};
Result<DownloadView> read_download(const Tree& tree, std::string_view node_name);
StatusCode set_download_state(Tree& tree, std::string_view node_name, DownloadState state);

/// Re-bootstrap arming (issue 3): a server listed in the object's ACL Execs
/// ReBootstrap/Operations/Arm (data: optional validity in seconds, default 600); the device
/// records Armed=true, ArmedBy=<server>, Expiry=<epoch seconds>. The bootstrap layer accepts a
/// second bootstrap only while rebootstrap_armed() and then calls disarm_rebootstrap().
bool rebootstrap_armed(const Tree& tree, std::int64_t now_epoch_seconds);
StatusCode arm_rebootstrap(Tree& tree, std::string_view server_id, std::int64_t expiry_epoch_seconds);
StatusCode disarm_rebootstrap(Tree& tree);

/// The URI helpers for the fixed paths.
std::string m2msim_uri(std::string_view relative);  ///< "PfC" -> "./M2MSIMMobj/PfC"

/// Longest name of an MCIM/<x> or Download/<x> node.
inline constexpr std::size_t kMaxM2msimNodeName = 64;

/// True when @p name may name an MCIM/<x> or Download/<x> node: 1 to kMaxM2msimNodeName of the
/// URI-unreserved characters A-Z a-z 0-9 - . _ ~ (RFC 3986 §2.3; DM_TND 1.2 §6: a node name is
/// one URI segment), and not "." or "..". What a server may put into an Exec target.
bool is_valid_m2msim_node_name(std::string_view name) noexcept;

}  // namespace m2mdm::mo
