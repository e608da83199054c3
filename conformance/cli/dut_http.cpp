// The device-facing HTTP listener of `m2mdm conformance` (Boost.Beast, plain HTTP/1.1).
#include "dut_http.hpp"

#include "m2mdm/syncml/beast_names.hpp"

#include <openssl/ssl.h>

#include <deque>
#include <vector>

namespace m2mdm::cli {

using namespace beast_names;  // asio, beast, http, ssl, tcp

namespace {
constexpr std::size_t kBodyLimit = 8 * 1024 * 1024;
constexpr auto kIoTimeout = std::chrono::seconds(30);
}  // namespace

struct DutHttp::Impl {
  // One connection, plain or TLS.
  struct Conn {
    Conn(tcp::socket s, ssl::context* tls) {
      if (tls) {
        secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(s), *tls);
      } else {
        plain = std::make_unique<beast::tcp_stream>(std::move(s));
      }
    }
    beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
    std::unique_ptr<beast::tcp_stream> plain;
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
  };
  struct Ready {
    std::shared_ptr<Conn> conn;
    http::request<http::string_body> req;
  };

  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::optional<ssl::context> tls;
  std::deque<Ready> ready;
  std::optional<Ready> current;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (ec) return;
      auto c = std::make_shared<Conn>(std::move(s), tls ? &*tls : nullptr);
      if (c->secure) {
        c->lowest().expires_after(kIoTimeout);
        c->secure->async_handshake(ssl::stream_base::server, [this, c](beast::error_code hec) {
          if (!hec) read(c);
        });
      } else {
        read(c);
      }
      accept();
    });
  }

  void read(const std::shared_ptr<Conn>& c) {
    c->parser.emplace();
    c->parser->body_limit(kBodyLimit);
    c->lowest().expires_after(kIoTimeout);
    auto done = [this, c](beast::error_code ec, std::size_t) {
      if (ec) {
        beast::error_code ignored;
        c->lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
        return;
      }
      ready.push_back(Ready{c, c->parser->release()});
    };
    if (c->secure) {
      http::async_read(*c->secure, c->buffer, *c->parser, std::move(done));
    } else {
      http::async_read(*c->plain, c->buffer, *c->parser, std::move(done));
    }
  }

  void answer(http::response<http::string_body> res) {
    if (!current) return;
    auto c = current->conn;
    const bool keep = current->req.keep_alive();
    res.version(current->req.version());
    res.keep_alive(keep);
    res.prepare_payload();
    current.reset();
    c->lowest().expires_after(kIoTimeout);
    beast::error_code ec;
    if (c->secure) {
      http::write(*c->secure, res, ec);
    } else {
      http::write(*c->plain, res, ec);
    }
    if (ec || !keep) {
      c->lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
      return;
    }
    read(c);
  }
};

DutHttp::DutHttp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DutHttp::~DutHttp() {
  if (impl_) {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  }
}

Result<std::unique_ptr<DutHttp>> DutHttp::listen(const std::string& address, std::uint16_t port,
                                                 const std::string& cert_chain, const std::string& private_key) {
  auto impl = std::make_unique<Impl>();
  beast::error_code ec;
  if (!cert_chain.empty()) {
    // TLS 1.2 minimum, as the RO server (server/src/http/http_server.cpp).
    impl->tls.emplace(ssl::context::tls_server);
    auto& ctx = *impl->tls;
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ctx.use_certificate_chain_file(cert_chain, ec);
    if (!ec) ctx.use_private_key_file(private_key, ssl::context::pem, ec);
    if (ec || SSL_CTX_check_private_key(ctx.native_handle()) != 1)
      return fail(std::make_error_code(std::errc::invalid_argument));
  }
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) return fail(std::make_error_code(std::errc::invalid_argument));
  const tcp::endpoint ep(ip, port);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(std::error_code(ec.value(), std::system_category()));
  impl->accept();
  return std::unique_ptr<DutHttp>(new DutHttp(std::move(impl)));
}

std::uint16_t DutHttp::port() const { return impl_->acceptor.local_endpoint().port(); }

std::optional<DutRequest> DutHttp::wait(std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  if (d.current) refuse(500);  // the caller did not answer the previous one
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (d.ready.empty()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    if (d.ioc.stopped()) d.ioc.restart();
    d.ioc.run_one_for(deadline - now);
  }
  d.current = std::move(d.ready.front());
  d.ready.pop_front();
  const auto& req = d.current->req;
  DutRequest out;
  out.target = std::string(req.target());
  out.content_type = std::string(req[http::field::content_type]);
  out.message.body.assign(req.body().begin(), req.body().end());
  if (const auto it = req.find("x-syncml-hmac"); it != req.end()) out.message.hmac = std::string(it->value());
  if (req.method() != http::verb::post) {
    refuse(405);
    return wait(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
  }
  return out;
}

void DutHttp::respond(const conformance::ServerMessage& message) {
  http::response<http::string_body> res{http::status::ok, 11};
  res.set(http::field::content_type, message.content_type);
  if (message.hmac) res.set("x-syncml-hmac", *message.hmac);
  res.body().assign(message.body.begin(), message.body.end());
  impl_->answer(std::move(res));
}

void DutHttp::refuse(int status) {
  http::response<http::string_body> res{static_cast<http::status>(status), 11};
  impl_->answer(std::move(res));
}

}  // namespace m2mdm::cli
