// The device's state at rest (issue 14, finding 6): tree.m2mt and tree.m2mt.prev are sealed
// with the TRE's state key. A device of an earlier release (a clear tree, two generations) is
// migrated once and keeps its accounts.
#include "m2mdm/client/device.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/standard_objects.hpp"
#include "m2mdm/mo/tree_store.hpp"
#include "m2mdm/test/device_fixture.hpp"
#include "m2mdm/test/files.hpp"
#include "m2mdm/test/test_dir.hpp"

#include <gtest/gtest.h>

#include <string>

namespace m2mdm::client {
namespace {

namespace fs = std::filesystem;
using m2mdm::test::slurp;

constexpr std::string_view kServerId = "dpf.ro.example";
Bytes bytes_of(std::string_view s) {
  const ByteView v = as_bytes(s);
  return Bytes(v.begin(), v.end());
}
const Bytes kClientNonce = bytes_of("client-nonce-5f3a9c");
const Bytes kServerNonce = bytes_of("server-nonce-c0ffee");

class DeviceStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = m2mdm::test::fresh_test_dir("device-state");
    auto pki = m2mdm::test::make_test_pki(dir_ / "pki");
    ASSERT_TRUE(pki) << pki.error().message();
    pki_ = std::move(*pki);
  }
  void TearDown() override { fs::remove_all(dir_); }

  DeviceOptions options() const {
    DeviceOptions o;
    o.state_dir = dir_ / "state";
    o.tre_dir = pki_.at("tre-dir");
    auto anchors = mo::TrustAnchors::from_pem(slurp(pki_.at("sho-ca")), mo::AnchorKind::test);
    EXPECT_TRUE(anchors);
    o.anchors = std::move(*anchors);
    o.session_on_init = false;
    return o;
  }

  fs::path tree_file() const { return dir_ / "state" / "tree.m2mt"; }

  // What an earlier release left: the device tree with one account, in clear, two generations.
  void write_clear_tree() {
    auto pfc = mo::Certificate::from_pem(slurp(pki_.at("pfc")));
    ASSERT_TRUE(pfc);
    m2mdm::test::DeviceTreeSpec spec;
    spec.server_id = std::string(kServerId);
    spec.client_secret = "client-secret-of-the-old-release";
    spec.server_secret = "server-secret-of-the-old-release";
    spec.client_nonce = kClientNonce;
    spec.server_nonce = kServerNonce;
    spec.pfc_der = pfc->to_der();
    mo::Tree tree;
    ASSERT_EQ(m2mdm::test::install_device_tree(tree, spec), "");
    fs::create_directories(dir_ / "state");
    mo::TreeStore clear(tree_file());
    ASSERT_TRUE(clear.save(tree));
    ASSERT_TRUE(clear.save(tree));
    ASSERT_NE(slurp(tree_file()).find("client-secret-of-the-old-release"), std::string::npos);
  }

  // Fails the test when a file of the state holds @p needle.
  void expect_absent(std::string_view needle) const {
    for (const auto& e : fs::directory_iterator(dir_ / "state")) {
      if (!e.is_regular_file() || e.path().filename().string().rfind("tree.m2mt", 0) != 0) continue;
      EXPECT_EQ(slurp(e.path()).find(needle), std::string::npos) << needle << " in clear in " << e.path().filename();
    }
  }

  fs::path dir_;
  m2mdm::test::PkiFiles pki_;
};

TEST_F(DeviceStateTest, AClearTreeOfAnEarlierReleaseIsMigratedOnceAndKeepsItsAccount) {
  write_clear_tree();
  {
    auto device = Device::open(options());
    ASSERT_TRUE(device) << device.error().message();
    auto account = mo::find_dm_account((*device)->tree(), kServerId);
    ASSERT_TRUE(account);
    ASSERT_EQ(account->app_auth.size(), 2u);
  }
  ASSERT_TRUE(fs::exists(tree_file()));
  ASSERT_TRUE(fs::exists(dir_ / "state" / "tree.m2mt.prev"));
  for (std::string_view clear : {"client-secret-of-the-old-release", "server-secret-of-the-old-release",
                                 "client-nonce-5f3a9c", "server-nonce-c0ffee", "AAuthSecret", "DMAcc"})
    expect_absent(clear);
  const std::string current = slurp(tree_file());
  const std::string previous = slurp(dir_ / "state" / "tree.m2mt.prev");
  // Opened again: the sealed tree holds the same account, and nothing is rewritten.
  auto device = Device::open(options());
  ASSERT_TRUE(device) << device.error().message();
  auto account = mo::find_dm_account((*device)->tree(), kServerId);
  ASSERT_TRUE(account);
  ASSERT_EQ(account->app_auth.size(), 2u);
  for (const auto& a : account->app_auth) {
    if (a.name == "CLCRED") {
      EXPECT_EQ(a.secret, "client-secret-of-the-old-release");
      EXPECT_EQ(a.data, kClientNonce);
    } else {
      EXPECT_EQ(a.secret, "server-secret-of-the-old-release");
      EXPECT_EQ(a.data, kServerNonce);
    }
  }
  EXPECT_EQ(slurp(tree_file()), current);
  EXPECT_EQ(slurp(dir_ / "state" / "tree.m2mt.prev"), previous);
}

}  // namespace
}  // namespace m2mdm::client
