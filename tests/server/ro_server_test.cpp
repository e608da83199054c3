// RoServer embedded in-process (what `m2mdm demo` will use): starts from a ServerConfig on an
// ephemeral port, creates the admin token, derives the DRF pin from a PEM, serves /healthz over
// real loopback HTTP, bootstraps a device through its router (UDP push received), stops
// idempotently, and a second start on the same state directory keeps the state.
#include "m2mdm/bootstrap/builder.hpp"
#include "m2mdm/bootstrap/wsp.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/ro_server.hpp"
#include "test_util.hpp"
#include "udp_receiver.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

namespace m2mdm::server {
namespace {

TEST(RoServer, StartsEmbeddedBootstrapsAndKeepsStateOverARestart) {
  test::TempDir dir;
  auto pki = mo::init_test_pki(dir.path() / "pki");
  ASSERT_TRUE(pki) << pki.error().message();
  std::filesystem::path tls_cert;
  for (const auto& f : *pki)
    if (f.name == "tls-cert") tls_cert = f.path;
  ServerConfig c;
  c.listen_port = 0;
  c.threads = 1;
  c.state_dir = dir.path() / "state";
  c.drf_spki_pem = tls_cert;
  c.log_level = "warn";
  test::UdpReceiver udp;
  std::string why;
  {
    auto s = RoServer::start(c, why);
    ASSERT_TRUE(s) << why;
    EXPECT_TRUE((*s)->url().starts_with("http://127.0.0.1:")) << (*s)->url();
    struct stat st{};
    ASSERT_EQ(::stat((c.state_dir / "admin.token").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(post_json((*s)->url() + "/healthz", "", {}, std::chrono::milliseconds(2000)).status, 405);
    HttpRequest imp;
    imp.method = "POST";
    imp.target = "/api/v1/devices:import";
    imp.headers = {{"Authorization", "Bearer " + (*s)->admin_token()}, {"Content-Type", "application/json"}};
    imp.body = R"([{"devId":"IMEI:7","pcid":"001010000000007","devicePin":"4321","pushAddress":")" + udp.address() + "\"}]";
    ASSERT_EQ((*s)->router().handle(imp).status, 200);
    HttpRequest b;
    b.method = "POST";
    b.target = "/api/v1/devices/IMEI:7/bootstrap";
    b.headers = {{"Authorization", "Bearer " + (*s)->admin_token()}};
    auto r = (*s)->router().handle(b);
    ASSERT_EQ(r.status, 202) << r.body;
    auto got = udp.receive();
    ASSERT_TRUE(got);
    auto push = bootstrap::wsp::decode_push(*got);
    ASSERT_TRUE(push);
    auto pin = spki_sha256_of_pem(tls_cert);
    ASSERT_TRUE(pin);
    EXPECT_EQ(pin->size(), 32u);
    // The device's DPF address defaulted to this server's /dm.
    EXPECT_EQ((*s)->store().get_device("IMEI:7")->dpf_address, (*s)->url() + "/dm");
    // /metrics carries the DPF's session counters: one message at /dm, refused (no such session).
    HttpRequest dm;
    dm.method = "POST";
    dm.target = "/dm";
    dm.headers = {{"Content-Type", "application/vnd.syncml.dm+xml"}};
    dm.body = "<SyncML>not a message</SyncML>";
    (void)(*s)->router().handle(dm);
    HttpRequest m;
    m.method = "GET";
    m.target = "/metrics";
    const auto metrics = (*s)->router().handle(m);
    ASSERT_EQ(metrics.status, 200);
    for (const char* line : {"# TYPE m2mdm_dm_sessions_started_total counter", "m2mdm_dm_messages_total 1",
                             "m2mdm_dm_sessions_open 0", "# TYPE m2mdm_dm_sessions_unauthenticated gauge"})
      EXPECT_NE(metrics.body.find(line), std::string::npos) << line << "\n" << metrics.body;
    (*s)->stop();
    (*s)->stop();  // idempotent
  }
  auto again = RoServer::start(c, why);
  ASSERT_TRUE(again) << why;
  auto dev = (*again)->store().get_device("IMEI:7");
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->state, DeviceState::bootstrapped);
  auto active = (*again)->store().active_bootstrap("IMEI:7");
  ASSERT_TRUE(active && *active);

  // Refusals come back as values with a reason.
  ServerConfig bad = c;
  bad.tls_cert = tls_cert;  // without a key
  EXPECT_EQ(RoServer::start(bad, why).error(), make_error_code(errc::config_error));
  EXPECT_FALSE(why.empty());
  EXPECT_FALSE(spki_sha256_of_pem(dir.path() / "missing.pem"));
}

// Hardening finding 6 (file modes): the state directory becomes 0700 even when it existed with a
// wider mode, the SQLite files are 0600, and an admin token file others can read is refused.
TEST(RoServer, StateIsPrivateAndASharedAdminTokenIsRefused) {
  test::TempDir dir;
  ServerConfig c;
  c.listen_port = 0;
  c.threads = 1;
  c.state_dir = dir.path() / "state";
  c.log_level = "warn";
  std::filesystem::create_directories(c.state_dir);
  std::filesystem::permissions(c.state_dir, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                                std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                                std::filesystem::perms::others_exec);  // 0755
  std::string why;
  {
    auto s = RoServer::start(c, why);
    ASSERT_TRUE(s) << why;
    struct stat st{};
    ASSERT_EQ(::stat(c.state_dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_EQ(::stat(c.db_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    (*s)->stop();
  }
  const auto token = dir.path() / "admin.token";
  {
    std::ofstream out(token);
    out << "operator-token-0123456789abcdef\n";
  }
  std::filesystem::permissions(token, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                          std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  c.admin_token_file = token;
  why.clear();
  auto refused = RoServer::start(c, why);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), make_error_code(errc::config_error));
  EXPECT_NE(why.find("mode 0644"), std::string::npos) << why;
  std::filesystem::permissions(token, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::replace);
  auto ok = RoServer::start(c, why);
  ASSERT_TRUE(ok) << why;
  EXPECT_EQ((*ok)->admin_token(), "operator-token-0123456789abcdef");
}

// A start refused for its configuration (a named file missing, the port taken) leaves no state
// behind: no state directory, no store.key, no empty m2mdm.sqlite, no admin.token; and a refused
// start on an existing state directory leaves its store as it was.
TEST(RoServer, ARefusedStartLeavesNoFreshStateBehind) {
  test::TempDir dir;
  ServerConfig c;
  c.listen_port = 0;
  c.threads = 1;
  c.state_dir = dir.path() / "a" / "b" / "state";
  c.log_level = "warn";
  std::string why;

  c.admin_token_file = dir.path() / "missing-admin.token";
  auto r = RoServer::start(c, why);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::config_error));
  EXPECT_NE(why.find("does not exist"), std::string::npos) << why;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "a")) << why;

  ServerConfig pva = c;
  pva.admin_token_file.reset();
  pva.manufacturer_cas = {dir.path() / "missing-ca.pem"};
  EXPECT_EQ(RoServer::start(pva, why).error(), make_error_code(errc::config_error));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "a")) << why;

  // The port is taken: the store was opened (and migrated) before the bind failed; all of it goes.
  ServerConfig first = c;
  first.admin_token_file.reset();
  first.state_dir = dir.path() / "first";
  auto running = RoServer::start(first, why);
  ASSERT_TRUE(running) << why;
  const auto url = (*running)->url();
  ServerConfig taken = c;
  taken.admin_token_file.reset();
  taken.listen_port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
  auto refused = RoServer::start(taken, why);
  ASSERT_FALSE(refused);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "a")) << why;
  (*running)->stop();

  // An existing state directory: a refused start removes nothing that was there.
  ServerConfig again = first;
  again.admin_token_file = dir.path() / "missing-admin.token";
  EXPECT_FALSE(RoServer::start(again, why));
  EXPECT_TRUE(std::filesystem::exists(first.db_path()));
  EXPECT_TRUE(std::filesystem::exists(first.key_path()));
  EXPECT_TRUE(std::filesystem::exists(first.state_dir / "admin.token"));
  auto restarted = RoServer::start(first, why);
  ASSERT_TRUE(restarted) << why;
  EXPECT_EQ((*restarted)->admin_token(), (*running)->admin_token());
}

}  // namespace
}  // namespace m2mdm::server
