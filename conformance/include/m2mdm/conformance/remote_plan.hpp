/// @file remote_plan.hpp
/// @brief How a client vector is played to a real device under test (`m2mdm conformance`), without
///        I/O: which sessions, how each is started (package 0 or a client-initiated session), and
///        which of the case's expectations become wire checks.
///
/// A real device has one DM account and keeps its tree between cases, so the remote run differs
/// from the in-process one (docs/conformance.md):
/// - before every case a **reset** session acknowledges any pending Generic Alert, deletes
///   ./Test and adds the case's `device.nodes` (the in-process device starts fresh);
/// - after a case session whose `expect` names tree values, an outbox, or persisted nonces, a
///   **verify** session reads them over the wire: its package 1 must carry exactly the expected
///   pending Generic Alerts and a credential over the last nonce the server gave, the device must
///   accept the server's credential over the last nonce it sent (212), and a Get of each `tree`
///   URI must return the value (200 + Results) or 404 for null;
/// - expectations only an in-process run can see (`state`, `abort_reason_contains`,
///   `tree_unchanged`, `report`, an outbox's `min_attempts`) are listed per case as not checked
///   on the wire;
/// - a `start: client` session opened with package 0 reads Alert 1201 in its templates and
///   expectations as 1200 (and 1200 as 1201): the device is asked to open it, so it is server
///   initiated;
/// - a case the account cannot run (another auth type, a Generic Alert pending before it starts,
///   the M2MSIMMobj when the device has none, package 0 without a push address) is not run, with
///   the reason.
#pragma once

#include "m2mdm/conformance/vectors.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace m2mdm::conformance {

/// What the run can do with the device under test.
struct RemoteOptions {
  bool package0 = false;            ///< a push address is known: sessions can be asked for with package 0
  std::string auth = "DIGEST";      ///< the account's AAuthType, both directions: BASIC | DIGEST | HMAC
  bool m2msimmobj = true;           ///< the device has the M2MSIMMobj (m2mdm's own agent)
};

/// How a session is started.
enum class SessionStart : std::uint8_t {
  package0,  ///< the server sends package 0 (DM_Notification 1.2); the device opens with Alert 1200
  client,    ///< the device opens it (client-initiated, Alert 1201): --trigger-command or the lab
};

/// One DM session of a remote case, in the vector format (package1, steps, expect).
struct PlannedSession {
  std::string label;                 ///< "reset", "session 2", "verify after session 1"
  SessionStart start = SessionStart::package0;
  std::uint16_t notification_session_id = 0;  ///< for package0: the SessionID package 0 carries (0 = any)
  nlohmann::json session;            ///< package1 / steps / expect, as in case.json
  /// The templates its steps name are the case's files (else CasePlan::generated).
  bool from_case = false;
  std::map<int, int> alert_alias;    ///< SessionCtx::alert_alias
  bool reset_nonce = false;          ///< package 0 over the reset nonce (DM_Notification 1.2 §6.1)
};

/// One case as played to a device.
struct CasePlan {
  std::string id;       ///< the vector's directory name
  std::string clause;   ///< the spec clause(s) it checks (the rule up to its first ": ")
  std::string rule;     ///< the whole rule
  bool runnable = true;
  std::string not_run_reason;
  /// The case needs a device whose announced MaxObjSize (SyncHdr Meta, DM_RepPro 1.2 §7.1) is
  /// below this (case.json remote.device_max_obj_size_below): it sends a whole object of that
  /// size. Judged at run time from the device's first message; a larger or missing MaxObjSize
  /// makes the case not run.
  std::optional<std::uint64_t> device_max_obj_size_below;
  std::vector<std::string> not_on_wire;  ///< expectations only the in-process runner checks
  std::vector<PlannedSession> sessions;
  std::map<std::string, std::string> generated;  ///< reset/verify templates (PlannedSession::from_case)
};

/// The clause of a rule: its text up to the first ": ".
std::string rule_clause(const std::string& rule);

/// The session a run starts with when the account uses nonces (DIGEST, HMAC): the nonces a device
/// holds from an earlier run are unknown, so both sides challenge once (DM_Security 1.2 §5.3):
/// package 0 over the reset nonce (DM_Notification 1.2 §6.1), 401 + a new nonce for the device's
/// credential, the server's credential again over the nonce of the device's Chal, 212 both ways.
/// Its templates go into @p files.
PlannedSession plan_sync_session(const RemoteOptions& options, std::map<std::string, std::string>& files,
                                 std::uint16_t& next_session_id);

/// Plans @p c for a device with @p options. @p next_session_id gives the SessionIDs of package 0
/// for sessions that do not fix one (each call takes the next; hex digits 0-9 only).
CasePlan plan_remote_case(const CaseFiles& c, const RemoteOptions& options, std::uint16_t& next_session_id);

}  // namespace m2mdm::conformance
