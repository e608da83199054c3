/// @file events.hpp
/// @brief Typed progress events of the M2ME: what a Device (and the m2mdm-device agent around
///        it) did, as values a program can act on instead of log text.
///
/// A Device reports every step of its job (a bootstrap applied or refused, a package 0 verified
/// or refused, a DM session started, completed or failed, an MCIM installed, ...) as one
/// DeviceEvent through DeviceOptions::on_event. Each event carries its kind, typed fields (which
/// ones are set depends on the kind, see DeviceEvent) and a human message; the message is for
/// people and may be reworded at any time, the kind and the fields are the interface.
///
/// `to_string(kind)` is the stable snake_case wire name of a kind: `m2mdm-device --log-format
/// json` writes each event as one JSON object per line whose `event` field is that name
/// (docs/client-integration.md lists the fields), and `m2mdm demo` waits on those names.
#pragma once

#include "m2mdm/client/session.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace m2mdm::client {

/// The kinds of DeviceEvent. Names (to_string) are stable: new kinds may be added, existing
/// names are never changed.
enum class DeviceEventKind {
  // ---- emitted by client::Device --------------------------------------------------------------
  device_ready,         ///< Device::open() finished: device_id, contexts, mcim_count
  push_refused,         ///< a push that is not a WSP push or of an unknown content type: error, detail
  bootstrap_applied,    ///< a bootstrap verified, applied and persisted: contexts, servers, sec_method
  bootstrap_refused,    ///< a bootstrap refused, nothing stored: error, detail
  package0_verified,    ///< a package 0 whose digest verified: server_id, session_id, ui_mode, nonce
  package0_refused,     ///< a package 0 refused before any session: server_id (when decoded), error, detail
  session_started,      ///< a DM session opened its first message: server_id, session_id, initiator
  session_completed,    ///< a DM session ended normally: server_id, session_id, initiator, report
  session_failed,       ///< a DM session could not start or failed: server_id, session_id (when started),
                        ///< initiator, error, detail, report (when started)
  mcim_installed,       ///< a sealed MCIM opened in the TRE and installed: server_id, correlator, mcim,
                        ///< result (1200), detail
  mcim_install_failed,  ///< a delivered MCIM refused or not installable: server_id, correlator, mcim,
                        ///< result (the M2MSIMMobj code), detail
  mcim_operation,       ///< an Activate/Deactivate/Delete/ResetToPristine done or refused: server_id,
                        ///< operation, correlator, mcim, result, detail
  mcim_blocked,         ///< a stored MCIM failed its integrity check at the TRE start: server_id, mcim,
                        ///< result
  // ---- emitted by the m2mdm-device agent around the Device -----------------------------------
  listening,            ///< the agent listens for WAP push: address, port
  push_received,        ///< a push datagram arrived: address (the peer), bytes
  stopping,             ///< the agent shuts down on a signal
};

/// How much an event matters to an operator (the log level of its human line).
enum class EventSeverity { debug, info, warning, error };

/// One event (see the file comment). Fields not listed for the event's kind are empty/zero.
struct DeviceEvent {
  DeviceEventKind kind = DeviceEventKind::device_ready;
  EventSeverity severity = EventSeverity::info;
  /// When the event happened.
  std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
  /// The human line (what the agent logs in text format). Not an interface: may be reworded.
  std::string message;

  std::string server_id;                ///< the DM server (ServerID) concerned
  std::string device_id;                ///< device_ready: the DevId of the TRE's PfC
  std::vector<std::string> contexts;    ///< bootstrap_applied, device_ready: context names
  std::vector<std::string> servers;     ///< bootstrap_applied: the contexts' ServerIDs
  std::vector<std::string> init_servers;///< bootstrap_applied: ServerIDs whose w7 asks for a session (INIT)
  std::string sec_method;               ///< bootstrap_applied: USERPIN, NETWPIN, ...
  std::string session_id;               ///< sessions: the SessionID; package0_verified: as in package 0 (hex)
  std::string initiator;                ///< sessions: "server" (package 0) or "client"
  std::string ui_mode;                  ///< package0_verified: the UI mode of package 0
  std::string nonce;                    ///< package0_verified: which nonce verified ("stored", "reset", ...)
  std::optional<SessionReport> report;  ///< session_completed, session_failed (once started): counts
  std::string operation;                ///< mcim_operation: Activate, Deactivate, Delete, ResetToPristine
  std::string correlator;               ///< mcim_*: the server's Exec correlator (the job's)
  std::string mcim;                     ///< mcim_*: the M2MSIMMobj node concerned (the Exec target, e.g.
                                        ///< ./M2MSIMMobj/Download/<x>/Operations/Install; MCIM/<x> when blocked)
  std::uint16_t result = 0;             ///< mcim_*: the M2MSIMMobj result code (1200 = success)
  std::size_t mcim_count = 0;           ///< device_ready: MCIMs in the registry
  std::error_code error;                ///< refusals and failures: why, as a code
  std::string detail;                   ///< refusals and failures, mcim_*: why, in words
  std::string address;                  ///< listening: local address; push_received: the peer
  std::uint16_t port = 0;               ///< listening: the UDP port
  std::size_t bytes = 0;                ///< push_received: datagram size
};

/// Receives events; called synchronously on the thread that drives the Device, in order.
using DeviceEventSink = std::function<void(const DeviceEvent&)>;

/// The stable snake_case wire name of @p kind ("bootstrap_applied", ...).
std::string_view to_string(DeviceEventKind kind) noexcept;
/// The kind named @p name (the inverse of to_string), or nullopt.
std::optional<DeviceEventKind> parse_device_event_kind(std::string_view name) noexcept;
/// Every kind, in declaration order (for tests and documentation generators).
const std::vector<DeviceEventKind>& all_device_event_kinds();
/// "debug", "info", "warning", "error".
std::string_view to_string(EventSeverity severity) noexcept;

}  // namespace m2mdm::client
