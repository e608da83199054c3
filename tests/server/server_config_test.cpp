// `m2mdm server` configuration file: the [dm] section (what the DPF announces and enforces,
// DM_RepPro 1.2 §7.1) and the checks that keep it consistent with the HTTP body limit.
#include "m2mdm/server/config.hpp"
#include "m2mdm/test/test_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace m2mdm::server {
namespace {

namespace fs = std::filesystem;

class ServerConfigFile : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::fresh_test_dir("config"); }
  void TearDown() override { fs::remove_all(dir_); }

  // Loads @p text as a config file into config_; returns the reason of a refusal ("" = loaded).
  std::string load(const std::string& text) {
    const fs::path file = dir_ / "server.toml";
    std::ofstream(file) << text;
    std::string why;
    if (auto r = load_config_file(file, config_, why); !r) return why.empty() ? "refused without a reason" : why;
    return {};
  }

  fs::path dir_;
  ServerConfig config_;
};

TEST_F(ServerConfigFile, DmSectionSetsWhatTheDpfAnnounces) {
  ASSERT_EQ(load("[dm]\nmax_msg_size = 8192\nmax_obj_size = 100000\n"), "");
  EXPECT_EQ(config_.dm_max_msg_size, 8192u);
  EXPECT_EQ(config_.dm_max_obj_size, 100000u);
  std::string why;
  EXPECT_TRUE(validate_config(config_, why)) << why;
}

TEST_F(ServerConfigFile, DmDefaultsAreKeptWhenTheSectionIsAbsent) {
  ASSERT_EQ(load("log_level = \"warn\"\n"), "");
  EXPECT_EQ(config_.dm_max_msg_size, 64u * 1024);
  EXPECT_EQ(config_.dm_max_obj_size, 4u * 1024 * 1024);
}

TEST_F(ServerConfigFile, DmSizesOutOfRangeAreRefusedWithTheKey) {
  EXPECT_NE(load("[dm]\nmax_msg_size = 10\n").find("max_msg_size"), std::string::npos);
  EXPECT_NE(load("[dm]\nmax_obj_size = -1\n").find("max_obj_size"), std::string::npos);
  EXPECT_NE(load("[dm]\nmax_obj_size = \"big\"\n").find("max_obj_size"), std::string::npos);
}

TEST_F(ServerConfigFile, AMaxMsgSizeAboveTheBodyLimitIsRefused) {
  ASSERT_EQ(load("body_limit = 65536\n[dm]\nmax_msg_size = 131072\n"), "");
  std::string why;
  EXPECT_FALSE(validate_config(config_, why));
  EXPECT_NE(why.find("dm.max_msg_size"), std::string::npos) << why;
}

// A misspelt key inside a table (here [callbacks] retry_second) would leave its setting at the
// default without a word; it is refused with the table named, like an unknown top-level key.
TEST_F(ServerConfigFile, UnknownKeysInsideATableAreRefusedWithTheTableNamed) {
  EXPECT_NE(load("[callbacks]\nretry_second = 5\n").find("unknown key \"retry_second\" in [callbacks]"),
            std::string::npos);
  EXPECT_NE(load("[dm]\nmax_msg_size = 8192\nmax_objsize = 100000\n").find("unknown key \"max_objsize\" in [dm]"),
            std::string::npos);
  EXPECT_NE(load("[tls]\ncert = \"a\"\nkey = \"b\"\nca = \"c\"\n").find("in [tls]"), std::string::npos);
  EXPECT_NE(load("colour = 1\n").find("unknown key \"colour\""), std::string::npos);
  // Every key the server reads is still taken.
  EXPECT_EQ(load("[notify]\nmax_attempts = 3\nretry_seconds = 60\nstall_seconds = 3\n"
                 "[claims]\nmax_failures = 5\nwindow_seconds = 60\n"
                 "[callbacks]\nretry_seconds = 1\nmax_retry_seconds = 2\ntimeout_ms = 2000\n"
                 "allow_loopback = true\nallow_private = false\n"),
            "");
  EXPECT_EQ(config_.notify_stall_seconds, 3);
  EXPECT_FALSE(config_.callback_allow_private);
}

TEST_F(ServerConfigFile, ATableKeyThatIsNotATableIsRefused) {
  EXPECT_NE(load("tls = \"cert.pem\"\n").find("\"tls\" must be a table"), std::string::npos);
  EXPECT_NE(load("dm = 5\n").find("\"dm\" must be a table"), std::string::npos);
}

// Every key of every table lands in its own field (the reader is one table of keys; a key listed
// with the wrong field or table would show here).
TEST_F(ServerConfigFile, EveryKeyIsReadIntoItsField) {
  ASSERT_EQ(load("listen = \"[::1]:9443\"\nstate_dir = \"/srv/ro\"\nthreads = 3\nhandler_threads = 7\n"
                 "body_limit = 200000\nmax_connections = 99\nheader_timeout_ms = 11\nread_timeout_ms = 12\n"
                 "idle_timeout_ms = 13\njob_ttl_seconds = 3600\nlog_level = \"debug\"\n"
                 "dpf_address = \"https://ro.example/dm\"\n"
                 "[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n"
                 "[auth]\nadmin_token_file = \"admin.token\"\nvno_token_files = [\"v1\", \"v2\"]\n"
                 "[pva]\nmanufacturer_ca = \"ca.pem\"\nmanufacturer_crl = [\"a.crl\"]\n"
                 "[operator_change]\nsho_trust_anchors = [\"sho.pem\"]\nsubscriber_trust_anchors = \"sub.pem\"\n"
                 "[drf]\nprovurl = \"http://p\"\nname = \"N\"\nserver_id = \"dpf\"\nserver_name = \"DPF\"\n"
                 "apn = \"a1\"\napp_server_id = \"app\"\napp_name = \"APP\"\napp_address = \"https://app\"\n"
                 "app_apn = \"a2\"\nauth_type = \"HMAC\"\nspki_pem = \"s.pem\"\napp_spki_pem = \"as.pem\"\n"
                 "[dm]\nmax_msg_size = 100000\nmax_obj_size = 300000\n"
                 "[notify]\nmax_attempts = 2\nretry_seconds = 31\nstall_seconds = 301\n"
                 "[claims]\nmax_failures = 4\nwindow_seconds = 61\n"
                 "[callbacks]\nca_file = [\"cb.pem\"]\nretry_seconds = 2\nmax_retry_seconds = 20\n"
                 "timeout_ms = 900\nallow_loopback = false\nallow_private = false\n"),
            "");
  const ServerConfig& c = config_;
  EXPECT_EQ(c.listen_address, "::1");
  EXPECT_EQ(c.listen_port, 9443);
  EXPECT_EQ(c.state_dir, "/srv/ro");
  EXPECT_EQ(c.threads, 3u);
  EXPECT_EQ(c.handler_threads, 7u);
  EXPECT_EQ(c.body_limit, 200000u);
  EXPECT_EQ(c.max_connections, 99u);
  EXPECT_EQ(c.header_timeout_ms, 11u);
  EXPECT_EQ(c.read_timeout_ms, 12u);
  EXPECT_EQ(c.idle_timeout_ms, 13u);
  EXPECT_EQ(c.job_ttl_seconds, 3600);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.dpf_address, "https://ro.example/dm");
  EXPECT_EQ(c.tls_cert, fs::path("c.pem"));
  EXPECT_EQ(c.tls_key, fs::path("k.pem"));
  EXPECT_EQ(c.admin_token_file, fs::path("admin.token"));
  EXPECT_EQ(c.vno_token_files, (std::vector<fs::path>{"v1", "v2"}));
  EXPECT_EQ(c.manufacturer_cas, std::vector<fs::path>{"ca.pem"});
  EXPECT_EQ(c.manufacturer_crls, std::vector<fs::path>{"a.crl"});
  EXPECT_EQ(c.sho_trust_anchors, std::vector<fs::path>{"sho.pem"});
  EXPECT_EQ(c.subscriber_trust_anchors, std::vector<fs::path>{"sub.pem"});
  EXPECT_EQ(c.drf.provurl, "http://p");
  EXPECT_EQ(c.drf.name, "N");
  EXPECT_EQ(c.drf.dpf.server_id, "dpf");
  EXPECT_EQ(c.drf.dpf.name, "DPF");
  EXPECT_EQ(c.drf.dpf.apn, "a1");
  EXPECT_EQ(c.drf.app.server_id, "app");
  EXPECT_EQ(c.drf.app.name, "APP");
  EXPECT_EQ(c.drf.app_address, "https://app");
  EXPECT_EQ(c.drf.app.apn, "a2");
  EXPECT_EQ(c.drf.auth_type, "HMAC");
  EXPECT_EQ(c.drf_spki_pem, fs::path("s.pem"));
  EXPECT_EQ(c.drf_app_spki_pem, fs::path("as.pem"));
  EXPECT_EQ(c.dm_max_msg_size, 100000u);
  EXPECT_EQ(c.dm_max_obj_size, 300000u);
  EXPECT_EQ(c.notify_max_attempts, 2);
  EXPECT_EQ(c.notify_retry_seconds, 31);
  EXPECT_EQ(c.notify_stall_seconds, 301);
  EXPECT_EQ(c.claim_max_failures, 4);
  EXPECT_EQ(c.claim_window_seconds, 61);
  EXPECT_EQ(c.callback_ca_files, std::vector<fs::path>{"cb.pem"});
  EXPECT_EQ(c.callback_retry_seconds, 2);
  EXPECT_EQ(c.callback_max_retry_seconds, 20);
  EXPECT_EQ(c.callback_timeout_ms, 900u);
  EXPECT_FALSE(c.callback_allow_loopback);
  EXPECT_FALSE(c.callback_allow_private);
  // The first bad key in reading order is the one reported, with the file named.
  auto why = load("threads = 999\n[dm]\nmax_msg_size = 1\n");
  EXPECT_NE(why.find("server.toml: \"threads\" must be an integer in 0..256"), std::string::npos) << why;
  EXPECT_NE(load("listen = \"nohostport\"\n").find("\"listen\" must be ADDR:PORT"), std::string::npos);
}

}  // namespace
}  // namespace m2mdm::server
