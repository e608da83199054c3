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

}  // namespace
}  // namespace m2mdm::server
