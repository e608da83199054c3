/// @file mgmt_command.hpp
/// @brief Generic management commands: DM commands an operator or SHO queues for one device
/// (POST /api/v1/devices/{devId}/commands), delivered in the device's next DM session, with
/// every Status and Results item the device returns.
///
/// The server only carries them: the device's ACLs decide (DM_TND 1.2 §7), the server reports.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::server {

/// The DM commands a management request may hold (DM_RepPro 1.2 §6.6).
enum class MgmtVerb { get, replace, add, del, exec, copy };
std::string_view to_string(MgmtVerb v) noexcept;  ///< "Get", "Replace", ... (the SyncML element name)
std::optional<MgmtVerb> mgmt_verb_from_string(std::string_view s) noexcept;

/// How the commands are sent: one by one, or in one Atomic / Sequence (DM_RepPro 1.2 §6.6.3, §6.6.14).
enum class MgmtWrap { none, atomic, sequence };
std::string_view to_string(MgmtWrap w) noexcept;  ///< "none", "Atomic", "Sequence"
std::optional<MgmtWrap> mgmt_wrap_from_string(std::string_view s) noexcept;

/// One DM command of a request.
struct MgmtOp {
  MgmtVerb verb = MgmtVerb::get;
  std::string target;                ///< Target LocURI
  std::string source;                ///< Copy only: Source LocURI
  std::optional<std::string> data;   ///< Item Data (text; base64 when format is b64)
  std::string format;                ///< Meta Format ("" = none: chr for the device)
  std::string type;                  ///< Meta Type ("" = none)
};

/// Lifecycle of a management request.
enum class MgmtState {
  queued,     ///< accepted, not yet sent
  delivered,  ///< sent in a DM session; its Statuses are due
  completed,  ///< every command has a Status (whatever its code: the device decided)
  failed,     ///< the session ended before every Status came back
  expired,    ///< its deadline passed before a session took it
};
std::string_view to_string(MgmtState s) noexcept;
std::optional<MgmtState> mgmt_state_from_string(std::string_view s) noexcept;

/// One Status the device returned for one command of the request (or for its container).
struct MgmtStatus {
  int index = -1;   ///< which op (0-based); -1 = the Atomic/Sequence container
  std::string cmd;  ///< the command's name as the device echoed it
  int code = 0;     ///< SyncML status code (DM_RepPro 1.2 §10)
};

/// One Results item (reassembled when it came in large-object chunks).
struct MgmtResult {
  int index = -1;  ///< the Get it answers
  std::string source;
  std::string format;
  std::string type;
  std::string data;  ///< as the device sent it (base64 text when format is b64)
};

/// A queued management request and what came back.
struct MgmtCommand {
  std::int64_t id = 0;
  std::string dev_id;
  std::string submitted_by;  ///< "operator" or "sho:<id>"
  MgmtWrap wrap = MgmtWrap::none;
  std::vector<MgmtOp> ops;
  MgmtState state = MgmtState::queued;
  std::vector<MgmtStatus> statuses;
  std::vector<MgmtResult> results;
  std::string error;  ///< why it failed/expired, if it did
  std::int64_t deadline = 0;  ///< 0 = never
  std::int64_t created = 0;
  std::int64_t updated = 0;
};

/// Limits of a request.
inline constexpr std::size_t kMaxMgmtOps = 32;
inline constexpr std::size_t kMaxMgmtUriLength = 1024;
inline constexpr std::size_t kMaxMgmtDataLength = 64 * 1024;

}  // namespace m2mdm::server
