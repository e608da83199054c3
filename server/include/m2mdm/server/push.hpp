/// @file push.hpp
/// @brief WAP push from the RO to a device: push addresses, the package 0 trigger
///        (DM_Notification 1.2 §6.2 in a connectionless WSP push, WAP-230-WSP §8.2.4.1) and
///        the sender interface with its UDP implementation (WDP over UDP, WAP-259-WDP §6.4:
///        the UDP payload is the WSP PDU).
#pragma once

#include "m2mdm/server/store.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace m2mdm::server {

/// Where a device listens for pushes.
struct PushAddress {
  std::string host;        ///< IPv4/IPv6 literal or name
  std::uint16_t port = 0;  ///< UDP port (2948 is the registered wap-push port)
};

/// Parses "udp:HOST:PORT", "HOST:PORT" or "udp:[V6]:PORT" (port 1..65535, host non-empty,
/// at most 255 characters). Error: invalid_argument.
Result<PushAddress> parse_push_address(std::string_view text);

/// Package 0 for @p dm's account: DM_Notification 1.2 §6.2 with UI mode background, initiator
/// server, the given session id (1..0xFFFF), server identifier dm.server_id, digest over the
/// DMAcc server password and the nonce the device expects from us (dm.server_nonce), wrapped
/// in a WSP push (content type application/vnd.syncml.notification, X-Wap-Application-Id
/// syncml.dm). Returns the push PDU (= the UDP payload). No I/O.
/// With @p reset_nonce the digest is keyed with the reset nonce of DM_Notification 1.2
/// (4 zero bytes) instead of the device's stored server nonce: the fallback for a device whose
/// stored nonce no longer matches ours (e.g. it lost power inside a server-initiated session).
Result<Bytes> make_package0_push(const DmCredentials& dm, std::uint16_t session_id, std::uint8_t tid,
                                 bool reset_nonce = false);

/// Sends push PDUs to devices. Implementations must be thread-safe.
class PushSender {
 public:
  virtual ~PushSender() = default;
  /// Sends one datagram. Errors: invalid_argument (bad address), io_error (resolve/send failed).
  virtual Result<void> send(const PushAddress& to, ByteView payload) = 0;
};

/// UDP sender (one datagram per push, no acknowledgement: the device answers by opening a DM
/// session). Names are resolved with getaddrinfo.
class UdpPushSender final : public PushSender {
 public:
  Result<void> send(const PushAddress& to, ByteView payload) override;
};

}  // namespace m2mdm::server
