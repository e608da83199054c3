// The Boost.Beast adapter: accepts TCP (optionally TLS) connections, reads HTTP/1.1 requests
// within limits and timeouts, hands them to an HttpHandler as plain structs and writes the
// responses back (keep-alive). One io_context, N threads; each connection is its own strand.
#include "m2mdm/server/http_server.hpp"

#include "http/http_framing.hpp"
#include "m2mdm/server/error.hpp"

#include "m2mdm/syncml/beast_names.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <functional>
#include <thread>

namespace m2mdm::server {
namespace {

using namespace beast_names;  // asio, beast, http, ssl, tcp

struct Shared {
  HttpServerOptions options;
  HttpHandler* handler = nullptr;
  asio::io_context* handlers = nullptr;  ///< runs HttpHandler::handle (owned by HttpServer::Impl)
  std::atomic<std::size_t> active{0};
  std::atomic<std::size_t> in_flight{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> contained_exceptions{0};
  std::atomic<bool> stopping{false};
};

using http_framing::to_beast;
using http_framing::to_plain;

http::response<http::string_body> canned(int status, std::string_view text, unsigned version = 11) {
  HttpResponse r = HttpResponse::json_error(status, text);
  return to_beast(std::move(r), version, false);
}

/// One connection. Stream = beast::tcp_stream or beast::ssl_stream<beast::tcp_stream>.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(std::shared_ptr<Shared> shared, Stream stream, std::string peer, bool tls)
      : shared_(std::move(shared)),
        stream_(std::move(stream)),
        peer_(std::move(peer)),
        tls_(tls),
        buffer_(http_framing::read_buffer_limit(shared_->options)) {}
  ~Session() { shared_->active.fetch_sub(1); }

  void start() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      read(shared_->options.header_timeout);
    } else {
      beast::get_lowest_layer(stream_).expires_after(shared_->options.header_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) {
                                  spdlog::debug("http: TLS handshake with {} failed: {}", self->peer_, ec.message());
                                  return;
                                }
                                self->read(self->shared_->options.header_timeout);
                              });
    }
  }

 private:
  void read(std::chrono::milliseconds header_timeout) {
    if (shared_->stopping) return close();
    parser_.emplace();
    http_framing::configure(*parser_, shared_->options, chunk_guard_);
    beast::get_lowest_layer(stream_).expires_after(header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    beast::get_lowest_layer(stream_).expires_after(shared_->options.read_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code e, std::size_t) {
      self->on_body(e);
    });
  }

  void on_read_error(beast::error_code ec) {
    if (auto refusal = http_framing::refusal_for(ec)) return reply_and_close(refusal->status, refusal->text);
    spdlog::debug("http: read from {} ended: {}", peer_, ec.message());
    close();
  }

  void on_body(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    auto req = std::make_shared<http::request<http::string_body>>(parser_->release());
    const bool keep = req->keep_alive() && !shared_->stopping;
    shared_->in_flight.fetch_add(1);
    // The handler runs on the handler pool; its response comes back to this connection's strand.
    asio::post(*shared_->handlers, [self = this->shared_from_this(), req, keep] {
      auto res = std::make_shared<http::response<http::string_body>>(
          to_beast(self->call_handler(*req), req->version(), keep));
      asio::post(self->stream_.get_executor(), [self, res, keep] { self->write(res, keep, true); });
    });
  }

  /// The handler's response; an exception from it is contained here (500, counted).
  HttpResponse call_handler(const http::request<http::string_body>& req) {
    try {
      return shared_->handler->handle(to_plain(req, peer_, tls_));
    } catch (const std::exception& e) {
      shared_->contained_exceptions.fetch_add(1);
      spdlog::error("http: handler threw: {}", e.what());
    } catch (...) {
      shared_->contained_exceptions.fetch_add(1);
      spdlog::error("http: handler threw a non-standard exception");
    }
    return HttpResponse::json_error(500, "internal error");
  }

  void reply_and_close(int status, std::string_view text) {
    write(std::make_shared<http::response<http::string_body>>(canned(status, text)), false, false);
  }

  void write(std::shared_ptr<http::response<http::string_body>> res, bool keep, bool counted) {
    beast::get_lowest_layer(stream_).expires_after(shared_->options.write_timeout);
    http::async_write(stream_, *res, [self = this->shared_from_this(), res, keep, counted](beast::error_code ec, std::size_t) {
      if (counted) self->shared_->in_flight.fetch_sub(1);
      if (ec || !keep) return self->close();
      self->read(self->shared_->options.idle_timeout);
    });
  }

  void close() {
    beast::error_code ignored;
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    } else {
      // No TLS close_notify round trip: it could hang on a misbehaving peer.
      beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
  }

  std::shared_ptr<Shared> shared_;
  Stream stream_;
  std::string peer_;
  bool tls_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  // Refuses oversized chunk extensions (the parser keeps a reference: it lives as long as we do).
  http_framing::ChunkHeaderGuard chunk_guard_ = http_framing::chunk_header_guard();
};

/// Runs the I/O loop until it stops. An exception thrown inside a completion handler (ours, or
/// Beast's own parser throwing mid-read) propagates out of io_context::run(); it is counted and
/// the loop resumes (Asio allows run() again without restart()). The handler that threw was
/// destroyed during unwinding, and with it its connection's last reference: that connection
/// closes, every other one goes on.
void run_contained(asio::io_context& ioc, Shared& shared) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      shared.contained_exceptions.fetch_add(1);
      spdlog::error("http: exception on a connection (connection closed, server continues): {}", e.what());
    } catch (...) {
      shared.contained_exceptions.fetch_add(1);
      spdlog::error("http: non-standard exception on a connection (connection closed, server continues)");
    }
  }
}

}  // namespace

struct HttpServer::Impl {
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  asio::io_context ioc;
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  asio::io_context handlers;  ///< the handler pool: its own loop, run by handler_threads threads
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> handlers_work;
  std::vector<std::thread> handler_threads;
  std::uint16_t port = 0;
  std::atomic<bool> stopped{false};

  void accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
        spdlog::warn("http: accept failed: {}", ec.message());
        return accept();
      }
      on_accept(std::move(socket));
      accept();
    });
  }

  void on_accept(tcp::socket socket) {
    beast::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    std::string peer = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
    // No Nagle: a response leaves in more than one write (TLS records, headers and body), and
    // holding the last one back until the client ACKs the first meets the client's delayed ACK
    // (~40 ms per exchange on Linux).
    socket.set_option(tcp::no_delay(true), ec);
    shared->accepted.fetch_add(1);
    if (shared->active.fetch_add(1) >= shared->options.max_connections) {
      shared->active.fetch_sub(1);
      shared->rejected.fetch_add(1);
      // Over the cap: a best-effort plain 503 (on TLS listeners the bytes are not TLS, so the
      // client just sees the connection fail), then close.
      auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
      auto res = std::make_shared<http::response<http::string_body>>(canned(503, "too many connections"));
      stream->expires_after(std::chrono::seconds(2));
      if (tls) {
        stream->socket().close(ec);
        return;
      }
      http::async_write(*stream, *res, [stream, res](beast::error_code, std::size_t) {
        beast::error_code ignored;
        stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      });
      return;
    }
    if (tls) {
      auto s = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
          shared, beast::ssl_stream<beast::tcp_stream>(std::move(socket), *tls), std::move(peer), true);
      s->start();
    } else {
      auto s = std::make_shared<Session<beast::tcp_stream>>(shared, beast::tcp_stream(std::move(socket)),
                                                            std::move(peer), false);
      s->start();
    }
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpServerOptions& options, HttpHandler& handler) {
  auto impl = std::make_unique<Impl>();
  impl->shared->options = options;
  impl->shared->handler = &handler;
  if (options.body_limit == 0 || options.max_connections == 0) return fail(make_error_code(errc::config_error));

  if (options.tls) {
    impl->tls.emplace(ssl::context::tls_server);
    auto& ctx = *impl->tls;
    // TLS 1.2 minimum (RFC 8996 deprecates 1.0/1.1); no compression, no renegotiation.
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use |
                    ssl::context::no_compression);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    SSL_CTX_set_options(ctx.native_handle(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    // TLS 1.2 suites: forward secrecy + AEAD only (TLS 1.3 suites are OpenSSL's defaults).
    if (SSL_CTX_set_cipher_list(ctx.native_handle(),
                                "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                                "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256") != 1)
      return fail(make_error_code(errc::tls_error));
    beast::error_code ec;
    ctx.use_certificate_chain_file(options.tls->cert_chain.string(), ec);
    if (ec) {
      spdlog::error("http: cannot load certificate {}: {}", options.tls->cert_chain.string(), ec.message());
      return fail(make_error_code(errc::tls_error));
    }
    ctx.use_private_key_file(options.tls->private_key.string(), ssl::context::pem, ec);
    if (ec || SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
      spdlog::error("http: cannot load private key {} (or it does not match the certificate)",
                    options.tls->private_key.string());
      return fail(make_error_code(errc::tls_error));
    }
  }

  beast::error_code ec;
  auto addr = asio::ip::make_address(options.address, ec);
  if (ec) return fail(make_error_code(errc::config_error));
  tcp::endpoint ep{addr, options.port};
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    spdlog::error("http: cannot listen on {}:{}: {}", options.address, options.port, ec.message());
    return fail(make_error_code(errc::bind_failed));
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->accept();
  unsigned n = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  impl->shared->handlers = &impl->handlers;
  impl->handlers_work.emplace(impl->handlers.get_executor());
  for (unsigned i = 0, h = options.handler_threads ? options.handler_threads : 8 * n; i < h; ++i)
    impl->handler_threads.emplace_back([handlers = &impl->handlers, shared = impl->shared] {
      run_contained(*handlers, *shared);
    });
  for (unsigned i = 0; i < n; ++i)
    impl->threads.emplace_back([ioc = &impl->ioc, shared = impl->shared] { run_contained(*ioc, *shared); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

std::uint16_t HttpServer::port() const noexcept { return impl_->port; }

std::string HttpServer::url() const {
  std::string host = impl_->shared->options.address;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(impl_->tls ? "https" : "http") + "://" + host + ":" + std::to_string(impl_->port);
}

HttpServerStats HttpServer::stats() const noexcept {
  return {impl_->shared->active.load(), impl_->shared->accepted.load(), impl_->shared->rejected.load(),
          impl_->shared->contained_exceptions.load()};
}

void HttpServer::stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  impl_->shared->stopping = true;
  asio::post(impl_->ioc, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  // Drain: let requests being handled finish writing (bounded), then stop the loop.
  auto deadline = std::chrono::steady_clock::now() + impl_->shared->options.write_timeout;
  while (impl_->shared->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  // Handlers not started by now are dropped (their connections close with the loop); one
  // still running finishes, and its response is never written.
  impl_->handlers_work.reset();
  impl_->handlers.stop();
  for (auto& t : impl_->handler_threads)
    if (t.joinable()) t.join();
}

}  // namespace m2mdm::server
