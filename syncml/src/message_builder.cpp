// One side's SyncHdr, MsgIDs and CmdIDs (see m2mdm/syncml/message_builder.hpp).
#include "m2mdm/syncml/message_builder.hpp"

#include <algorithm>

namespace m2mdm::syncml {

Alert session_alert(std::uint32_t cmd_id, AlertCode code_value) {
  Alert alert;
  alert.cmd_id = cmd_id;
  alert.data = code(code_value);
  return alert;
}

bool asks_next_message(const Message& received) {
  return std::ranges::any_of(received.body, [](const Command& c) {
    const auto* a = std::get_if<Alert>(&c.value);
    return a != nullptr && a->data == code(AlertCode::NextMessage);
  });
}

Status status_for(std::uint32_t msg_ref, std::uint32_t cmd_ref, std::string_view cmd, StatusCode code_value) {
  Status s;
  s.msg_ref = msg_ref;
  s.cmd_ref = cmd_ref;
  s.cmd = std::string(cmd);
  s.data = code(code_value);
  return s;
}

namespace {

void add_statuses(const std::vector<Command>& commands, std::uint32_t msg_ref, StatusCode code_value,
                  const std::optional<Chal>& chal, std::vector<Status>& out) {
  for (const auto& command : commands) {
    if (std::holds_alternative<Status>(command.value)) continue;  // an answer, not a request
    Status s = status_for(msg_ref, command.cmd_id(), command_name(command.kind()), code_value);
    s.chal = chal;
    out.push_back(std::move(s));
    if (const auto* container = std::get_if<Container>(&command.value))
      add_statuses(container->commands, msg_ref, code_value, chal, out);
  }
}

}  // namespace

std::vector<Status> statuses_for_all(const Message& received, StatusCode code_value, const std::optional<Chal>& chal) {
  std::vector<Status> out;
  add_statuses(received.body, received.hdr.msg_id, code_value, chal, out);
  return out;
}

Message MessageBuilder::new_message(std::optional<Cred> cred) {
  Message m;
  m.hdr.session_id = header_.session_id;
  m.hdr.msg_id = next_msg_id_++;
  m.hdr.target.loc_uri = header_.target;
  m.hdr.source.loc_uri = header_.source;
  if (header_.resp_uri && !header_.resp_uri->empty()) m.hdr.resp_uri = header_.resp_uri;
  // MaxMsgSize and MaxObjSize in every SyncHdr (DM_RepPro 1.2 §5.1.11, §5.1.12).
  Meta meta;
  meta.max_msg_size = header_.max_msg_size;
  meta.max_obj_size = header_.max_obj_size;
  m.hdr.meta = meta;
  m.hdr.cred = std::move(cred);
  return m;
}

void MessageBuilder::number(Message& m) {
  for (auto& c : m.body) {
    if (auto* st = std::get_if<Status>(&c.value); st && st->cmd_id == 0) st->cmd_id = next_cmd_id();
    if (auto* rs = std::get_if<Results>(&c.value); rs && rs->cmd_id == 0) rs->cmd_id = next_cmd_id();
  }
}

Status MessageBuilder::header_status(const Message& received, StatusCode code_value) const {
  Status s = status_for(received.hdr.msg_id, 0, "SyncHdr", code_value);
  s.target_refs.push_back(header_.source);
  s.source_refs.push_back(received.hdr.source.loc_uri);
  return s;
}

}  // namespace m2mdm::syncml
