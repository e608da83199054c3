/// @file syncml_samples.hpp
/// @brief Pieces of SyncML messages the codec tests and benchmarks build their samples from
/// (header-only; m2mdm::syncml).
#pragma once

#include "m2mdm/syncml/message.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace m2mdm::test {

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
