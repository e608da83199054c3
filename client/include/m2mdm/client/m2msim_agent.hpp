/// @file m2msim_agent.hpp
/// @brief The device side of the M2MSIMMobj: its Exec operations carried out with the TRE and
///        the MCIM registry (TR 33.812 steps 19–20; docs/m2msimmobj.md).
///
/// `M2msimAgent::attach()` registers the Exec handlers of the object on the device's tree:
/// - `Download/<x>/Operations/Install`: the package delivered in `Download/<x>/Package` is opened
///   inside the TRE (decrypt with the platform key, verify the SHO signer against the trust
///   anchors, check binding, expiry and counter), stored, and, if configured, activated
///   (the previous MCIM becomes Inactive in the same durable write);
/// - `MCIM/<x>/Operations/Activate|Deactivate|Delete` and `Operations/ResetToPristine`.
/// Each answers 202 and queues the outcome as a Generic Alert (type URN and result codes of the
/// M2MSIMMobj) in the `AlertOutbox`, so the session engine reports it until acknowledged.
/// Installing the same package twice (a re-delivery after a lost status) reports success again
/// without a second install.
///
/// Operator change, variant A (docs/operator-change.md): when the installed package is another
/// SHO's than the Active MCIM's, Install requires Download/<x>/AuthToken, an operator-change
/// token of that old SHO for this device (mo::verify_change_token); without a valid one the new
/// MCIM is removed, the old stays Active and the result is 1412 AuthorizationFailed. With it,
/// the old SHO's MCIMs are discarded and the new one activated in one TRE write, a Generic Alert
/// kAlertDiscarded per discarded MCIM is queued (for the old SHO, through the RO), then the
/// install result.
#pragma once

#include "m2mdm/client/alert_outbox.hpp"
#include "m2mdm/client/mcim_registry.hpp"
#include "m2mdm/client/tre.hpp"
#include "m2mdm/mo/change_token.hpp"
#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/mo/tree.hpp"
#include "m2mdm/mo/trust.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace m2mdm::client {

/// One outcome the agent queued as a Generic Alert (what M2msimAgentOptions::on_report sees).
struct M2msimReport {
  std::string server_id;     ///< the server the alert is for
  std::string type;          ///< the alert type URN (mo::kAlertInstall, kAlertActivate, ...)
  std::string source;        ///< the node the operation concerned (Download/<x>, MCIM/<x>, ...)
  std::string correlator;    ///< the Exec's correlator (empty for kAlertBlocked)
  mo::M2msimResult result = mo::M2msimResult::Success;
  std::string message;       ///< the result in words (as in the alert's data)
};

/// How the agent acts.
struct M2msimAgentOptions {
  bool activate_after_install = true;          ///< make a newly installed MCIM the active one
  std::function<std::int64_t()> clock;         ///< seconds since the epoch; default system clock
  /// Called after every operation that changed the registry (e.g. to re-key the USIM model).
  std::function<void(const McimRegistry&)> on_change;
  /// Called after every Generic Alert the agent queued (install, MCIM operations, Blocked).
  std::function<void(const M2msimReport&)> on_report;
  /// The device owner's (subscriber's) CAs. Set: only a token its subscriber signed ("by":
  /// "subscriber") may change this device's SHO or reset it; unset: the old SHO's token
  /// (docs/operator-change.md "The subscriber").
  std::optional<mo::TrustAnchors> owner_anchors;
  /// With owner_anchors: the subscriber the tokens must name (its signer CN); empty = any
  /// subscriber certified by owner_anchors.
  std::string owner_name;
};

/// Binds the M2MSIMMobj's operations to the TRE and the registry (see the file comment).
class M2msimAgent {
 public:
  M2msimAgent(mo::Tree& tree, Tre& tre, McimRegistry& registry, AlertOutbox& outbox, mo::TrustAnchors anchors,
              M2msimAgentOptions options = {});

  /// Registers the Exec handlers on the tree and writes the registry into MCIM/<x>.
  void attach();
  /// Rewrites ./M2MSIMMobj/MCIM/* from the registry (after a TRE start, for example).
  void sync_tree();
  /// Queues a Generic Alert for every MCIM that the TRE found Blocked at its start.
  void report_blocked(std::string_view server_id);

 private:
  mo::ExecOutcome install(mo::ExecRequest& request);
  mo::ExecOutcome mcim_operation(mo::ExecRequest& request, std::string_view op);
  mo::ExecOutcome reset(mo::ExecRequest& request);
  /// Verifies an operator-change token of @p variant (any when unset) for a change from
  /// @p from_sho to @p to_sho (either unchecked when empty) on this device
  /// (mo::verify_change_token; token_missing when @p token is empty).
  Result<mo::ChangeToken> check_change_token(ByteView token, std::optional<mo::ChangeVariant> variant,
                                             std::string_view from_sho, std::string_view to_sho) const;
  void report(std::string_view server_id, std::string_view type, std::string_view source, std::string_view correlator,
              mo::M2msimResult result, std::string_view message);
  std::int64_t now() const;

  mo::Tree& tree_;
  Tre& tre_;
  McimRegistry& registry_;
  AlertOutbox& outbox_;
  mo::TrustAnchors anchors_;
  M2msimAgentOptions options_;
};

/// Maps an error of opening/installing a sealed MCIM to the M2MSIMMobj result code.
mo::M2msimResult m2msim_result_for(const std::error_code& ec) noexcept;

}  // namespace m2mdm::client
