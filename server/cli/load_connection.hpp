/// @file load_connection.hpp
/// @brief One HTTP/1.1 connection (plain or TLS) of `m2mdm load` that stays open for as many DM
///        messages as the caller posts on it (keep-alive): blocking Beast calls on the caller's
///        thread, bounded by socket send/receive timeouts.
#pragma once

#include "m2mdm/client/session.hpp"

#include <chrono>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct ssl_st;          // OpenSSL's SSL
struct ssl_session_st;  // OpenSSL's SSL_SESSION

namespace m2mdm::cli::load {

/// Why an exchange failed: a short kind for the error table ("connect", "tls", "io", "http_503",
/// ...) and a detail for the log.
struct LoadFailure {
  std::string kind;
  std::string detail;
};

/// What one post() did besides the exchange.
struct PostInfo {
  bool connected = false;  ///< this call opened a connection (TCP, and TLS for https)
  bool resumed = false;    ///< ... with an abbreviated TLS handshake (the session was resumed)
  double connect_ms = 0;   ///< time spent connecting (and the TLS handshake)
};

/// A device's TLS session to resume on its next connection (RFC 8446 §2.2 / RFC 5077 tickets):
/// what a device keeps between its sessions. Empty until a connection saved one into it. Stays
/// where it is made (a connection holds its address while it is open).
class TlsTicket {
 public:
  TlsTicket() = default;
  TlsTicket(const TlsTicket&) = delete;
  TlsTicket& operator=(const TlsTicket&) = delete;

  /// Keeps the session of the TLS connection @p ssl in place of the one held: a session that
  /// cannot be resumed leaves the one held; a connection without a session clears it.
  void save(ssl_st* ssl);
  /// The session the next connection offers; nullptr until one was saved.
  ssl_session_st* session() const noexcept { return session_.get(); }

 private:
  struct Free {
    void operator()(ssl_session_st* s) const noexcept;
  };
  std::unique_ptr<ssl_session_st, Free> session_;
};

/// A DM response as received.
struct DmHttpReply {
  std::string content_type;  ///< without parameters
  Bytes body;
  std::optional<std::string> hmac_header;
};

/// The TLS trust shared by every connection of a run.
class TlsTrust {
 public:
  /// Loads @p ca_files (PEM; empty = the system store). TLS 1.2 or later, peer verified.
  static std::expected<std::shared_ptr<TlsTrust>, std::string> create(const std::vector<std::string>& ca_files);
  ~TlsTrust();
  TlsTrust(const TlsTrust&) = delete;
  TlsTrust& operator=(const TlsTrust&) = delete;

  struct Impl;
  Impl& impl() noexcept { return *impl_; }

 private:
  TlsTrust();
  std::unique_ptr<Impl> impl_;
};

/// One keep-alive connection to a DM server (see the file comment). Not thread-safe.
class DmConnection {
 public:
  /// @param trust    used for https URLs
  /// @param timeout  bound on connecting and on each send and receive
  DmConnection(std::shared_ptr<TlsTrust> trust, std::chrono::milliseconds timeout);
  ~DmConnection();
  DmConnection(const DmConnection&) = delete;
  DmConnection& operator=(const DmConnection&) = delete;

  /// POSTs @p msg to msg.uri and reads the answer. Reuses the open connection when it goes to
  /// the same scheme, host and port, else (re)connects first (reported in @p info). A non-200
  /// answer is a failure ("http_<code>"); any failure closes the connection.
  std::expected<DmHttpReply, LoadFailure> post(const client::Outgoing& msg, PostInfo& info);
  /// The ticket the next TLS connection offers, and where its session is saved when it closes
  /// (nullptr: full handshakes). Must outlive its use; set it before the connection opens.
  void use_ticket(TlsTicket* ticket) noexcept;
  /// Closes the connection (TLS close_notify sent, not awaited).
  void close();
  bool is_open() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace m2mdm::cli::load
