/// @file push_listener.hpp
/// @brief WAP push over UDP (WAP-259-WDP Annex B: port 2948 "wap-push"): receives datagrams
///        whose payload is a connectionless WSP push PDU (bootstrap or package 0) and hands
///        them to the caller. No decoding here: Device::handle_push() decodes, verifies and acts.
#pragma once

#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace m2mdm::client {

/// Where and how the listener receives.
struct PushListenerOptions {
  std::string address = "127.0.0.1";  ///< bind address (IPv4 or IPv6 literal)
  std::uint16_t port = 2948;          ///< 0 = an ephemeral port (tests)
  /// Largest datagram accepted; larger ones are dropped (a CP bootstrap is a few hundred
  /// bytes, a package 0 under 300).
  std::size_t max_datagram = 8 * 1024;
};

/// One datagram received.
struct PushDatagram {
  Bytes payload;
  std::string peer;  ///< "address:port" of the sender, for logs
};

/// A bound UDP socket. Not thread-safe.
class PushListener {
 public:
  /// Binds the socket. Errors: errc::invalid_argument (address does not parse),
  /// errc::io_error (bind failed, e.g. port in use).
  static Result<std::unique_ptr<PushListener>> open(const PushListenerOptions& options);
  ~PushListener();

  /// The bound port (the chosen one when options.port was 0).
  std::uint16_t port() const noexcept;

  /// Waits up to @p timeout for one datagram. nullopt on timeout. A datagram larger than
  /// max_datagram is dropped and reported as errc::malformed (the caller logs and goes on).
  Result<std::optional<PushDatagram>> receive(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  explicit PushListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace m2mdm::client
