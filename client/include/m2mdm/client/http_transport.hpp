/// @file http_transport.hpp
/// @brief The HTTP(S) Transport on Boost.Beast (synchronous from the caller's view; the
///        messages of one transport share a kept connection: one TLS handshake per DM session).
///
/// Security of https:// (TR 33.812 §5.2.2.6.3.2 option 2, docs/bootstrap.md "Public-key pin"):
/// - TLS 1.2 or later only (minimum protocol version set in the SSL_CTX);
/// - the server's chain is verified against the CA file (or the system store when none is
///   given), and the certificate must match the URL's host name or IP address;
/// - SNI carries the host name (not sent for IP literals, RFC 6066 §3);
/// - when a pin is set, SHA-256 over the DER SubjectPublicKeyInfo of the leaf certificate must
///   equal it (compared in constant time), else errc::tls_pin_mismatch and nothing is sent.
/// Plain http:// is accepted (for tests and networks that protect the bearer), but a pin set on
/// an http:// transport makes every post fail with tls_pin_mismatch: a pinned server is only
/// ever reached over TLS.
#pragma once

#include "m2mdm/client/transport.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace m2mdm::client {

/// Settings of an HttpTransport.
struct HttpTransportOptions {
  /// PEM file of the CAs trusted for the server chain; empty = OpenSSL's default verify paths.
  std::filesystem::path ca_file;
  /// SHA-256 of the server's SubjectPublicKeyInfo DER (32 bytes), from the bootstrap.
  std::optional<Bytes> spki_sha256;
  std::chrono::milliseconds connect_timeout{10'000};  ///< TCP connect + TLS handshake
  std::chrono::milliseconds io_timeout{30'000};       ///< writing the request + reading the reply
  std::size_t max_response_bytes = 1024 * 1024;       ///< larger responses are refused
  std::string user_agent = "m2mdm-device/0.1";
};

/// A parsed http(s) URL.
struct HttpUrl {
  bool tls = false;
  std::string host;    ///< without brackets for IPv6 literals
  std::uint16_t port = 0;
  std::string target;  ///< path and query, "/" when empty

  /// "http(s)://host:port": the requests one kept connection can carry.
  std::string origin() const;
};

/// Parses "http://host[:port]/path" or "https://...". Error: errc::bad_url.
Result<HttpUrl> parse_http_url(std::string_view url);

/// HTTP/1.1 POST per message over TCP or TLS (see the file comment). The connection stays open
/// for the next message to the same scheme, host and port (keep-alive) until the server closes
/// it, an error occurs or the transport is destroyed; a kept connection the server closed while
/// idle is replaced once, transparently, when nothing of a response had arrived on it.
class HttpTransport final : public Transport {
 public:
  /// Creates the transport; loads the CA file. Errors: errc::invalid_argument (pin not 32
  /// bytes), errc::io_error (CA file unreadable or without certificates).
  static Result<std::unique_ptr<HttpTransport>> create(HttpTransportOptions options);
  ~HttpTransport() override;

  /// POSTs the message to message.uri. Errors: bad_url, transport_failed (resolve/connect/
  /// protocol), timed_out, tls_handshake_failed, tls_pin_mismatch, response_too_large.
  Result<HttpReply> post(const Outgoing& message) override;

  const HttpTransportOptions& options() const noexcept;

 private:
  struct Impl;
  explicit HttpTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace m2mdm::client
