// One keep-alive DM connection of `m2mdm load` (load_connection.hpp): blocking Beast calls,
// bounded by SO_RCVTIMEO/SO_SNDTIMEO, TLS verified like the device agent's HttpTransport
// (chain, and the host name or IP address in the certificate).
#include "load_connection.hpp"

#include "m2mdm/client/http_transport.hpp"
#include "m2mdm/client/transport.hpp"
#include "m2mdm/syncml/beast_names.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <sys/socket.h>
#include <sys/time.h>

namespace m2mdm::cli::load {

using namespace beast_names;  // asio, beast, http, ssl, tcp

struct TlsTrust::Impl {
  ssl::context ctx{ssl::context::tls_client};
};

TlsTrust::TlsTrust() : impl_(std::make_unique<Impl>()) {}
TlsTrust::~TlsTrust() = default;

std::expected<std::shared_ptr<TlsTrust>, std::string> TlsTrust::create(const std::vector<std::string>& ca_files) {
  std::shared_ptr<TlsTrust> trust(new TlsTrust());
  SSL_CTX* ctx = trust->impl_->ctx.native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) return std::unexpected("cannot require TLS 1.2");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (ca_files.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) return std::unexpected("cannot load the system CA store");
  }
  for (const auto& file : ca_files)
    if (SSL_CTX_load_verify_locations(ctx, file.c_str(), nullptr) != 1) return std::unexpected("cannot load CA file " + file);
  return trust;
}

void TlsTicket::Free::operator()(SSL_SESSION* s) const noexcept { SSL_SESSION_free(s); }

void TlsTicket::save(SSL* ssl) {
  std::unique_ptr<SSL_SESSION, Free> s(SSL_get1_session(ssl));
  if (s != nullptr && SSL_SESSION_is_resumable(s.get()) != 1) return;
  session_ = std::move(s);
}

namespace {

std::string strip_media_type(std::string_view v) {
  v = v.substr(0, v.find(';'));
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return std::string(v);
}

LoadFailure failure(std::string kind, const beast::error_code& ec) {
  if (ec == asio::error::would_block || ec == asio::error::try_again || ec == asio::error::timed_out)
    return {"timeout", ec.message()};
  return {std::move(kind), ec.message()};
}

}  // namespace

struct DmConnection::Impl {
  std::shared_ptr<TlsTrust> trust;
  std::chrono::milliseconds timeout;
  asio::io_context ioc;
  std::unique_ptr<tcp::socket> plain;
  std::unique_ptr<ssl::stream<tcp::socket>> secure;
  bool resumed = false;  // of the last TLS handshake
  std::string scheme_host_port;  // of the open connection
  beast::flat_buffer buffer;
  TlsTicket* ticket = nullptr;

  tcp::socket& socket() { return secure ? secure->next_layer() : *plain; }

  void set_timeouts(tcp::socket& s) const {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    (void)::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  std::expected<void, LoadFailure> open(const client::HttpUrl& url) {
    close();
    resumed = false;
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    const auto endpoints = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec) return std::unexpected(failure("resolve", ec));
    tcp::socket s(ioc);
    asio::connect(s, endpoints, ec);
    if (ec) return std::unexpected(failure("connect", ec));
    s.set_option(tcp::no_delay(true), ec);
    set_timeouts(s);
    if (!url.tls) {
      plain = std::make_unique<tcp::socket>(std::move(s));
    } else {
      secure = std::make_unique<ssl::stream<tcp::socket>>(std::move(s), trust->impl().ctx);
      SSL* handle = secure->native_handle();
      asio::ip::make_address(url.host, ec);
      if (!ec) {  // an IP literal: no SNI, the address must be in an iPAddress SAN (RFC 6125)
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), url.host.c_str()) != 1)
          return std::unexpected(LoadFailure{"tls", "bad address " + url.host});
      } else if (SSL_ctrl(handle, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                          const_cast<char*>(url.host.c_str())) != 1 ||
                 SSL_set1_host(handle, url.host.c_str()) != 1) {
        return std::unexpected(LoadFailure{"tls", "bad host " + url.host});
      }
      if (ticket != nullptr && ticket->session() != nullptr)
        (void)SSL_set_session(handle, ticket->session());  // a stale one: the server does a full handshake
      ec = {};
      secure->handshake(ssl::stream_base::client, ec);
      if (ec) {
        close();
        return std::unexpected(failure("tls", ec));
      }
      resumed = SSL_session_reused(handle) == 1;
    }
    scheme_host_port = url.origin();
    return {};
  }

  void close() {
    beast::error_code ec;
    if (secure) {
      // TLS 1.3 tickets arrive after the handshake, read with the first response: saved now.
      if (ticket != nullptr) ticket->save(secure->native_handle());
      (void)SSL_shutdown(secure->native_handle());  // sends close_notify; the peer's is not awaited
      secure->next_layer().close(ec);
      secure.reset();
    }
    if (plain) {
      plain->shutdown(tcp::socket::shutdown_both, ec);
      plain->close(ec);
      plain.reset();
    }
    buffer.clear();
    scheme_host_port.clear();
  }

  template <class Stream>
  std::expected<DmHttpReply, LoadFailure> exchange(Stream& stream, const client::HttpUrl& url,
                                                   const client::Outgoing& msg) {
    http::request<http::vector_body<std::uint8_t>> req{http::verb::post, url.target, 11};
    std::string host = url.host;
    if (url.port != (url.tls ? 443 : 80)) host += ":" + std::to_string(url.port);
    req.set(http::field::host, host);
    req.set(http::field::user_agent, "m2mdm-load");
    req.set(http::field::content_type, msg.content_type);
    req.set(http::field::accept, std::string(client::kSyncmlDmXml) + ", " + std::string(client::kSyncmlDmWbxml));
    if (msg.hmac_header) req.set("x-syncml-hmac", *msg.hmac_header);
    req.body() = msg.body;
    req.keep_alive(true);
    req.prepare_payload();
    beast::error_code ec;
    http::write(stream, req, ec);
    if (ec) return std::unexpected(failure("io", ec));
    http::response_parser<http::vector_body<std::uint8_t>> parser;
    parser.body_limit(16 * 1024 * 1024);
    http::read(stream, buffer, parser, ec);
    if (ec) return std::unexpected(failure("io", ec));
    auto& res = parser.get();
    if (res.result_int() != 200)
      return std::unexpected(LoadFailure{"http_" + std::to_string(res.result_int()), std::string(res.reason())});
    DmHttpReply reply;
    reply.content_type = strip_media_type(res[http::field::content_type]);
    reply.body = std::move(res.body());
    if (auto it = res.find("x-syncml-hmac"); it != res.end()) reply.hmac_header = std::string(it->value());
    if (!res.keep_alive()) close();
    return reply;
  }
};

DmConnection::DmConnection(std::shared_ptr<TlsTrust> trust, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->trust = std::move(trust);
  impl_->timeout = timeout;
}

DmConnection::~DmConnection() { impl_->close(); }

std::expected<DmHttpReply, LoadFailure> DmConnection::post(const client::Outgoing& msg, PostInfo& info) {
  info = {};
  auto url = client::parse_http_url(msg.uri);
  if (!url) return std::unexpected(LoadFailure{"url", "bad URL " + msg.uri});
  const std::string key = url->origin();
  if (!is_open() || key != impl_->scheme_host_port) {
    if (url->tls && !impl_->trust) return std::unexpected(LoadFailure{"tls", "no TLS trust"});
    const auto start = std::chrono::steady_clock::now();
    if (auto r = impl_->open(*url); !r) return std::unexpected(r.error());
    info.connected = true;
    info.resumed = impl_->resumed;
    info.connect_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  auto reply = impl_->secure ? impl_->exchange(*impl_->secure, *url, msg) : impl_->exchange(*impl_->plain, *url, msg);
  if (!reply) impl_->close();
  return reply;
}

void DmConnection::close() { impl_->close(); }

void DmConnection::use_ticket(TlsTicket* ticket) noexcept { impl_->ticket = ticket; }

bool DmConnection::is_open() const noexcept { return impl_->secure != nullptr || impl_->plain != nullptr; }

}  // namespace m2mdm::cli::load
