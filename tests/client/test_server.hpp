// A tiny scripted HTTP(S) server for the client transport tests: real sockets on 127.0.0.1,
// Beast on the server side, TLS with certificates generated in the test (mo::issue_certificate).
// It serves a fixed number of connections from one thread, answering each request from a
// script (status, content type, body, x-syncml-hmac), or staying silent to provoke a timeout.
#pragma once

#include "m2mdm/mo/crypto_handles.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/syncml/beast_names.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace m2mdm::client::test {

using namespace beast_names;  // asio, beast, http, ssl, tcp

/// A CA and certificates issued by it, all in memory (PEM), plus the CA as a file.
struct TestPki {
  mo::PrivateKey ca_key;
  mo::Certificate ca;
  std::filesystem::path ca_file;

  static TestPki create(const std::filesystem::path& dir) {
    TestPki p;
    auto key = mo::PrivateKey::generate(mo::KeyType::ec_p256);
    EXPECT_TRUE(key);
    p.ca_key = *key;
    mo::CertSpec spec;
    spec.common_name = "transport test CA";
    spec.is_ca = true;
    spec.key_usage = "critical,keyCertSign,cRLSign";
    spec.not_before = now() - 3600;
    spec.not_after = now() + 86400;
    auto ca = mo::issue_certificate(spec, p.ca_key, nullptr, p.ca_key);
    EXPECT_TRUE(ca) << (ca ? "" : ca.error().message());
    p.ca = *ca;
    p.ca_file = dir / "ca.pem";
    std::ofstream(p.ca_file) << p.ca.to_pem();
    return p;
  }

  /// A server certificate for @p sans (e.g. "IP:127.0.0.1") valid in [from, to].
  std::pair<mo::Certificate, mo::PrivateKey> server_cert(std::vector<std::string> sans, std::int64_t from,
                                                         std::int64_t to) const {
    auto key = mo::PrivateKey::generate(mo::KeyType::ec_p256);
    EXPECT_TRUE(key);
    mo::CertSpec spec;
    spec.common_name = "dm.test";
    spec.subject_alt_names = std::move(sans);
    spec.key_usage = "critical,digitalSignature";
    spec.ext_key_usage = "serverAuth";
    spec.not_before = from;
    spec.not_after = to;
    auto cert = mo::issue_certificate(spec, *key, &ca, ca_key);
    EXPECT_TRUE(cert) << (cert ? "" : cert.error().message());
    return {*cert, *key};
  }

  static std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }
};

/// How the server answers.
struct Script {
  unsigned status = 200;
  std::string content_type = "application/vnd.syncml.dm+xml";
  std::string body = "<SyncML/>";
  std::optional<std::string> hmac;
  bool silent = false;            ///< read the request, never answer
  std::size_t body_repeat = 1;    ///< body sent this many times (oversized answers)
  /// Requests served on one connection (keep-alive) before the server closes it, without
  /// announcing it (as a server whose idle timeout ends does).
  int per_connection = 1;
};

/// TLS settings of the server.
struct TlsSetup {
  mo::Certificate cert;
  mo::PrivateKey key;
  int min_version = TLS1_2_VERSION;
  int max_version = 0;  ///< 0 = no maximum
};

/// What the server saw.
struct SeenRequest {
  std::string target;
  std::string content_type;
  std::string host;
  std::string body;
  std::optional<std::string> hmac;
};

class ScriptedServer {
 public:
  ScriptedServer(Script script, std::optional<TlsSetup> tls = std::nullopt, int connections = 1)
      : script_(std::move(script)), tls_(std::move(tls)), acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    if (tls_) {
      ctx_.emplace(ssl::context::tls_server);
      SSL_CTX* c = ctx_->native_handle();
      // Security level 0 so that an old protocol version can be offered at all.
      SSL_CTX_set_security_level(c, 0);
      SSL_CTX_set_min_proto_version(c, tls_->min_version);
      if (tls_->max_version != 0) SSL_CTX_set_max_proto_version(c, tls_->max_version);
      const std::string cert = tls_->cert.to_pem();
      const std::string key = tls_->key.to_pem();
      ctx_->use_certificate(asio::buffer(cert), ssl::context::pem);
      ctx_->use_private_key(asio::buffer(key), ssl::context::pem);
    }
    thread_ = std::thread([this, connections] { serve(connections); });
  }

  ~ScriptedServer() {
    {
      std::lock_guard lock(mu_);
      release_ = true;
    }
    cv_.notify_all();
    // Unblock a pending accept with a connection that closes at once.
    if (!finished_) {
      boost::system::error_code ec;
      asio::io_context io;
      tcp::socket s(io);
      s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port()), ec);
      s.close(ec);
    }
    thread_.join();
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url(std::string_view path = "/dm") const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }
  std::vector<SeenRequest> requests() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  int handshakes_failed() const {
    std::lock_guard lock(mu_);
    return handshakes_failed_;
  }

 private:
  // One request and its answer; false when no request came.
  template <class Stream>
  bool exchange(Stream& stream, beast::flat_buffer& buffer) {
    http::request<http::string_body> req;
    boost::system::error_code ec;
    http::read(stream, buffer, req, ec);
    if (ec) return false;
    {
      std::lock_guard lock(mu_);
      SeenRequest r;
      r.target = std::string(req.target());
      r.content_type = std::string(req[http::field::content_type]);
      r.host = std::string(req[http::field::host]);
      r.body = req.body();
      if (auto it = req.find("x-syncml-hmac"); it != req.end()) r.hmac = std::string(it->value());
      seen_.push_back(std::move(r));
    }
    if (script_.silent) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(20), [this] { return release_; });
      return false;
    }
    http::response<http::string_body> res{static_cast<http::status>(script_.status), 11};
    res.set(http::field::content_type, script_.content_type);
    if (script_.hmac) res.set("x-syncml-hmac", *script_.hmac);
    std::string body;
    for (std::size_t i = 0; i < script_.body_repeat; ++i) body += script_.body;
    res.body() = std::move(body);
    res.prepare_payload();
    http::write(stream, res, ec);
    return !ec;
  }

  template <class Stream>
  void serve_connection(Stream& stream) {
    beast::flat_buffer buffer;
    for (int n = 0; n < script_.per_connection && exchange(stream, buffer); ++n) {
    }
  }

  void serve(int connections) {
    for (int i = 0; i < connections; ++i) {
      boost::system::error_code ec;
      tcp::socket socket(ioc_);
      acceptor_.accept(socket, ec);
      if (ec) break;
      {
        std::lock_guard lock(mu_);
        if (release_) break;
      }
      if (!tls_) {
        serve_connection(socket);
        socket.shutdown(tcp::socket::shutdown_both, ec);
        continue;
      }
      beast::ssl_stream<tcp::socket> stream(std::move(socket), *ctx_);
      stream.handshake(ssl::stream_base::server, ec);
      if (ec) {
        std::lock_guard lock(mu_);
        ++handshakes_failed_;
        continue;
      }
      serve_connection(stream);
      stream.shutdown(ec);
    }
    finished_ = true;
  }

  Script script_;
  std::optional<TlsSetup> tls_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::optional<ssl::context> ctx_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool release_ = false;
  std::atomic<bool> finished_{false};
  std::vector<SeenRequest> seen_;
  int handshakes_failed_ = 0;
};

}  // namespace m2mdm::client::test
