// SHO callback delivery: a Beast HTTP(S) client (async operations so that every step is bounded
// by the timeout) and the outbox worker thread.
#include "m2mdm/server/callback_worker.hpp"

#include "m2mdm/syncml/beast_names.hpp"
#include "m2mdm/syncml/unix_clock.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <optional>

namespace m2mdm::server {
namespace {

using namespace beast_names;  // asio, beast, http, ssl, tcp

struct Url {
  bool tls = false;
  std::string host;  // without brackets
  std::string port;
  std::string target;
  std::string host_header;
};

std::optional<Url> parse_url(std::string_view u) {
  Url out;
  if (u.starts_with("http://")) {
    u.remove_prefix(7);
  } else if (u.starts_with("https://")) {
    out.tls = true;
    u.remove_prefix(8);
  } else {
    return std::nullopt;
  }
  const auto slash = u.find('/');
  std::string_view authority = u.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(u.substr(slash));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  out.host_header = std::string(authority);
  std::string_view port;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return std::nullopt;
      port = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return std::nullopt;
  if (port.empty()) {
    out.port = out.tls ? "443" : "80";
  } else {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc{} || p != port.data() + port.size() || v == 0 || v > 65535) return std::nullopt;
    out.port = std::string(port);
  }
  return out;
}

bool v4_allowed(const asio::ip::address_v4& a, const AddressPolicy& policy) {
  const auto b = a.to_bytes();
  const auto in = [&](std::uint8_t first, std::uint8_t second_lo, std::uint8_t second_hi) {
    return b[0] == first && b[1] >= second_lo && b[1] <= second_hi;
  };
  if (b[0] == 0 || b[0] >= 224) return false;                  // "this network", multicast, reserved, broadcast
  if (in(169, 254, 254)) return false;                         // link-local: the metadata service lives here
  if (b[0] == 127) return policy.allow_loopback;
  if (b[0] == 10 || in(172, 16, 31) || in(192, 168, 168) || in(100, 64, 127)) return policy.allow_private;
  return true;
}

bool address_allowed(const asio::ip::address& a, const AddressPolicy& policy) {
  if (a.is_v4()) return v4_allowed(a.to_v4(), policy);
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) return v4_allowed(asio::ip::make_address_v4(asio::ip::v4_mapped, v6), policy);
  if (v6.is_unspecified() || v6.is_multicast() || v6.is_link_local() || v6.is_site_local()) return false;
  if (v6.is_loopback()) return policy.allow_loopback;
  const auto b = v6.to_bytes();
  if ((b[0] & 0xfe) == 0xfc) return policy.allow_private;     // unique local fc00::/7
  return true;
}

/// One request over Stream (beast::tcp_stream or beast::ssl_stream<beast::tcp_stream>).
template <class Stream>
struct Exchange {
  Stream& stream;
  bool tls;
  std::chrono::milliseconds timeout;
  http::request<http::string_body> req;
  http::response<http::string_body> res;
  beast::flat_buffer buffer;
  HttpCallResult& out;

  void failed(const char* step, beast::error_code ec) { out.error = std::string(step) + ": " + ec.message(); }

  void start(const std::vector<tcp::endpoint>& endpoints) {
    beast::get_lowest_layer(stream).expires_after(timeout);
    beast::get_lowest_layer(stream).async_connect(endpoints, [this](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return failed("connect", ec);
      if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
        stream.async_handshake(ssl::stream_base::client, [this](beast::error_code hec) {
          if (hec) return failed("tls handshake", hec);
          write();
        });
      } else {
        write();
      }
    });
  }
  void write() {
    http::async_write(stream, req, [this](beast::error_code ec, std::size_t) {
      if (ec) return failed("write", ec);
      http::async_read(stream, buffer, res, [this](beast::error_code rec, std::size_t) {
        if (rec) return failed("read", rec);
        out.status = static_cast<int>(res.result_int());
        out.body = std::move(res.body());
        beast::error_code ignored;
        beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
      });
    });
  }
};

}  // namespace

bool address_allowed(std::string_view address, const AddressPolicy& policy) noexcept {
  boost::system::error_code ec;
  const auto a = asio::ip::make_address(std::string(address), ec);
  return !ec && address_allowed(a, policy);
}

std::optional<std::string> url_ip_literal(std::string_view url) {
  auto u = parse_url(std::string(url));
  if (!u) return std::nullopt;
  boost::system::error_code ec;
  (void)asio::ip::make_address(u->host, ec);
  if (ec) return std::nullopt;
  return u->host;
}

PostResult post_json(const std::string& url, const std::string& body, const std::vector<std::filesystem::path>& ca_files,
                     std::chrono::milliseconds timeout, std::optional<AddressPolicy> policy) {
  auto r = http_call({"POST", url, {}, "application/json", body}, ca_files, timeout, policy);
  return {r.status, std::move(r.error)};
}

HttpCallResult http_call(const HttpCall& call, const std::vector<std::filesystem::path>& ca_files,
                         std::chrono::milliseconds timeout, std::optional<AddressPolicy> policy) {
  HttpCallResult out;
  auto u = parse_url(call.url);
  if (!u) {
    out.error = "not an http(s) URL";
    return out;
  }
  try {  // Asio setup calls may throw; nothing escapes this function.
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto resolved = resolver.resolve(u->host, u->port, ec);
    if (ec) {
      out.error = "resolve: " + ec.message();
      return out;
    }
    // The policy applies to the addresses actually connected to (a name may resolve anywhere).
    std::vector<tcp::endpoint> endpoints;
    for (const auto& entry : resolved) {
      if (!policy || address_allowed(entry.endpoint().address(), *policy))
        endpoints.push_back(entry.endpoint());
      else if (out.error.empty())
        out.error = "address " + entry.endpoint().address().to_string() + " refused by the callback address policy";
    }
    if (endpoints.empty()) return out;
    out.error.clear();
    const http::verb verb = http::string_to_verb(call.method);
    if (verb == http::verb::unknown) {
      out.error = "unknown method " + call.method;
      return out;
    }
    http::request<http::string_body> req{verb, u->target, 11};
    req.set(http::field::host, u->host_header);
    req.set(http::field::user_agent, "m2mdm-ro");
    if (!call.content_type.empty()) req.set(http::field::content_type, call.content_type);
    for (const auto& [name, value] : call.headers) req.set(name, value);
    req.set(http::field::connection, "close");
    req.body() = call.body;
    if (verb != http::verb::get || !call.body.empty()) req.prepare_payload();
    if (!u->tls) {
      beast::tcp_stream stream(ioc);
      Exchange<beast::tcp_stream> x{stream, false, timeout, std::move(req), {}, {}, out};
      x.start(endpoints);
      ioc.run();
      return out;
    }
    ssl::context ctx(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ctx.set_verify_mode(ssl::verify_peer);
    if (ca_files.empty()) {
      ctx.set_default_verify_paths();
    } else {
      for (const auto& f : ca_files) {
        ctx.load_verify_file(f.string(), ec);
        if (ec) {
          out.error = "cannot load CA file " + f.string() + ": " + ec.message();
          return out;
        }
      }
    }
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    // RFC 6125 host check (IP literals match an iPAddress SAN) and SNI for names.
    stream.set_verify_callback(ssl::host_name_verification(u->host));
    if (u->host.find_first_not_of("0123456789.:") != std::string::npos)
      SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(u->host.c_str()));  // = SSL_set_tlsext_host_name (a C-cast macro)
    Exchange<beast::ssl_stream<beast::tcp_stream>> x{stream, true, timeout, std::move(req), {}, {}, out};
    x.start(endpoints);
    ioc.run();
    return out;
  } catch (const std::exception& e) {
    out.status = 0;
    out.error = e.what();
    return out;
  }
}

// ---------------------------------------------------------------- worker

CallbackWorker::CallbackWorker(Store& store, CallbackOptions options)
    : PollingWorker(options.poll), store_(store), options_(std::move(options)) {}

CallbackWorker::~CallbackWorker() { stop(); }

std::int64_t CallbackWorker::now() const { return unix_now(options_.clock); }

std::int64_t CallbackWorker::backoff(int attempts) const noexcept {
  const int shift = std::clamp(attempts - 1, 0, 30);
  const std::int64_t base = std::max<std::int64_t>(options_.retry_seconds, 1);
  if (shift >= 62 || base > (options_.max_retry_seconds >> shift)) return options_.max_retry_seconds;
  return std::min(options_.max_retry_seconds, base << shift);
}

std::size_t CallbackWorker::run_once() {
  auto due = store_.due_callbacks(now(), options_.batch);
  if (!due) {
    spdlog::warn("callbacks: cannot read the outbox: {}", due.error().message());
    return 0;
  }
  std::size_t acked = 0;
  for (const OutboxEntry& e : *due) {
    const PostResult r = post_json(e.url, e.body, options_.ca_files, options_.timeout, options_.address_policy);
    if (r.status >= 200 && r.status < 300) {
      if (auto m = store_.mark_callback_acked(e.id); !m) {
        spdlog::warn("callbacks: delivered {} but cannot mark it: {}", e.id, m.error().message());
        continue;  // delivered again later: the SHO must treat callbacks as idempotent (jobId)
      }
      ++acked;
      ++delivered_;
      spdlog::info("callbacks: {} delivered to {} ({}) after {} failed attempt(s)", e.id, e.url, r.status, e.attempts);
      continue;
    }
    ++failed_;
    const std::int64_t delay = backoff(e.attempts + 1);
    (void)store_.reschedule_callback(e.id, now() + delay);
    spdlog::warn("callbacks: {} to {} failed ({}); retry in {} s", e.id, e.url,
                 r.error.empty() ? "HTTP " + std::to_string(r.status) : r.error, delay);
  }
  return acked;
}

}  // namespace m2mdm::server
