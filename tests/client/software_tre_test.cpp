// The software TRE over a real directory: key handling, protected storage, the start-up integrity
// check (seed 002 §5.1.1.1.3) and crash safety of writes.
#include "tre_copy_fixture.hpp"

#include "m2mdm/client/error.hpp"
#include "m2mdm/client/software_tre.hpp"
#include "m2mdm/mo/error.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace m2mdm::client {
namespace {

namespace fs = std::filesystem;
using test::TestPki;

class SoftwareTreTest : public TreCopyTest {
 protected:
  SoftwareTreTest() : TreCopyTest("tre-ec", "tre") {}
  void SetUp() override {
    TreCopyTest::SetUp();
    fs::permissions(dir_ / "platform-key.pem", fs::perms::owner_read | fs::perms::owner_write);
  }
};

TEST_F(SoftwareTreTest, IdentityAndStorageKey) {
  auto tre = open_tre();
  EXPECT_EQ(tre->device_id(), "tre-ec");
  EXPECT_EQ(tre->platform_certificate(), TestPki::instance().device("tre-ec").pfc.to_der());
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "storage.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(fs::file_size(dir_ / "storage.key"), 32u);
  const Bytes key_before = test::slurp_bytes(dir_ / "storage.key");
  auto again = open_tre();  // the storage key is kept across starts
  EXPECT_EQ(test::slurp_bytes(dir_ / "storage.key"), key_before);
}

TEST_F(SoftwareTreTest, KeyNotMatchingThePfcIsRefused) {
  const auto& other = TestPki::instance().device("tre-other");
  fs::copy(other.dir / "platform-key.pem", dir_ / "platform-key.pem", fs::copy_options::overwrite_existing);
  auto t = SoftwareTre::open(dir_);
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error(), make_error_code(mo::errc::bad_key));
  auto missing = SoftwareTre::open(dir_ / "nope");
  EXPECT_FALSE(missing.has_value());
}

TEST_F(SoftwareTreTest, SignVerifiesWithThePfc) {
  auto tre = open_tre();
  const Bytes msg = {'h', 'i'};
  auto sig = tre->sign(msg);
  ASSERT_TRUE(sig.has_value());
  auto pub = TestPki::instance().device("tre-ec").pfc.public_key();
  ASSERT_TRUE(pub.has_value());
  EXPECT_TRUE(*pub->verify(msg, *sig));
}

TEST_F(SoftwareTreTest, StoragePutGetListErase) {
  auto tre = open_tre();
  const std::string secret = "K=465b5ce8b199b49faa5f0a2ee238a6bc";
  ASSERT_TRUE(tre->put("mid-1", as_bytes(secret)).has_value());
  ASSERT_TRUE(tre->put("mid-2", as_bytes("two")).has_value());
  auto got = tre->get("mid-1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(as_chars(got->view()), secret);
  // Stored encrypted: the plaintext is nowhere in the file.
  const std::string raw = test::slurp(dir_ / "store" / "mid-1.bin");
  EXPECT_EQ(raw.find("465b5ce8"), std::string::npos);
  auto items = tre->list();
  ASSERT_TRUE(items.has_value());
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].id, "mid-1");
  EXPECT_FALSE((*items)[0].blocked);
  ASSERT_TRUE(tre->put("mid-1", as_bytes("replaced")).has_value());
  EXPECT_EQ(as_chars(tre->get("mid-1")->view()), "replaced");
  ASSERT_TRUE(tre->erase("mid-1").has_value());
  auto gone = tre->get("mid-1");
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error(), make_error_code(mo::errc::not_found));
  EXPECT_TRUE(tre->erase("mid-1").has_value());  // idempotent
  for (const char* bad : {"", "../x", "a/b", ".", "..", "x y"}) {
    auto r = tre->put(bad, as_bytes("v"));
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error(), make_error_code(errc::tre_bad_id));
  }
  // Survives a restart.
  tre.reset();
  auto tre2 = open_tre();
  EXPECT_TRUE(tre2->blocked_at_start().empty());
  EXPECT_EQ(as_chars(tre2->get("mid-2")->view()), "two");
}

TEST_F(SoftwareTreTest, DamagedItemsBecomeBlockedAtStart) {
  {
    auto tre = open_tre();
    for (const char* id : {"flip", "trunc", "moved", "good", "empty"}) ASSERT_TRUE(tre->put(id, as_bytes(std::string(40, 'x'))).has_value());
  }
  const fs::path store = dir_ / "store";
  Bytes b = test::slurp_bytes(store / "flip.bin");
  b[b.size() / 2] ^= 1;
  test::write_file(store / "flip.bin", b);
  Bytes t = test::slurp_bytes(store / "trunc.bin");
  t.resize(t.size() - 5);
  test::write_file(store / "trunc.bin", t);
  fs::rename(store / "moved.bin", store / "renamed.bin");  // the id is authenticated (AAD)
  test::write_file(store / "empty.bin", Bytes{});

  auto tre = open_tre();
  EXPECT_EQ(tre->blocked_at_start(), (std::vector<std::string>{"empty", "flip", "renamed", "trunc"}));
  for (const char* id : {"flip", "trunc", "renamed", "empty"}) {
    auto g = tre->get(id);
    ASSERT_FALSE(g.has_value()) << id;
    EXPECT_EQ(g.error(), make_error_code(errc::tre_mid_blocked)) << id;
  }
  EXPECT_TRUE(tre->get("good").has_value());
  auto items = tre->list();
  ASSERT_TRUE(items.has_value());
  std::map<std::string, bool> blocked;
  for (const auto& i : *items) blocked[i.id] = i.blocked;
  EXPECT_TRUE(blocked.at("flip"));
  EXPECT_FALSE(blocked.at("good"));
  // Blocked stays blocked at the next start; erasing removes it.
  tre.reset();
  auto tre2 = open_tre();
  EXPECT_TRUE(tre2->blocked_at_start().empty());
  EXPECT_EQ(tre2->get("flip").error(), make_error_code(errc::tre_mid_blocked));
  ASSERT_TRUE(tre2->erase("flip").has_value());
  EXPECT_EQ(tre2->get("flip").error(), make_error_code(mo::errc::not_found));
}

TEST_F(SoftwareTreTest, LostStorageKeyBlocksEverything) {
  {
    auto tre = open_tre();
    ASSERT_TRUE(tre->put("mid", as_bytes("v")).has_value());
  }
  fs::remove(dir_ / "storage.key");
  auto tre = open_tre();
  EXPECT_EQ(tre->blocked_at_start(), std::vector<std::string>{"mid"});
}

TEST_F(SoftwareTreTest, PowerLossDuringPutLeavesOldOrNew) {
  for (const char* step : {"write", "sync", "rename", "dir-sync"}) {
    {
      auto tre = open_tre();
      ASSERT_TRUE(tre->put("mid", as_bytes("old")).has_value());
      tre->set_crash_hook_for_testing([&](std::string_view s, std::string_view) { return s == step; });
      EXPECT_FALSE(tre->put("mid", as_bytes("new")).has_value()) << step;
    }
    auto tre = open_tre();  // "reboot"
    EXPECT_TRUE(tre->blocked_at_start().empty()) << step;
    auto got = tre->get("mid");
    ASSERT_TRUE(got.has_value()) << step;
    const std::string v(as_chars(got->view()));
    if (std::string_view(step) == "dir-sync") EXPECT_EQ(v, "new");
    else EXPECT_EQ(v, "old") << step;
    EXPECT_FALSE(fs::exists(dir_ / "store" / "mid.tmp")) << step;  // cleaned at start
  }
}

TEST_F(SoftwareTreTest, OpenSealedUsesTheTresOwnDeviceId) {
  auto& pki = TestPki::instance();
  const auto& dev = pki.device("tre-ec");
  auto sealed = mo::seal_profile(test::bound_profile("tre-ec", 2), pki.sho_cert, pki.sho_key, dev.pfc);
  ASSERT_TRUE(sealed.has_value());
  auto tre = open_tre();
  mo::OpenPolicy pol = test::policy_for("someone-else");  // ignored: the TRE knows who it is
  auto opened = tre->open_sealed(*sealed, pki.anchors(), pol);
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  EXPECT_EQ(opened->profile.binding->device_id, "tre-ec");
  auto wrong = mo::seal_profile(test::bound_profile("tre-other", 2), pki.sho_cert, pki.sho_key, dev.pfc);
  ASSERT_TRUE(wrong.has_value());
  auto r = tre->open_sealed(*wrong, pki.anchors(), test::policy_for("tre-other"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), make_error_code(mo::errc::seal_wrong_device));
}

}  // namespace
}  // namespace m2mdm::client
