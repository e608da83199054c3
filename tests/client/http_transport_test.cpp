// HttpTransport over real loopback sockets against a scripted Beast server: HTTP and HTTPS
// (TLS with certificates made in the test), the bootstrap's public-key pin, expired and
// wrong-name certificates, a TLS 1.0-only server, oversized answers, timeouts, URL parsing.
#include "test_server.hpp"

#include "m2mdm/client/error.hpp"
#include "m2mdm/client/http_transport.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

namespace m2mdm::client {
namespace {

namespace fs = std::filesystem;
using test::Script;
using test::ScriptedServer;
using test::TestPki;
using test::TlsSetup;

class HttpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("m2mdm-transport-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    pki_ = TestPki::create(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  TlsSetup good_tls() const {
    auto [cert, key] = pki_.server_cert({"IP:127.0.0.1", "DNS:localhost"}, TestPki::now() - 60, TestPki::now() + 3600);
    return TlsSetup{cert, key};
  }

  std::unique_ptr<HttpTransport> transport(std::optional<Bytes> pin = std::nullopt,
                                           std::chrono::milliseconds io = std::chrono::milliseconds(5000),
                                           std::size_t max = 1024 * 1024) const {
    HttpTransportOptions o;
    o.ca_file = pki_.ca_file;
    o.spki_sha256 = std::move(pin);
    o.connect_timeout = std::chrono::milliseconds(5000);
    o.io_timeout = io;
    o.max_response_bytes = max;
    auto t = HttpTransport::create(std::move(o));
    EXPECT_TRUE(t) << (t ? "" : t.error().message());
    return t ? std::move(*t) : nullptr;
  }

  static Outgoing message(std::string uri) {
    Outgoing m;
    m.uri = std::move(uri);
    m.content_type = std::string(kSyncmlDmXml);
    m.body = Bytes{'<', 'S', 'y', 'n', 'c', 'M', 'L', '/', '>'};
    return m;
  }

  fs::path dir_;
  TestPki pki_;
};

TEST_F(HttpTransportTest, PlainHttpPostCarriesBodyTypeAndHmacBothWays) {
  Script s;
  s.body = "<SyncML>reply</SyncML>";
  s.content_type = "application/vnd.syncml.dm+wbxml; charset=x";
  s.hmac = "algorithm=MD5, username=\"srv\", mac=abc=";
  ScriptedServer server(s);
  auto t = transport();
  auto m = message(server.url("/dm?x=1"));
  m.hmac_header = "algorithm=MD5, username=\"dev\", mac=xyz=";
  auto r = t->post(m);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->content_type, "application/vnd.syncml.dm+wbxml");
  EXPECT_EQ(std::string(as_chars(r->body)), "<SyncML>reply</SyncML>");
  ASSERT_TRUE(r->hmac_header);
  EXPECT_EQ(*r->hmac_header, *s.hmac);
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/dm?x=1");
  EXPECT_EQ(seen[0].content_type, kSyncmlDmXml);
  EXPECT_EQ(seen[0].body, "<SyncML/>");
  EXPECT_EQ(seen[0].host, "127.0.0.1:" + std::to_string(server.port()));
  ASSERT_TRUE(seen[0].hmac);
  EXPECT_EQ(*seen[0].hmac, *m.hmac_header);
}

// The messages of one transport (one DM session) share a connection: one TLS handshake. The
// server takes a single connection, so a second one would never be answered.
TEST_F(HttpTransportTest, MessagesShareOneKeptConnection) {
  auto tls = good_tls();
  Script s;
  s.per_connection = 3;
  ScriptedServer server(s, tls, /*connections=*/1);
  auto t = transport(tls.cert.spki_sha256(), std::chrono::milliseconds(3000));
  for (int i = 0; i < 3; ++i) {
    auto r = t->post(message(server.url()));
    ASSERT_TRUE(r) << "message " << i << ": " << r.error().message();
    EXPECT_EQ(r->status, 200u);
  }
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.handshakes_failed(), 0);
}

// A kept connection the server closed while idle (before taking the next request) is replaced
// once, transparently; the request reaches the server exactly once.
TEST_F(HttpTransportTest, KeptConnectionClosedByTheServerIsReplacedOnce) {
  Script s;
  s.per_connection = 1;  // closes after each answer without saying so
  ScriptedServer server(s, std::nullopt, /*connections=*/2);
  auto t = transport();
  auto first = t->post(message(server.url("/dm?n=1")));
  ASSERT_TRUE(first) << first.error().message();
  auto second = t->post(message(server.url("/dm?n=2")));
  ASSERT_TRUE(second) << second.error().message();
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].target, "/dm?n=1");
  EXPECT_EQ(seen[1].target, "/dm?n=2");
}

TEST_F(HttpTransportTest, HttpsWithTheRightPinSucceeds) {
  auto tls = good_tls();
  const Bytes pin = tls.cert.spki_sha256();
  ScriptedServer server(Script{}, tls);
  auto t = transport(pin);
  auto r = t->post(message(server.url()));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(HttpTransportTest, HttpsWithoutPinVerifiesTheChainOnly) {
  ScriptedServer server(Script{}, good_tls());
  auto r = transport()->post(message(server.url()));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 200u);
}

TEST_F(HttpTransportTest, WrongPinIsRefusedBeforeAnythingIsSent) {
  auto tls = good_tls();
  auto other = pki_.server_cert({"IP:127.0.0.1"}, TestPki::now() - 60, TestPki::now() + 3600);
  ScriptedServer server(Script{}, tls);
  auto r = transport(other.first.spki_sha256())->post(message(server.url()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::tls_pin_mismatch));
  EXPECT_TRUE(server.requests().empty()) << "the message reached a server whose key is not the pinned one";
}

TEST_F(HttpTransportTest, PinnedServerIsNeverReachedOverPlainHttp) {
  ScriptedServer server(Script{});
  auto r = transport(Bytes(32, 0xAB))->post(message(server.url()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::tls_pin_mismatch));
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpTransportTest, ExpiredCertificateIsRefused) {
  auto [cert, key] = pki_.server_cert({"IP:127.0.0.1"}, TestPki::now() - 7200, TestPki::now() - 3600);
  ScriptedServer server(Script{}, TlsSetup{cert, key});
  // Even with the right pin: the chain must verify too.
  auto r = transport(cert.spki_sha256())->post(message(server.url()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::tls_handshake_failed));
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpTransportTest, CertificateForAnotherHostIsRefused) {
  auto [cert, key] = pki_.server_cert({"DNS:other.example"}, TestPki::now() - 60, TestPki::now() + 3600);
  ScriptedServer server(Script{}, TlsSetup{cert, key});
  auto r = transport()->post(message(server.url()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::tls_handshake_failed));
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpTransportTest, CertificateFromAnUnknownCaIsRefused) {
  TestPki stranger = TestPki::create(dir_ / ".." / (dir_.filename().string() + "-stranger"));
  auto [cert, key] = stranger.server_cert({"IP:127.0.0.1"}, TestPki::now() - 60, TestPki::now() + 3600);
  ScriptedServer server(Script{}, TlsSetup{cert, key});
  auto r = transport()->post(message(server.url()));
  fs::remove(stranger.ca_file);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::tls_handshake_failed));
}

TEST_F(HttpTransportTest, ServerOfferingOnlyTls10IsRefused) {
  auto tls = good_tls();
  tls.min_version = TLS1_VERSION;
  tls.max_version = TLS1_VERSION;
  ScriptedServer server(Script{}, tls);
  auto r = transport(tls.cert.spki_sha256())->post(message(server.url()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::tls_handshake_failed));
  EXPECT_TRUE(server.requests().empty());
  // The server notices the failed handshake after the client gave up: wait for it (bounded).
  for (int i = 0; i < 500 && server.handshakes_failed() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(server.handshakes_failed(), 1) << "the server did not even see a TLS 1.0 handshake attempt";
}

TEST_F(HttpTransportTest, OversizedResponseIsRefused) {
  Script s;
  s.body = std::string(1024, 'x');
  s.body_repeat = 200;  // 200 KiB against a 64 KiB limit
  ScriptedServer server(s);
  auto r = transport(std::nullopt, std::chrono::milliseconds(5000), 64 * 1024)->post(message(server.url()));
  ASSERT_FALSE(r) << "accepted " << r->body.size() << " bytes";
  EXPECT_EQ(r.error(), make_error_code(errc::response_too_large));
}

TEST_F(HttpTransportTest, ResponseAtTheLimitIsAccepted) {
  Script s;
  s.body = std::string(1024, 'y');
  s.body_repeat = 64;
  ScriptedServer server(s);
  auto r = transport(std::nullopt, std::chrono::milliseconds(5000), 64 * 1024)->post(message(server.url()));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->body.size(), 64u * 1024u);
}

TEST_F(HttpTransportTest, SilentServerTimesOut) {
  Script s;
  s.silent = true;
  ScriptedServer server(s);
  const auto start = std::chrono::steady_clock::now();
  auto r = transport(std::nullopt, std::chrono::milliseconds(300))->post(message(server.url()));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::timed_out));
  EXPECT_LT(took, std::chrono::seconds(10)) << "the read timeout did not end the wait";
}

TEST_F(HttpTransportTest, ConnectionRefusedIsATransportError) {
  std::uint16_t port = 0;
  {
    ScriptedServer server(Script{}, std::nullopt, 0);
    port = server.port();
  }
  auto r = transport()->post(message("http://127.0.0.1:" + std::to_string(port) + "/dm"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::transport_failed));
}

TEST_F(HttpTransportTest, Non200StatusIsReturnedToTheCaller) {
  Script s;
  s.status = 503;
  ScriptedServer server(s);
  auto r = transport()->post(message(server.url()));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503u);
}

TEST(HttpUrl, ParsesAndRefuses) {
  auto u = parse_http_url("https://dm.example:8443/dm/x?y=1");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "dm.example");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/dm/x?y=1");
  u = parse_http_url("http://[::1]/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 80);
  u = parse_http_url("https://h");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/");
  for (const char* bad : {"ftp://h/", "http://", "http://:80/", "http://h:0/", "http://h:65536/", "http://u@h/",
                          "http://h:8x/", "https://[::1/", "http://h h/"}) {
    EXPECT_FALSE(parse_http_url(bad)) << bad;
  }
}

TEST(HttpTransportCreate, RefusesBadPinAndMissingCaFile) {
  HttpTransportOptions o;
  o.spki_sha256 = Bytes(31, 0);
  EXPECT_EQ(HttpTransport::create(o).error(), make_error_code(errc::invalid_argument));
  HttpTransportOptions o2;
  o2.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(HttpTransport::create(o2).error(), make_error_code(errc::io_error));
}

}  // namespace
}  // namespace m2mdm::client
