// The Beast adapter over real loopback sockets: HTTP and HTTPS (TLS 1.2+ only, certificate
// from a test PKI), keep-alive, the body limit, the header timeout, the connection cap, and the
// REST router behind it (401 over the wire).
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/server/api.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/http_server.hpp"
#include "test_util.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <atomic>
#include <chrono>

namespace m2mdm::server {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using test::TempDir;

/// Answers every request with its method, target and body size; counts calls.
struct EchoHandler final : HttpHandler {
  std::atomic<int> calls{0};
  HttpResponse handle(const HttpRequest& r) override {
    ++calls;
    return HttpResponse::make(200, "text/plain",
                              r.method + " " + r.target + " " + std::to_string(r.body.size()) + (r.tls ? " tls" : ""));
  }
};

HttpServerOptions fast_options() {
  HttpServerOptions o;
  o.port = 0;
  o.threads = 2;
  o.header_timeout = std::chrono::milliseconds(300);
  o.read_timeout = std::chrono::milliseconds(1000);
  o.idle_timeout = std::chrono::milliseconds(500);
  return o;
}

http::response<http::string_body> roundtrip(tcp::socket& sock, http::request<http::string_body> req) {
  req.prepare_payload();
  http::write(sock, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(sock, buf, res);
  return res;
}

tcp::socket dial(asio::io_context& ioc, std::uint16_t port) {
  tcp::socket s(ioc);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  return s;
}

http::request<http::string_body> get(std::string target) {
  http::request<http::string_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  return req;
}

TEST(HttpServer, ServesRequestsWithKeepAliveOnAnEphemeralPort) {
  EchoHandler h;
  auto srv = HttpServer::start(fast_options(), h);
  ASSERT_TRUE(srv) << srv.error().message();
  ASSERT_NE((*srv)->port(), 0);
  EXPECT_EQ((*srv)->url(), "http://127.0.0.1:" + std::to_string((*srv)->port()));
  asio::io_context ioc;
  auto sock = dial(ioc, (*srv)->port());
  auto r1 = roundtrip(sock, get("/a?x=1"));
  EXPECT_EQ(r1.result_int(), 200);
  EXPECT_EQ(r1.body(), "GET /a?x=1 0");
  EXPECT_TRUE(r1.keep_alive());
  http::request<http::string_body> post{http::verb::post, "/b", 11};
  post.body() = std::string(1000, 'x');
  auto r2 = roundtrip(sock, post);  // same connection
  EXPECT_EQ(r2.body(), "POST /b 1000");
  EXPECT_EQ(h.calls.load(), 2);
  EXPECT_EQ((*srv)->stats().active_connections, 1u);
}

TEST(HttpServer, BodyOverTheLimitGets413) {
  EchoHandler h;
  auto o = fast_options();
  o.body_limit = 1024;
  auto srv = HttpServer::start(o, h);
  ASSERT_TRUE(srv);
  asio::io_context ioc;
  // The announced length alone is refused, before any body byte is read. (The body is not sent:
  // bytes left unread at close would make the kernel reset the connection.)
  auto sock = dial(ioc, (*srv)->port());
  asio::write(sock, asio::buffer(std::string_view("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n")));
  beast::flat_buffer buf;
  http::response<http::string_body> r;
  http::read(sock, buf, r);
  EXPECT_EQ(r.result_int(), 413);
  EXPECT_FALSE(r.keep_alive());
  EXPECT_EQ(h.calls.load(), 0);
  // Exactly at the limit is fine.
  auto sock2 = dial(ioc, (*srv)->port());
  http::request<http::string_body> post{http::verb::post, "/big", 11};
  post.body() = std::string(1024, 'x');
  EXPECT_EQ(roundtrip(sock2, post).result_int(), 200);
}

TEST(HttpServer, SilentClientIsDisconnectedAfterTheHeaderTimeout) {
  EchoHandler h;
  auto srv = HttpServer::start(fast_options(), h);
  ASSERT_TRUE(srv);
  asio::io_context ioc;
  auto sock = dial(ioc, (*srv)->port());
  asio::write(sock, asio::buffer(std::string_view("GET / HTTP/1.1\r\nHost: x\r\n")));  // headers never finish
  const auto start = std::chrono::steady_clock::now();
  char c;
  beast::error_code ec;
  sock.read_some(asio::buffer(&c, 1), ec);  // blocks until the server closes
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_LT(waited, std::chrono::seconds(5));
  EXPECT_EQ(h.calls.load(), 0);
}

TEST(HttpServer, ConnectionsBeyondTheCapGet503) {
  EchoHandler h;
  auto o = fast_options();
  o.max_connections = 2;
  o.idle_timeout = std::chrono::milliseconds(5000);
  o.header_timeout = std::chrono::milliseconds(5000);
  auto srv = HttpServer::start(o, h);
  ASSERT_TRUE(srv);
  asio::io_context ioc;
  auto a = dial(ioc, (*srv)->port());
  auto b = dial(ioc, (*srv)->port());
  EXPECT_EQ(roundtrip(a, get("/")).result_int(), 200);
  EXPECT_EQ(roundtrip(b, get("/")).result_int(), 200);
  auto c = dial(ioc, (*srv)->port());
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(c, buf, res);  // the server speaks first: 503 and close
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_EQ((*srv)->stats().rejected_connections, 1u);
  EXPECT_EQ(roundtrip(a, get("/")).result_int(), 200);  // the others are unaffected
}

TEST(HttpServer, MalformedRequestGets400AndBadAddressFails) {
  EchoHandler h;
  auto srv = HttpServer::start(fast_options(), h);
  ASSERT_TRUE(srv);
  asio::io_context ioc;
  auto sock = dial(ioc, (*srv)->port());
  asio::write(sock, asio::buffer(std::string_view("GET / HTTP/1.1\r\nHost x\r\n\r\n")));
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(sock, buf, res);
  EXPECT_EQ(res.result_int(), 400);
  auto o = fast_options();
  o.address = "not-an-address";
  EXPECT_FALSE(HttpServer::start(o, h));
  o = fast_options();
  o.port = (*srv)->port();  // taken
  auto clash = HttpServer::start(o, h);
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error(), make_error_code(errc::bind_failed));
}

struct Tls : ::testing::Test {
  TempDir dir;
  std::vector<mo::PkiFile> pki;
  void SetUp() override {
    auto p = mo::init_test_pki(dir.path() / "pki");
    ASSERT_TRUE(p) << p.error().message();
    pki = *p;
  }
  std::filesystem::path file(std::string_view name) {
    for (const auto& f : pki)
      if (f.name == name) return f.path;
    ADD_FAILURE() << name;
    return {};
  }
  HttpServerOptions tls_options() {
    auto o = fast_options();
    o.tls = TlsFiles{file("tls-cert"), file("tls-key")};
    return o;
  }
};

TEST_F(Tls, Tls12And13ClientsAreServedOldVersionsRefused) {
  EchoHandler h;
  auto srv = HttpServer::start(tls_options(), h);
  ASSERT_TRUE(srv) << srv.error().message();
  EXPECT_TRUE((*srv)->url().starts_with("https://127.0.0.1:"));
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    asio::io_context ioc;
    ssl::context ctx(ssl::context::tls_client);
    ctx.load_verify_file(file("tls-ca").string());
    ctx.set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), version);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), version);
    beast::ssl_stream<tcp::socket> stream(dial(ioc, (*srv)->port()), ctx);
    stream.handshake(ssl::stream_base::client);
    EXPECT_EQ(SSL_version(stream.native_handle()), version);
    auto req = get("/secure");
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    EXPECT_EQ(res.body(), "GET /secure 0 tls");
  }
  for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
    asio::io_context ioc;
    ssl::context ctx(ssl::context::tls_client);
    SSL_CTX_set_security_level(ctx.native_handle(), 0);  // let the client really offer the old version
    SSL_CTX_set_cipher_list(ctx.native_handle(), "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx.native_handle(), version);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), version);
    ctx.set_verify_mode(ssl::verify_none);
    beast::ssl_stream<tcp::socket> stream(dial(ioc, (*srv)->port()), ctx);
    beast::error_code ec;
    stream.handshake(ssl::stream_base::client, ec);
    EXPECT_TRUE(ec) << "TLS version " << version << " was accepted";
    // The client really offered the old version (the refusal came from the server).
    EXPECT_EQ(ec.message().find("no protocols available"), std::string::npos) << ec.message();
  }
  EXPECT_EQ(h.calls.load(), 2);
}

TEST_F(Tls, MissingOrMismatchedKeyIsATlsError) {
  EchoHandler h;
  auto o = tls_options();
  o.tls->private_key = file("sho-key");
  auto r = HttpServer::start(o, h);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::tls_error));
  o.tls->cert_chain = dir.path() / "missing.pem";
  EXPECT_EQ(HttpServer::start(o, h).error(), make_error_code(errc::tls_error));
}

TEST_F(Tls, RestRouterOverHttpsAnswers401WithoutTokenAnd200Healthz) {
  auto store = test::open_store(dir.path() / "m2mdm.sqlite");
  ASSERT_TRUE(store);
  Pva pva;
  ApiOptions ao;
  ao.admin_token_hash = hash_token("admin-token-0123456789");
  ApiRouter router(*store, pva, ao);
  auto srv = HttpServer::start(tls_options(), router);
  ASSERT_TRUE(srv);
  router.set_http_stats([s = srv->get()] { return s->stats(); });
  asio::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file(file("tls-ca").string());
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<tcp::socket> stream(dial(ioc, (*srv)->port()), ctx);
  stream.handshake(ssl::stream_base::client);
  auto ask = [&](http::request<http::string_body> req) {
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    return res;
  };
  EXPECT_EQ(ask(get("/api/v1/devices/x")).result_int(), 401);
  EXPECT_EQ(ask(get("/api/v1/whatever")).result_int(), 401);
  auto h = ask(get("/healthz"));
  EXPECT_EQ(h.result_int(), 200);
  EXPECT_EQ(h.body(), "ok\n");
  auto authed = get("/api/v1/shos");
  authed.set(http::field::authorization, "Bearer admin-token-0123456789");
  EXPECT_EQ(ask(authed).result_int(), 200);
  auto m = ask(get("/metrics"));
  EXPECT_NE(m.body().find("m2mdm_http_active_connections 1"), std::string::npos) << m.body();
}

}  // namespace
}  // namespace m2mdm::server
