// HttpTransport: HTTP/1.1 POSTs of DM messages on Boost.Beast over one kept connection, TLS 1.2+
// with chain, host name and SPKI pin checks (see m2mdm/client/http_transport.hpp). Each step runs as an
// asynchronous operation on a private io_context so that the tcp_stream timeouts apply; the
// caller sees a synchronous call.
#include "m2mdm/client/http_transport.hpp"

#include "m2mdm/client/error.hpp"
#include "m2mdm/syncml/beast_names.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <charconv>
#include <expected>
#include <optional>

namespace m2mdm::client {

using namespace beast_names;  // asio, beast, http, ssl, tcp

namespace {

constexpr std::size_t kHeaderLimit = 16 * 1024;

// Starts one asynchronous operation, runs the io_context until it completes, returns its error.
template <class Start>
beast::error_code run_op(asio::io_context& ioc, Start&& start) {
  std::optional<beast::error_code> result;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result.value_or(asio::error::operation_aborted);
}

std::error_code io_failure(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return make_error_code(errc::timed_out);
  return make_error_code(errc::transport_failed);
}

std::string strip_media_type(std::string_view v) {
  v = v.substr(0, v.find(';'));
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return std::string(v);
}

bool is_ip_literal(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// SHA-256 of the DER SubjectPublicKeyInfo of @p cert.
std::optional<Bytes> spki_sha256_of(X509* cert) {
  X509_PUBKEY* pub = X509_get_X509_PUBKEY(cert);
  if (pub == nullptr) return std::nullopt;
  const int len = i2d_X509_PUBKEY(pub, nullptr);
  if (len <= 0) return std::nullopt;
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  if (i2d_X509_PUBKEY(pub, &p) != len) return std::nullopt;
  Bytes md(SHA256_DIGEST_LENGTH);
  SHA256(der.data(), der.size(), md.data());
  return md;
}

}  // namespace

std::string HttpUrl::origin() const {
  return std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(port);
}

Result<HttpUrl> parse_http_url(std::string_view url) {
  HttpUrl out;
  if (url.starts_with("https://")) {
    out.tls = true;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return fail(errc::bad_url);
  }
  const std::size_t slash = url.find_first_of("/?");
  std::string_view authority = url.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (out.target.front() == '?') out.target.insert(out.target.begin(), '/');
  if (authority.empty() || authority.find('@') != std::string_view::npos) return fail(errc::bad_url);
  std::string_view port_text;
  if (authority.front() == '[') {  // IPv6 literal (RFC 3986 §3.2.2)
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail(errc::bad_url);
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail(errc::bad_url);
      port_text = rest.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return fail(errc::bad_url);
  for (char c : out.host)
    if (c <= ' ' || c == '/' || c == '\\' || static_cast<unsigned char>(c) >= 0x7F) return fail(errc::bad_url);
  out.port = out.tls ? 443 : 80;
  if (!port_text.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), v);
    if (ec != std::errc{} || p != port_text.data() + port_text.size() || v == 0 || v > 65535) return fail(errc::bad_url);
    out.port = static_cast<std::uint16_t>(v);
  }
  return out;
}

struct HttpTransport::Impl {
  HttpTransportOptions options;
  ssl::context ctx{ssl::context::tls_client};
  // The open connection, kept for the next message to the same scheme, host and port (HTTP/1.1
  // keep-alive, RFC 9112 §9.3): a DM session's messages share one TCP connection and one TLS
  // handshake. Closed when the server says so, on any error, and with the transport.
  asio::io_context ioc;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  std::string open_key;  ///< "https://host:port" of the open connection, "" when none
  beast::flat_buffer buffer;

  ~Impl() { close(); }

  http::request<http::vector_body<std::uint8_t>> make_request(const HttpUrl& url, const Outgoing& msg) const {
    http::request<http::vector_body<std::uint8_t>> req{http::verb::post, url.target, 11};
    std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    if (url.port != (url.tls ? 443 : 80)) host += ":" + std::to_string(url.port);
    req.set(http::field::host, host);
    req.set(http::field::user_agent, options.user_agent);
    req.set(http::field::content_type, msg.content_type);
    req.set(http::field::accept, std::string(kSyncmlDmXml) + ", " + std::string(kSyncmlDmWbxml));
    req.keep_alive(true);
    // DM_Security 1.2 §5.4: HMAC credentials travel in this header.
    if (msg.hmac_header) req.set("x-syncml-hmac", *msg.hmac_header);
    req.body() = msg.body;
    req.prepare_payload();
    return req;
  }

  /// An exchange that failed; @c retry when nothing of a response arrived on a connection that
  /// had served an earlier message (the server closed it while idle: the request was not taken).
  struct Failure {
    std::error_code error;
    bool retry = false;
  };

  // Writes the request and reads the bounded response on a connected (and secured) stream.
  template <class Stream>
  std::expected<HttpReply, Failure> exchange(Stream& stream, const HttpUrl& url, const Outgoing& msg, bool reused) {
    auto req = make_request(url, msg);
    beast::get_lowest_layer(stream).expires_after(options.io_timeout);
    if (auto ec = run_op(ioc, [&](auto h) { http::async_write(stream, req, std::move(h)); }))
      return std::unexpected(Failure{io_failure(ec), reused && ec != beast::error::timeout});
    http::response_parser<http::vector_body<std::uint8_t>> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(options.max_response_bytes);
    auto too_large = [](const beast::error_code& ec) {
      return ec == http::error::body_limit || ec == http::error::header_limit || ec == http::error::buffer_overflow;
    };
    if (auto ec = run_op(ioc, [&](auto h) { http::async_read_header(stream, buffer, parser, std::move(h)); })) {
      if (too_large(ec)) return std::unexpected(Failure{make_error_code(errc::response_too_large)});
      return std::unexpected(Failure{io_failure(ec), reused && !parser.got_some() && ec != beast::error::timeout});
    }
    // Boost 1.74's parser does not apply body_limit to a Content-Length body (its check
    // compares against a boost::optional and never fires), so check the declared length here;
    // chunked and read-to-EOF bodies are bounded by body_limit.
    if (const auto length = parser.content_length(); length && *length > options.max_response_bytes)
      return std::unexpected(Failure{make_error_code(errc::response_too_large)});
    if (auto ec = run_op(ioc, [&](auto h) { http::async_read(stream, buffer, parser, std::move(h)); })) {
      if (too_large(ec)) return std::unexpected(Failure{make_error_code(errc::response_too_large)});
      return std::unexpected(Failure{io_failure(ec)});
    }
    auto& res = parser.get();
    HttpReply reply;
    reply.status = res.result_int();
    reply.content_type = strip_media_type(res[http::field::content_type]);
    reply.body = std::move(res.body());
    if (auto it = res.find("x-syncml-hmac"); it != res.end()) reply.hmac_header = std::string(it->value());
    if (!res.keep_alive()) close();
    return reply;
  }

  void close() {
    beast::error_code ec;
    if (secure) {
      // Close politely but briefly: every reply is already complete.
      auto& lowest = beast::get_lowest_layer(*secure);
      lowest.expires_after(std::chrono::milliseconds(500));
      run_op(ioc, [&](auto h) { secure->async_shutdown(std::move(h)); });
      lowest.close();
      secure.reset();
    }
    if (plain) {
      plain->socket().shutdown(tcp::socket::shutdown_both, ec);
      plain->close();
      plain.reset();
    }
    buffer.clear();
    open_key.clear();
  }

  // Connects (and secures, and checks the pin) a new connection for @p url.
  Result<void> connect(const HttpUrl& url) {
    close();
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec) return fail(errc::transport_failed);

    if (!url.tls) {
      auto stream = std::make_unique<beast::tcp_stream>(ioc);
      stream->expires_after(options.connect_timeout);
      if (auto e = run_op(ioc, [&](auto h) { stream->async_connect(endpoints, std::move(h)); })) return fail(io_failure(e));
      stream->socket().set_option(tcp::no_delay(true), ec);  // requests leave in more than one write
      plain = std::move(stream);
    } else {
      auto stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc, ctx);
      SSL* ssl_handle = stream->native_handle();
      if (is_ip_literal(url.host)) {
        // RFC 6066 §3: no SNI for IP literals; RFC 6125: the address must be in an iPAddress SAN.
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), url.host.c_str()) != 1) return fail(errc::bad_url);
      } else {
        // SNI (SSL_set_tlsext_host_name, spelled out: the macro has an old-style cast).
        if (SSL_ctrl(ssl_handle, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                     const_cast<char*>(url.host.c_str())) != 1 ||
            SSL_set1_host(ssl_handle, url.host.c_str()) != 1)
          return fail(errc::bad_url);
      }
      auto& lowest = beast::get_lowest_layer(*stream);
      lowest.expires_after(options.connect_timeout);
      if (auto e = run_op(ioc, [&](auto h) { lowest.async_connect(endpoints, std::move(h)); })) return fail(io_failure(e));
      // No Nagle: TLS records of one request leave in separate writes (the last would wait for
      // the server's delayed ACK).
      lowest.socket().set_option(tcp::no_delay(true), ec);
      if (auto e = run_op(ioc, [&](auto h) { stream->async_handshake(ssl::stream_base::client, std::move(h)); })) {
        if (e == beast::error::timeout) return fail(errc::timed_out);
        return fail(errc::tls_handshake_failed);
      }
      if (options.spki_sha256) {
        X509* leaf = SSL_get0_peer_certificate(ssl_handle);
        const auto hash = leaf != nullptr ? spki_sha256_of(leaf) : std::nullopt;
        if (!hash || !constant_time_equal(*hash, *options.spki_sha256)) {
          lowest.close();
          return fail(errc::tls_pin_mismatch);
        }
      }
      secure = std::move(stream);
    }
    open_key = url.origin();
    return {};
  }

  Result<HttpReply> post(const Outgoing& msg) {
    auto url = parse_http_url(msg.uri);
    if (!url) return fail(url.error());
    // A pinned server is only ever reached over TLS.
    if (!url->tls && options.spki_sha256) return fail(errc::tls_pin_mismatch);
    const std::string key = url->origin();
    for (int attempt = 0;; ++attempt) {
      const bool reused = !open_key.empty() && open_key == key;
      if (!reused) {
        if (auto connected = connect(*url); !connected) return fail(connected.error());
      }
      auto reply = secure ? exchange(*secure, *url, msg, reused) : exchange(*plain, *url, msg, reused);
      if (reply) return std::move(*reply);
      close();
      // Once, on a fresh connection, when a kept one turned out closed before taking the request.
      if (!reply.error().retry || attempt > 0) return fail(reply.error().error);
    }
  }
};

HttpTransport::HttpTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpTransport::~HttpTransport() = default;

Result<std::unique_ptr<HttpTransport>> HttpTransport::create(HttpTransportOptions options) {
  if (options.spki_sha256 && options.spki_sha256->size() != SHA256_DIGEST_LENGTH) return fail(errc::invalid_argument);
  if (options.max_response_bytes == 0) return fail(errc::invalid_argument);
  auto impl = std::make_unique<Impl>();
  SSL_CTX* ctx = impl->ctx.native_handle();
  // TLS 1.2 or later only.
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) return fail(errc::io_error);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (options.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) return fail(errc::io_error);
  } else if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
    return fail(errc::io_error);
  }
  impl->options = std::move(options);
  return std::unique_ptr<HttpTransport>(new HttpTransport(std::move(impl)));
}

Result<HttpReply> HttpTransport::post(const Outgoing& message) { return impl_->post(message); }

const HttpTransportOptions& HttpTransport::options() const noexcept { return impl_->options; }

}  // namespace m2mdm::client
