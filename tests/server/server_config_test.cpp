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

}  // namespace
}  // namespace m2mdm::server
