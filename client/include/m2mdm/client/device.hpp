/// @file device.hpp
/// @brief The embeddable M2ME: a state directory holding the DM tree, the Generic Alert outbox,
///        the software TRE and the MCIM registry; bootstrap, package 0 and DM sessions on top
///        (TR 33.812 §5.1.3.7.1 steps 10–11 and 18–20; seed 003).
///
/// State directory layout:
/// - `tree.m2mt` (+ `.prev`): the DM tree (mo::TreeStore, two generations, crash-safe); it holds
///   ./DevInfo, ./DMAcc (accounts, AAuthSecret and AAuthData nonces), ./M2MSIMMobj, and the
///   device-private bootstrap record ./Vendor/m2mdm/Bootstrap/<context>/{ServerID, Account,
///   SPKI-SHA256, NAP/...}. Both generations are sealed as a whole (format "M2MS": AES-256-GCM,
///   associated data "m2mdm-tree:v1:tree.m2mt") under the device's state key, 32 random bytes
///   kept in the TRE's protected storage as item `m2mdm.state-key` (client/state_key.hpp), made
///   at the first save. A clear tree of an earlier release is read once and saved twice, sealed
///   (both generations). A tree that does not open (another key, no key, altered bytes in both
///   generations) fails open() with mo::errc::seal_tag_mismatch or bad_key; it is never
///   replaced by an empty one;
/// - `outbox.json`: the Generic Alerts not yet acknowledged (FileAlertOutbox), unless the
///   caller gives its own AlertOutbox (DeviceOptions::outbox);
/// - the TRE directory (`--tre-dir`, default `<state>/tre`): platform key, PfC, protected
///   storage with the MCIM registry and profiles (SoftwareTre), unless the caller gives its own
///   Tre (DeviceOptions::tre).
///
/// Progress is reported as typed events (m2mdm/client/events.hpp) through
/// DeviceOptions::on_event: bootstrap applied/refused, package 0 verified/refused, sessions
/// started/completed/failed, MCIMs installed, ... Without a sink each event's human message is
/// written through the client's log sink (log.hpp) at the event's severity.
///
/// Every input is checked before anything changes: a bootstrap's MAC is verified (with the
/// configured SEC method, PIN and IMSI) before it is decoded, a package 0's digest is verified
/// with the DMAcc server credentials (then once more with the reset nonce, DM_Notification 1.2
/// §6.1) before a session starts, and a DM session changes the tree only through the engine,
/// which refuses unauthenticated or malformed server messages. The tree is saved (one atomic
/// TreeStore::save) after a bootstrap is applied and after a session that changed it; a refused
/// input leaves every stored byte as it was.
///
/// Re-bootstrap (docs/bootstrap.md): a context already bootstrapped accepts a new bootstrap only
/// while ./M2MSIMMobj/ReBootstrap is armed (by that context's own DM server, inside an
/// authenticated session) and the new bootstrap carries a REBOOTSTRAP-TOKEN; the arm is
/// cleared when the new bootstrap is applied.
#pragma once

#include "m2mdm/bootstrap/apply.hpp"
#include "m2mdm/bootstrap/security.hpp"
#include "m2mdm/client/alert_outbox.hpp"
#include "m2mdm/client/events.hpp"
#include "m2mdm/client/m2msim_agent.hpp"
#include "m2mdm/client/mcim_registry.hpp"
#include "m2mdm/client/session.hpp"
#include "m2mdm/client/software_tre.hpp"
#include "m2mdm/client/transport.hpp"
#include "m2mdm/client/tre.hpp"
#include "m2mdm/mo/standard_objects.hpp"
#include "m2mdm/mo/tree.hpp"
#include "m2mdm/mo/trust.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace m2mdm::client {

/// What a session's transport must know about the account it serves.
struct TransportParams {
  std::string server_id;
  std::string server_uri;           ///< the DMAcc AppAddr
  std::optional<Bytes> spki_sha256; ///< the pin from the bootstrap, if any
  std::filesystem::path ca_file;    ///< DeviceOptions::ca_file
};

/// Creates the transport for one session. The default builds an HttpTransport from the params.
using TransportFactory = std::function<Result<std::unique_ptr<Transport>>(const TransportParams&)>;

/// How a Device is set up.
struct DeviceOptions {
  std::filesystem::path state_dir;   ///< created (mode 0700) when absent
  std::filesystem::path tre_dir;     ///< empty = <state_dir>/tre (not used when @ref tre is set)
  /// The TRE holding the platform key and the MCIMs; empty = SoftwareTre::open(tre_dir). The
  /// Device shares it (the caller may keep a pointer, e.g. to a hardware-backed Tre).
  std::shared_ptr<Tre> tre;
  /// Where Generic Alerts wait for acknowledgement; empty = FileAlertOutbox in
  /// `<state_dir>/outbox.json`. The Device shares it (e.g. a MemoryAlertOutbox in a test, or
  /// an outbox in the embedding product's own storage).
  std::shared_ptr<AlertOutbox> outbox;
  /// Receives every DeviceEvent, synchronously, in order (must not throw: an exception is
  /// swallowed). Empty = each event's message goes to the client's log sink (log.hpp) at its severity.
  DeviceEventSink on_event;
  /// SHO trust anchors used to open sealed MCIMs (m2mdm pki init's sho-ca for tests).
  mo::TrustAnchors anchors{mo::AnchorKind::test};
  /// The owner's (subscriber's) CAs: when set, only tokens the subscriber signed change this
  /// device's SHO (M2msimAgentOptions::owner_anchors).
  std::optional<mo::TrustAnchors> owner_anchors;
  std::string owner_name;  ///< the subscriber its tokens must name (M2msimAgentOptions::owner_name)
  /// Bootstrap authentication (ProvBoot 1.1 §5.3): the method this device accepts and its
  /// PIN/IMSI. A push with another SEC method is refused.
  bootstrap::SecMethod sec = bootstrap::SecMethod::userpin;
  bootstrap::SecCredentials sec_credentials;
  std::filesystem::path ca_file;     ///< CAs for https servers (empty = system store)
  std::string manufacturer = "m2mdm";
  std::string model = "m2mdm-device";
  SessionConfig session{};
  TransportFactory transport;        ///< empty = HttpTransport
  /// handle_push(): after a bootstrap whose w7 has INIT, run a client-initiated session with
  /// that server at once (OMA ProvCont INIT).
  bool session_on_init = true;
  /// Seconds since the epoch (for MCIM validity and re-bootstrap arms); default system clock.
  std::function<std::int64_t()> clock;
};

/// What a bootstrap changed.
struct BootstrapOutcome {
  std::vector<std::string> contexts;    ///< context names applied
  std::vector<std::string> server_ids;  ///< their DM ServerIDs
  /// ServerIDs whose w7 had INIT: the caller should start a client-initiated session.
  std::vector<std::string> init_servers;
};

/// One bootstrapped context as the device records it.
struct ContextRecord {
  std::string context;
  std::string server_id;
  std::string account_node;          ///< ./DMAcc/<x>
  std::optional<Bytes> spki_sha256;
  std::optional<bootstrap::ContextRole> role;
};

/// The device (see the file comment). Not thread-safe: one caller at a time.
class Device {
 public:
  /// Opens (or creates) the state directory and the TRE, loads the tree, the outbox and the
  /// registry, installs the standard objects and, once bootstrapped, the M2MSIMMobj with the
  /// MCIM agent. Blocked MCIMs found by the TRE at start are queued as Generic Alerts.
  static Result<std::unique_ptr<Device>> open(DeviceOptions options);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  /// Handles one connectionless WSP push PDU (the UDP datagram payload of port 2948):
  /// application/vnd.wap.connectivity-wbxml -> CP bootstrap, application/vnd.syncml.dm+wbxml ->
  /// DM-profile bootstrap, application/vnd.syncml.notification -> package 0 and a server-
  /// initiated session. Other content types: errc::invalid_argument. Logs one line.
  Result<void> handle_push(ByteView push_pdu);

  /// Verifies (SEC method of the push must equal DeviceOptions::sec), applies and persists a CP
  /// bootstrap given as a push PDU. Errors: the bootstrap::errc of the failed check
  /// (sec_mac_mismatch, already_bootstrapped, ...), errc::push_unverified for a SEC mismatch.
  Result<BootstrapOutcome> apply_bootstrap_push(ByteView push_pdu);
  /// The same for a bare CP WBXML document and its MAC (none for USERPINMAC).
  Result<BootstrapOutcome> apply_bootstrap_wbxml(ByteView wbxml, std::optional<std::string_view> mac);

  /// Verifies package 0 and runs the server-initiated session it asks for. Errors:
  /// errc::malformed (does not decode), errc::not_bootstrapped (unknown ServerID),
  /// errc::push_unverified (digest fails with the stored and the reset nonces), and the
  /// errors of run_session().
  Result<SessionReport> handle_notification(ByteView package0);

  /// Runs one client-initiated session with @p server_id (default: the MCIM provisioning
  /// context's server, else the only account). Errors: not_bootstrapped, run_session()'s.
  Result<SessionReport> run_client_session(std::optional<std::string> server_id = std::nullopt);

  /// The contexts bootstrapped so far.
  std::vector<ContextRecord> contexts() const;
  const mo::Tree& tree() const noexcept;
  const McimRegistry& registry() const noexcept;
  /// The TRE in use (DeviceOptions::tre or the SoftwareTre opened on tre_dir).
  Tre& tre() noexcept;
  /// The SoftwareTre the device opened itself; nullptr when DeviceOptions::tre was given.
  SoftwareTre* software_tre() noexcept;
  const std::filesystem::path& tree_file() const noexcept;
  /// The pending Generic Alerts for @p server_id.
  std::vector<PendingAlert> pending_alerts(std::string_view server_id) const;

 private:
  struct Impl;
  explicit Device(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace m2mdm::client
