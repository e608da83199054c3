// `m2mdm bootstrap build|verify|decode` driven as a real process (skipped when the m2mdm binary
// has not been built in this build tree).
#include "cp_test_support.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

namespace m2mdm::bootstrap {
namespace {

using namespace testing;
namespace fs = std::filesystem;

class BootstrapCli : public ::testing::Test {
 protected:
  void SetUp() override {
    bin_ = fs::path(M2MDM_BINARY_DIR) / "server" / "m2mdm";
    if (!fs::exists(bin_)) GTEST_SKIP() << "m2mdm binary not built: " << bin_;
    dir_ = fs::temp_directory_path() / ("m2mdm_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    config_ = fs::path(M2MDM_SOURCE_DIR) / "docs" / "examples" / "bootstrap.toml";
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  /// Runs m2mdm with @p args; stdout/stderr land in out_/err_.
  int m2mdm(const std::string& args) {
    const int rc = run(bin_.string() + " " + args + " >" + (dir_ / "stdout").string() + " 2>" + (dir_ / "stderr").string());
    out_ = slurp(dir_ / "stdout");
    err_ = slurp(dir_ / "stderr");
    return rc;
  }
  std::string p(const std::string& name) const { return (dir_ / name).string(); }
  std::string mac_from_stdout() const {
    const auto at = out_.find("MAC=");
    return at == std::string::npos ? std::string{} : out_.substr(at + 4, 40);
  }

  fs::path bin_, dir_, config_;
  std::string out_, err_;
};

TEST_F(BootstrapCli, BuildWbxmlThenVerifyWithMac) {
  ASSERT_EQ(m2mdm("bootstrap build --config " + config_.string() + " --sec userpin --pin 8372 --format wbxml --out " +
                  p("b.wbxml")),
            0)
      << err_;
  const std::string mac = mac_from_stdout();
  ASSERT_EQ(mac.size(), 40u) << out_;
  const Bytes body = slurp_bytes(p("b.wbxml"));
  ASSERT_GE(body.size(), 4u);
  EXPECT_EQ(hex_encode(ByteView(body.data(), 4), true), "030B6A00");
  ASSERT_EQ(m2mdm("bootstrap verify --sec USERPIN --pin 8372 --mac " + mac + " " + p("b.wbxml")), 0) << err_;
  EXPECT_NE(out_.find("<parm name=\"PROVURL\" value=\"https://drf.ro.example/prov\"/>"), std::string::npos);
  EXPECT_NE(out_.find("SPKI-SHA256"), std::string::npos);
  // wrong PIN: exit 2, one line on stderr, nothing on stdout
  EXPECT_EQ(m2mdm("bootstrap verify --sec USERPIN --pin 8373 --mac " + mac + " " + p("b.wbxml")), 2);
  EXPECT_TRUE(out_.empty());
  EXPECT_EQ(std::count(err_.begin(), err_.end(), '\n'), 1) << err_;
  EXPECT_NE(err_.find("MAC does not verify"), std::string::npos) << err_;
  // missing MAC
  EXPECT_EQ(m2mdm("bootstrap verify --sec USERPIN --pin 8372 " + p("b.wbxml")), 2);
  EXPECT_NE(err_.find("MAC missing"), std::string::npos) << err_;
  // JSON config gives the same bytes
  ASSERT_EQ(m2mdm("bootstrap build --config " + (config_.parent_path() / "bootstrap.json").string() +
                  " --sec USERPIN --pin 8372 --format wbxml --out " + p("j.wbxml")),
            0)
      << err_;
  EXPECT_EQ(slurp_bytes(p("j.wbxml")), body);
}

TEST_F(BootstrapCli, PushCarriesSecAndMac) {
  ASSERT_EQ(m2mdm("bootstrap build --config " + config_.string() +
                  " --sec NETWPIN --imsi 466923103145252 --format push --out " + p("b.push")),
            0)
      << err_;
  ASSERT_EQ(m2mdm("bootstrap verify --sec netwpin --imsi 466923103145252 " + p("b.push")), 0) << err_;
  EXPECT_NE(out_.find("APPID"), std::string::npos);
  EXPECT_EQ(m2mdm("bootstrap verify --sec NETWPIN --imsi 466923103145253 " + p("b.push")), 2);
  EXPECT_EQ(m2mdm("bootstrap verify --sec USERPIN --pin 1 " + p("b.push")), 2);  // SEC differs from header
  // truncated push
  Bytes push = slurp_bytes(p("b.push"));
  push.resize(push.size() / 2);
  write_file(p("t.push"), push);
  EXPECT_NE(m2mdm("bootstrap verify --sec NETWPIN --imsi 466923103145252 " + p("t.push")), 0);
  EXPECT_FALSE(err_.empty());
  Bytes header_cut = slurp_bytes(p("b.push"));
  header_cut.resize(10);
  write_file(p("h.push"), header_cut);
  EXPECT_EQ(m2mdm("bootstrap verify --sec NETWPIN --imsi 466923103145252 " + p("h.push")), 3);
  EXPECT_EQ(m2mdm("bootstrap decode " + p("b.push")), 0) << err_;
  EXPECT_NE(out_.find("wap-provisioningdoc"), std::string::npos);
}

TEST_F(BootstrapCli, SmsSegmentsDecode) {
  ASSERT_EQ(m2mdm("bootstrap build --config " + config_.string() +
                  " --sec USERNETWPIN --pin 8372 --imsi 466923103145252 --format sms --out " + p("b.sms")),
            0)
      << err_;
  const std::string text = slurp(p("b.sms"));
  EXPECT_GT(std::count(text.begin(), text.end(), '\n'), 1);  // the bootstrap needs several SMS
  ASSERT_EQ(m2mdm("bootstrap decode " + p("b.sms")), 0) << err_;
  EXPECT_NE(out_.find("M2M-CONTEXT"), std::string::npos);
  ASSERT_EQ(m2mdm("bootstrap verify --sec USERNETWPIN --pin 8372 --imsi 466923103145252 " + p("b.sms")), 0) << err_;
  // drop the last segment: incomplete
  std::string cut = text.substr(0, text.rfind('\n', text.size() - 2) + 1);
  std::ofstream(p("c.sms")) << cut;
  EXPECT_EQ(m2mdm("bootstrap decode " + p("c.sms")), 3);
}

TEST_F(BootstrapCli, UserpinmacAndVectors) {
  ASSERT_EQ(m2mdm("bootstrap build --config " + config_.string() + " --sec USERPINMAC --pin 4711 --format wbxml --out " +
                  p("u.wbxml")),
            0)
      << err_;
  const auto at = out_.find(": ");
  ASSERT_NE(at, std::string::npos) << out_;
  const std::string code = out_.substr(at + 2, 8);
  ASSERT_EQ(m2mdm("bootstrap verify --sec USERPINMAC --pin " + code + " " + p("u.wbxml")), 0) << err_;
  EXPECT_EQ(m2mdm("bootstrap verify --sec USERPINMAC --pin 47110000 " + p("u.wbxml")), 2);
  const std::string cht = (vectors_dir() / "cht-userpin-0000.wbxml").string();
  ASSERT_EQ(m2mdm("bootstrap verify --sec USERPIN --pin 0000 --mac aa2dc41fc48aeef3fed7351b1ee704461a8894d4 " + cht), 0)
      << err_;
  EXPECT_NE(out_.find("CHT_emome"), std::string::npos);
  EXPECT_EQ(m2mdm("bootstrap verify --sec USERPIN --pin 0000 --mac AA2DC41F " + cht), 2);
  EXPECT_NE(err_.find("malformed"), std::string::npos);
  EXPECT_EQ(m2mdm("bootstrap verify --sec FOO --pin 0000 " + cht), 1);
  EXPECT_EQ(m2mdm("bootstrap decode " + cht), 0);
}

}  // namespace
}  // namespace m2mdm::bootstrap
