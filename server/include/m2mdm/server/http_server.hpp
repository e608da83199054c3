/// @file http_server.hpp
/// @brief The asynchronous HTTP/1.1 and HTTPS server (Boost.Beast) that feeds an `HttpHandler`.
///        Beast and Asio types stay inside the implementation.
#pragma once

#include "m2mdm/server/http.hpp"
#include "m2mdm/syncml/result.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace m2mdm::server {

/// Server certificate and key (PEM files) for HTTPS.
struct TlsFiles {
  std::filesystem::path cert_chain;  ///< leaf first, then intermediates
  std::filesystem::path private_key;
};

/// Listener and connection settings.
struct HttpServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  ///< 0 = pick an ephemeral port (see HttpServer::port())
  unsigned threads = 0;       ///< I/O threads (TLS, HTTP framing); 0 = std::thread::hardware_concurrency()
  /// Threads that run the HttpHandler (which may block on the store's fsync): a request's
  /// handler never holds an I/O thread, so handshakes and reads go on while handlers wait.
  /// 0 = 8 per I/O thread.
  unsigned handler_threads = 0;
  std::size_t body_limit = 1024 * 1024;          ///< larger bodies get 413 and the connection closes
  std::size_t header_limit = 16 * 1024;          ///< larger headers get 431
  std::chrono::milliseconds header_timeout{10'000};  ///< from connect/keep-alive to complete headers
  std::chrono::milliseconds read_timeout{30'000};    ///< whole request incl. body
  std::chrono::milliseconds idle_timeout{60'000};    ///< keep-alive wait between requests
  std::chrono::milliseconds write_timeout{30'000};
  std::size_t max_connections = 1024;  ///< beyond this a new connection gets 503 and is closed
  std::optional<TlsFiles> tls;         ///< set = HTTPS only (TLS 1.2 minimum)
};

/// Live counters the server keeps (for /metrics).
struct HttpServerStats {
  std::size_t active_connections = 0;
  std::uint64_t accepted_connections = 0;
  std::uint64_t rejected_connections = 0;  ///< refused because of max_connections
  /// Exceptions caught on a connection (thrown by a handler or by the HTTP parser); each ended
  /// only its own connection or request, never the server.
  std::uint64_t contained_exceptions = 0;
};

/// A running server. Construct with start(); stop() (or the destructor) closes the listener,
/// lets in-flight requests finish (bounded by the write timeout) and joins the threads.
class HttpServer {
 public:
  /// Binds, listens and starts the I/O threads. @p handler must outlive the server.
  /// Fails with errc::bind_failed or errc::tls_error.
  static Result<std::unique_ptr<HttpServer>> start(const HttpServerOptions& options, HttpHandler& handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// The bound port (the real one when options.port was 0).
  std::uint16_t port() const noexcept;
  /// "http://ADDR:PORT" or "https://ADDR:PORT".
  std::string url() const;
  HttpServerStats stats() const noexcept;
  /// Idempotent graceful stop.
  void stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace m2mdm::server
