/// @file message_builder.hpp
/// @brief Building one side's messages of a DM session: the SyncHdr, MsgID and CmdID counters,
///        and the Status for a received command (OMA-TS-DM_RepPro-V1_2 §5.1, §6.6.14;
///        OMA-TS-DM_Protocol-V1_2 §8). Shared by the client and the server engines.
#pragma once

#include "m2mdm/syncml/message.hpp"
#include "m2mdm/syncml/status.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::syncml {

/// The Status of one received command (MsgRef, CmdRef, Cmd, Data); CmdID is left 0 for
/// MessageBuilder::number() to fill in.
Status status_for(std::uint32_t msg_ref, std::uint32_t cmd_ref, std::string_view cmd, StatusCode code);

/// One Status with @p code for every command of @p received other than its Statuses: each
/// command, each Atomic/Sequence and every command inside it, in message order. This is the
/// answer to a message whose authentication failed (DM_Protocol 1.2 §2.4.1: "only Status
/// commands ... A Status command MUST be provided for every command received in the request"),
/// where none of them was executed. @p chal, when given, goes into each Status (a 401/407
/// Status carries the challenge, §2.4.1).
std::vector<Status> statuses_for_all(const Message& received, StatusCode code,
                                     const std::optional<Chal>& chal = std::nullopt);

/// An Alert of @p code that carries no item: the session alerts 1200/1201, 1222 Next Message,
/// 1223 Session Abort (DM_Protocol 1.2 §8.2, §8.7).
Alert session_alert(std::uint32_t cmd_id, AlertCode code);

/// Whether @p received carries Alert 1222: its sender asks for the next message of our package
/// (DM_Protocol 1.2 §8.2.1). A message without Final and without it announces more of the
/// sender's own package instead.
bool asks_next_message(const Message& received);

/// Numbers and heads the messages one side sends in one session.
class MessageBuilder {
 public:
  /// What every SyncHdr of this side carries.
  struct Header {
    std::string session_id;               ///< SessionID (hex, DM_Notification 1.2 §6.3)
    std::string target;                   ///< the peer's LocURI
    std::string source;                   ///< our LocURI
    std::optional<std::string> resp_uri;  ///< RespURI, where the peer should send its next message
    std::uint64_t max_msg_size = 0;       ///< our MaxMsgSize (always announced)
    std::uint64_t max_obj_size = 0;       ///< our MaxObjSize (always announced)
  };

  Header& header() noexcept { return header_; }
  const Header& header() const noexcept { return header_; }

  /// The next CmdID (unique within the session's messages of this side, from 1).
  std::uint32_t next_cmd_id() noexcept { return next_cmd_id_++; }

  /// A new message with the next MsgID, our SyncHdr and @p cred in it (nullopt: none).
  Message new_message(std::optional<Cred> cred);

  /// Gives every Status and Results in @p m without a CmdID the next one: every command carries
  /// a CmdID (DM_RepPro 1.2 §6.6).
  void number(Message& m);

  /// The Status for the SyncHdr of @p received: CmdRef 0, TargetRef our URI, SourceRef theirs.
  Status header_status(const Message& received, StatusCode code) const;

 private:
  Header header_;
  std::uint32_t next_msg_id_ = 1;
  std::uint32_t next_cmd_id_ = 1;
};

}  // namespace m2mdm::syncml
