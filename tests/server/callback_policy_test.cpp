// Hardening finding 6 (SSRF): an SHO's callback URL may not make the RO connect to link-local
// (cloud metadata), unspecified, multicast or broadcast addresses, nor to loopback or private
// networks when the operator forbids them — checked at registration for address literals and
// on every delivery for the addresses a name resolves to.
#include "m2mdm/server/api.hpp"
#include "m2mdm/server/callback_worker.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace m2mdm::server {
namespace {

TEST(CallbackPolicy, AddressClasses) {
  const AddressPolicy open{};                       // loopback and private allowed
  const AddressPolicy strict{false, false};
  for (const char* never : {"169.254.169.254", "169.254.0.1", "::ffff:169.254.169.254", "fe80::1", "0.0.0.0", "::",
                            "0.1.2.3", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1", "ff02::1",
                            "fec0::1", "not-an-address", "", "example.com"}) {
    EXPECT_FALSE(address_allowed(never, open)) << never;
  }
  for (const char* local : {"127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(address_allowed(local, open)) << local;
    EXPECT_FALSE(address_allowed(local, strict)) << local;
  }
  for (const char* priv : {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "fd00::1"}) {
    EXPECT_TRUE(address_allowed(priv, open)) << priv;
    EXPECT_FALSE(address_allowed(priv, strict)) << priv;
  }
  for (const char* global : {"8.8.8.8", "172.32.0.1", "192.0.2.10", "2001:db8::1", "::ffff:8.8.8.8"}) {
    EXPECT_TRUE(address_allowed(global, strict)) << global;
  }
  EXPECT_EQ(url_ip_literal("http://169.254.169.254/latest/meta-data"), "169.254.169.254");
  EXPECT_EQ(url_ip_literal("https://[fe80::1]:8443/cb"), "fe80::1");
  EXPECT_EQ(url_ip_literal("https://sho.example/cb"), std::nullopt);
}

TEST(CallbackPolicy, RegistrationRefusesForbiddenAddressLiterals) {
  test::TempDir dir;
  auto store = test::open_store(dir.path() / "s.sqlite");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create_sho("sho", hash_token("sho-token-0123456789"), 1));
  Pva pva;
  ApiOptions o;
  o.callback_policy = AddressPolicy{false, true};
  ApiRouter router(*store, pva, o, [] { return std::int64_t{1}; });
  const auto put = [&](const std::string& url) {
    HttpRequest r;
    r.method = "PUT";
    r.target = "/api/v1/callback";
    r.headers = {{"Authorization", "Bearer sho-token-0123456789"}, {"Content-Type", "application/json"}};
    r.body = R"({"url":")" + url + R"("})";
    return router.handle(r);
  };
  for (const char* bad : {"http://169.254.169.254/latest/meta-data", "http://[fe80::1]/cb", "http://0.0.0.0:8080/cb",
                          "https://127.0.0.1/cb", "http://[::ffff:169.254.169.254]/cb"}) {
    auto r = put(bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find("callbacks may not reach"), std::string::npos) << r.body;
  }
  EXPECT_EQ(put("https://sho.example/cb").status, 200);
  EXPECT_EQ(put("http://10.0.0.7:8080/cb").status, 200);
  EXPECT_EQ(store->get_sho(1)->callback_url, "http://10.0.0.7:8080/cb");
  // Not URLs a connection can be made to (found by scripts/fault_campaign.py): a 64-character
  // label, a name over 253 characters, user info, a fragment, spaces, bad ports, empty labels.
  for (const std::string& bad :
       {"http://" + std::string(64, 'a') + ".example/cb", "http://" + std::string(50, 'a') + "." + std::string(50, 'b') +
                                                              "." + std::string(50, 'c') + "." + std::string(50, 'd') +
                                                              "." + std::string(50, 'e') + ".example/cb",
        std::string("https://user:pw@sho.example/cb"), std::string("https://sho.example/cb#x"),
        std::string("https://sho example/cb"), std::string("https://sho.example:0/cb"),
        std::string("https://sho.example:65536/cb"), std::string("https://sho.example:/cb"),
        std::string("https://sho..example/cb"), std::string("https://-sho.example/cb"), std::string("https://[zz]/cb"),
        std::string("https:///cb")}) {
    auto r = put(bad);
    EXPECT_EQ(r.status, 400) << bad;
  }
  EXPECT_EQ(put("https://sho-1.example.:8443/cb?x=1").status, 200);
  EXPECT_EQ(put("https://[2001:db8::1]:8443/cb").status, 200);
  // A member named twice has no single meaning: refused (RFC 8259 §4).
  HttpRequest twice;
  twice.method = "PUT";
  twice.target = "/api/v1/callback";
  twice.headers = {{"Authorization", "Bearer sho-token-0123456789"}, {"Content-Type", "application/json"}};
  twice.body = R"({"url":"https://sho.example/a","url":"https://sho.example/b"})";
  auto r = router.handle(twice);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("twice"), std::string::npos) << r.body;
}

TEST(CallbackPolicy, DeliveryChecksTheResolvedAddresses) {
  // "localhost" passes registration (a name) but resolves to loopback: refused when loopback is
  // forbidden, before any connection is made (port 9 has nothing listening either way).
  auto r = post_json("http://localhost:9/cb", "{}", {}, std::chrono::milliseconds(2000), AddressPolicy{false, true});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("refused by the callback address policy"), std::string::npos) << r.error;
  auto open = post_json("http://127.0.0.1:9/cb", "{}", {}, std::chrono::milliseconds(2000), AddressPolicy{});
  EXPECT_EQ(open.error.find("policy"), std::string::npos) << open.error;  // allowed: fails at connect
}

}  // namespace
}  // namespace m2mdm::server
