/// @file syncml_samples.hpp
/// @brief The sample session's messages and the pieces of SyncML messages the codec tests and
/// benchmarks build their samples from (header-only; m2mdm::syncml).
#pragma once

#include "m2mdm/syncml/message.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace m2mdm::test {

/// Message @p msg_id of the sample session: SessionID 4E2, from IMEI:493005100592800 to
/// https://dm.example.net:8443/dm; no commands.
inline syncml::Message sample_message(std::uint32_t msg_id) {
  syncml::Message m;
  m.hdr.session_id = "4E2";
  m.hdr.msg_id = msg_id;
  m.hdr.target.loc_uri = "https://dm.example.net:8443/dm";
  m.hdr.source.loc_uri = "IMEI:493005100592800";
  return m;
}

/// Adds to @p m what a client's package 1 starts with (DM_Protocol 1.2 §2.6.1.1 shape): a
/// syncml:auth-md5 Cred (b64), MaxMsgSize 16384 and Alert 1201 (CmdID 1). The Replace of
/// ./DevInfo and Final are the caller's.
inline void start_package1(syncml::Message& m) {
  m.hdr.cred = syncml::Cred{};
  m.hdr.cred->meta.type = "syncml:auth-md5";
  m.hdr.cred->meta.format = "b64";
  m.hdr.cred->data = "Zz6EivR3yeaaENcRN6lpAQ==";
  m.hdr.meta = syncml::Meta{};
  m.hdr.meta->max_msg_size = 16384;
  syncml::Alert a;
  a.cmd_id = 1;
  a.data = 1201;
  m.body.push_back(syncml::Command{a});
}

/// A Replace (CmdID @p cmd_id) of one item: Target @p uri, Meta Format @p format (and Type
/// @p type when not empty), Data @p data.
inline syncml::ItemCommand replace_one(std::uint32_t cmd_id, std::string uri, std::string format, std::string data,
                                       std::string type = {}) {
  syncml::ItemCommand rep;
  rep.kind = syncml::CommandKind::Replace;
  rep.cmd_id = cmd_id;
  syncml::Item it;
  it.target = syncml::Location{std::move(uri), std::nullopt};
  it.meta = syncml::Meta{};
  it.meta->format = std::move(format);
  if (!type.empty()) it.meta->type = std::move(type);
  it.data = std::move(data);
  rep.items.push_back(std::move(it));
  return rep;
}

/// The Status (CmdID 1) of the SyncHdr of message @p msg_ref, sent from @p source to @p target:
/// @p code with a syncml:auth-md5 Chal (b64) whose NextNonce is @p next_nonce.
inline syncml::Status synchdr_challenge(std::uint32_t msg_ref, std::string target, std::string source,
                                        std::string next_nonce, std::uint16_t code) {
  syncml::Status st;
  st.cmd_id = 1;
  st.msg_ref = msg_ref;
  st.cmd_ref = 0;
  st.cmd = "SyncHdr";
  st.target_refs = {std::move(target)};
  st.source_refs = {std::move(source)};
  st.chal = syncml::Chal{};
  st.chal->meta.type = "syncml:auth-md5";
  st.chal->meta.format = "b64";
  st.chal->meta.next_nonce = std::move(next_nonce);
  st.data = code;
  return st;
}

}  // namespace m2mdm::test
