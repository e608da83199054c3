// The device's state at rest (issue 14, finding 6): tree.m2mt and tree.m2mt.prev are sealed
// with the TRE's state key. A device of an earlier release (a clear tree, two generations) is
// migrated once and keeps its accounts.
#include "m2mdm/client/device.hpp"
#include "m2mdm/client/error.hpp"
#include "m2mdm/client/software_tre.hpp"
#include "m2mdm/client/state_key.hpp"
#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/standard_objects.hpp"
#include "m2mdm/mo/tree_store.hpp"
#include "m2mdm/test/device_bootstrap.hpp"
#include "m2mdm/test/device_fixture.hpp"
#include "m2mdm/test/files.hpp"
#include "m2mdm/test/pki_test.hpp"
#include "m2mdm/test/test_dir.hpp"

#include <gtest/gtest.h>

#include <map>
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

class DeviceStateTest : public m2mdm::test::PkiTest {
 protected:
  DeviceStateTest() : PkiTest("device-state") {}

  DeviceOptions options() const { return m2mdm::test::device_options(dir_ / "state", pki_); }

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

  // Every regular file of the state directory with its bytes.
  std::map<std::string, std::string> state_files() const {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::directory_iterator(dir_ / "state"))
      if (e.is_regular_file()) out[e.path().filename().string()] = slurp(e.path());
    return out;
  }

  // A device opened twice (two sealed generations), with its account.
  void make_sealed_device() {
    write_clear_tree();
    ASSERT_TRUE(Device::open(options()));
    ASSERT_EQ(slurp(tree_file()).rfind("M2MS", 0), 0u);
  }

  // Device::open fails with @p want and leaves every stored byte of the state as it was.
  void expect_refused(std::error_code want) {
    const auto before = state_files();
    auto device = Device::open(options());
    ASSERT_FALSE(device) << "opened on an empty or wrong tree";
    EXPECT_EQ(device.error(), want) << device.error().message();
    EXPECT_EQ(state_files(), before);
  }
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

TEST_F(DeviceStateTest, AFreshDeviceKeepsItsStateKeyInTheTre) {
  ASSERT_TRUE(Device::open(options()));
  auto tre = SoftwareTre::open(pki_.at("tre-dir"));
  ASSERT_TRUE(tre);
  auto key = (*tre)->get(kStateKeyItem);
  ASSERT_TRUE(key) << key.error().message();
  EXPECT_EQ(key->size(), 32u);
  EXPECT_EQ(slurp(tree_file()).rfind("M2MS", 0), 0u);
  // The key is a TRE item, encrypted there: not in clear in any file of the TRE or the state.
  const std::string raw(as_chars(key->view()));
  for (const auto& e : fs::recursive_directory_iterator(pki_.at("tre-dir"))) {
    if (e.is_regular_file()) {
      EXPECT_EQ(slurp(e.path()).find(raw), std::string::npos) << e.path();
    }
  }
  for (const auto& [name, bytes] : state_files()) EXPECT_EQ(bytes.find(raw), std::string::npos) << name;
}

TEST_F(DeviceStateTest, AnAlteredTreeIsAnErrorNotAnEmptyTree) {
  make_sealed_device();
  for (const char* name : {"tree.m2mt", "tree.m2mt.prev"}) {
    std::string bytes = slurp(dir_ / "state" / name);
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
    m2mdm::test::write_file(dir_ / "state" / name, bytes);
  }
  expect_refused(make_error_code(mo::errc::seal_tag_mismatch));
}

TEST_F(DeviceStateTest, OnlyTheCurrentGenerationAlteredFallsBackToThePreviousOne) {
  make_sealed_device();
  std::string bytes = slurp(tree_file());
  bytes[bytes.size() - 1] = static_cast<char>(bytes[bytes.size() - 1] ^ 0x01);  // the GCM tag
  m2mdm::test::write_file(tree_file(), bytes);
  auto device = Device::open(options());
  ASSERT_TRUE(device) << device.error().message();
  EXPECT_TRUE(mo::find_dm_account((*device)->tree(), kServerId));
}

TEST_F(DeviceStateTest, AnotherStateKeyInTheTreIsAnError) {
  make_sealed_device();
  {
    auto tre = SoftwareTre::open(pki_.at("tre-dir"));
    ASSERT_TRUE(tre);
    ASSERT_TRUE((*tre)->put(kStateKeyItem, Bytes(32, 0x77)));
  }
  expect_refused(make_error_code(mo::errc::seal_tag_mismatch));
}

TEST_F(DeviceStateTest, ALostStateKeyIsAnErrorAndNoNewKeyIsMade) {
  make_sealed_device();
  {
    auto tre = SoftwareTre::open(pki_.at("tre-dir"));
    ASSERT_TRUE(tre);
    ASSERT_TRUE((*tre)->erase(kStateKeyItem));
  }
  expect_refused(make_error_code(mo::errc::bad_key));
  auto tre = SoftwareTre::open(pki_.at("tre-dir"));
  ASSERT_TRUE(tre);
  EXPECT_EQ((*tre)->get(kStateKeyItem).error(), make_error_code(mo::errc::not_found));
}

TEST_F(DeviceStateTest, AStateKeyThatFailsItsTreCheckIsAnError) {
  make_sealed_device();
  const fs::path item = pki_.at("tre-dir") / "store" / (std::string(kStateKeyItem) + ".bin");
  ASSERT_TRUE(fs::exists(item));
  std::string bytes = slurp(item);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
  m2mdm::test::write_file(item, bytes);
  expect_refused(make_error_code(mo::errc::bad_key));  // the TRE blocked it at its start
}

}  // namespace
}  // namespace m2mdm::client
