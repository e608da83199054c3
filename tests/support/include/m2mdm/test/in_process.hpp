/// @file in_process.hpp
/// @brief The device's DM client joined to the DPF's DM server in one process, no sockets:
/// a client::Transport whose POSTs go to a server::DmServerSession, and a loop that runs a
/// client::ClientSession against a server::DmServerSession message by message.
#pragma once

#include "m2mdm/client/session.hpp"
#include "m2mdm/client/transport.hpp"
#include "m2mdm/server/dm_session.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace m2mdm::test {

/// One DM session's transport: each POST is handled by a DmServerSession of this process
/// (HTTP 200 with its reply). While the link is lost (set_link_lost) every POST fails with
/// client::errc::transport_failed, as when the device loses power or its bearer.
class InProcessTransport final : public client::Transport {
 public:
  explicit InProcessTransport(server::DmBackend& backend, server::DmServerConfig config = {});
  Result<client::HttpReply> post(const client::Outgoing& message) override;

  /// Reads *@p lost before every POST (nullptr: never lost). *lost must outlive the transport.
  void set_link_lost(const bool* lost) { lost_ = lost; }
  server::DmServerSession& server() { return dpf_; }

 private:
  server::DmServerSession dpf_;
  const bool* lost_ = nullptr;
};

/// How an in-process session went.
struct Exchange {
  bool started = false;         ///< the client produced package 1
  int trips = 0;                ///< device messages the server handled
  std::uint64_t bytes_out = 0;  ///< device -> server bytes
  std::uint64_t bytes_in = 0;   ///< server -> device bytes
  /// Why the exchange stopped before the session ended: "start: ...", "server: ... / <abort
  /// reason>", "client: ... / <abort reason>"; nullopt when the session ran to its end.
  std::optional<std::string> error;
  /// The client produced a message after the server said the session was over.
  bool answered_after_end = false;
};

/// Starts a client-initiated session (package 1) and passes messages between @p session and
/// @p dpf until one side ends it, one fails, or @p max_trips device messages were sent.
/// M2MDM_TRACE=1 in the environment prints every message on stderr.
Exchange run_client_initiated(client::ClientSession& session, server::DmServerSession& dpf, int max_trips = 100);

}  // namespace m2mdm::test
