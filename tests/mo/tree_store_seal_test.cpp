// A TreeStore with a TreeSealer (issue 14, finding 6): images sealed with AES-256-GCM
// (mo::SecretBox) under a caller-held key, the file name as associated data. Real files, real
// OpenSSL: no secret in clear on disk, clear images of an earlier release migrated, another
// key or an altered image refused (never an empty tree), and a power loss at every byte and
// step of a sealed save, or of the migration, leaves the old or the new tree.
#include "m2mdm/mo/secret_box.hpp"
#include "m2mdm/mo/tree_store.hpp"
#include "tree_store_fixture.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace m2mdm::mo {
namespace {

namespace fs = std::filesystem;
using namespace m2mdm::mo::test;  // NOLINT(google-build-using-namespace): the shared fixture

// A sealer over a SecretBox whose key is 32 times @p fill.
TreeSealer sealer(std::uint8_t fill = 0x5A) {
  auto box = std::make_shared<SecretBox>(*SecretBox::from_key(Bytes(SecretBox::key_size, fill)));
  TreeSealer s;
  s.seal = [box](ByteView image, std::string_view aad) { return box->seal(image, aad); };
  s.open = [box](ByteView sealed, std::string_view aad) { return box->open(sealed, aad); };
  return s;
}

std::string text_of(const fs::path& p) {
  auto b = posix_file_ops().read(p);
  return b ? std::string(as_chars(*b)) : std::string();
}

// make_tree()'s account secret, its nonce (1 2 3 0 255) and the node names around them.
void expect_no_secret_in(const fs::path& p) {
  const std::string bytes = text_of(p);
  ASSERT_FALSE(bytes.empty()) << p;
  for (std::string_view clear : {"s3cret", "AAuthSecret", "AAuthData", "DMAcc", "dpf.example"})
    EXPECT_EQ(bytes.find(clear), std::string::npos) << clear << " in clear in " << p.filename();
  EXPECT_EQ(bytes.find(std::string("\x01\x02\x03\x00\xff", 5)), std::string::npos) << "nonce in " << p.filename();
  EXPECT_EQ(bytes.rfind("M2MS", 0), 0u) << p.filename();
}

TEST(SealedTreeStore, BothGenerationsAreSealedAndLoadBack) {
  TempDir dir;
  TreeStore store(dir.path() / "tree.m2mt", sealer());
  ASSERT_TRUE(store.save(make_tree("A")));
  ASSERT_TRUE(store.save(make_tree("BB")));
  expect_no_secret_in(store.file());
  expect_no_secret_in(store.prev_file());
  auto t = store.load();
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(fingerprint(*t), fingerprint(make_tree("BB")));
  EXPECT_FALSE(store.holds_clear_image());
  EXPECT_EQ((fs::status(store.file()).permissions() & fs::perms::all), fs::perms::owner_read | fs::perms::owner_write);
  // The previous generation opens too (same bytes renamed, same associated data).
  fs::remove(store.file());
  auto prev = store.load();
  ASSERT_TRUE(prev);
  EXPECT_EQ(fingerprint(*prev), fingerprint(make_tree("A")));
  EXPECT_EQ(store.last_generation(), Generation::Previous);
}

TEST(SealedTreeStore, AnotherKeyOrNoKeyIsAnErrorNeverAnEmptyTree) {
  TempDir dir;
  const fs::path file = dir.path() / "tree.m2mt";
  TreeStore store(file, sealer());
  ASSERT_TRUE(store.save(make_tree("A")));
  ASSERT_TRUE(store.save(make_tree("BB")));
  const std::string current = text_of(file);
  TreeStore other(file, sealer(0x5B));
  EXPECT_EQ(other.load().error(), make_error_code(errc::seal_tag_mismatch));
  TreeStore keyless(file);
  EXPECT_EQ(keyless.load().error(), make_error_code(errc::bad_key));
  // A sealer that cannot give its key (e.g. the TRE lost it): its error, nothing loads.
  TreeSealer lost = sealer();
  lost.open = [](ByteView, std::string_view) -> Result<SecretBytes> { return fail(errc::bad_key); };
  EXPECT_EQ(TreeStore(file, lost).load().error(), make_error_code(errc::bad_key));
  // An image moved to a store of another name does not open either (the AAD names the file).
  fs::copy_file(file, dir.path() / "other.m2mt");
  fs::copy_file(store.prev_file(), dir.path() / "other.m2mt.prev");
  EXPECT_EQ(TreeStore(dir.path() / "other.m2mt", sealer()).load().error(), make_error_code(errc::seal_tag_mismatch));
  EXPECT_EQ(text_of(file), current);  // nothing was rewritten
}

TEST(SealedTreeStore, AnAlteredGenerationFallsBackAndTwoAreRefused) {
  TempDir dir;
  TreeStore store(dir.path() / "tree.m2mt", sealer());
  ASSERT_TRUE(store.save(make_tree("A")));
  ASSERT_TRUE(store.save(make_tree("BB")));
  const Bytes current = *posix_file_ops().read(store.file());
  const Bytes previous = *posix_file_ops().read(store.prev_file());
  // Every byte of the current image flipped in turn (header, nonce, ciphertext, tag): the
  // previous generation is used, never a tree built from altered bytes.
  for (std::size_t i = 0; i < current.size(); i += (i < 64 || i + 64 > current.size()) ? 1 : 11) {
    Bytes bad = current;
    bad[i] ^= 0x20;
    write_raw(store.file(), bad);
    auto t = store.load();
    ASSERT_TRUE(t) << "flip at " << i;
    EXPECT_EQ(store.last_generation(), Generation::Previous) << i;
    EXPECT_EQ(fingerprint(*t), fingerprint(make_tree("A"))) << i;
  }
  Bytes bad_prev = previous;
  bad_prev[bad_prev.size() / 2] ^= 0x01;
  write_raw(store.prev_file(), bad_prev);
  Bytes bad_current = current;
  bad_current[bad_current.size() - 1] ^= 0x01;  // the tag
  write_raw(store.file(), bad_current);
  EXPECT_EQ(store.load().error(), make_error_code(errc::seal_tag_mismatch));
  // An unknown sealed version is refused as such.
  Bytes v2 = current;
  v2[7] = 2;
  write_raw(store.file(), v2);
  write_raw(store.prev_file(), v2);
  EXPECT_EQ(store.load().error(), make_error_code(errc::store_version));
}

TEST(SealedTreeStore, AClearTreeIsReadAndTwoSavesSealBothGenerations) {
  TempDir dir;
  const fs::path file = dir.path() / "tree.m2mt";
  {
    TreeStore clear(file);
    ASSERT_TRUE(clear.save(make_tree("A")));
    ASSERT_TRUE(clear.save(make_tree("BB")));
  }
  ASSERT_NE(text_of(file).find("s3cret"), std::string::npos);
  write_raw(dir.path() / "tree.m2mt.tmp", serialize_tree(make_tree("CCC")));  // an interrupted save
  TreeStore store(file, sealer());
  auto t = store.load();
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(fingerprint(*t), fingerprint(make_tree("BB")));
  EXPECT_TRUE(store.holds_clear_image());
  ASSERT_TRUE(store.save(*t));
  ASSERT_TRUE(store.load());
  EXPECT_TRUE(store.holds_clear_image());  // .prev is still the clear image
  ASSERT_TRUE(store.save(*t));
  auto again = store.load();
  ASSERT_TRUE(again);
  EXPECT_FALSE(store.holds_clear_image());
  EXPECT_EQ(fingerprint(*again), fingerprint(make_tree("BB")));
  expect_no_secret_in(file);
  expect_no_secret_in(store.prev_file());
  EXPECT_FALSE(fs::exists(store.tmp_file()));
}

// Once both generations are sealed (the sealer records it, e.g. in the TRE), a clear image is
// no longer read: whoever can write the state directory could otherwise plant a tree with a DM
// account of its own. The sealed generation that is left is used; none: errc::store_unsealed.
TEST(SealedTreeStore, AfterBothGenerationsAreSealedAPlantedClearImageIsRefused) {
  TempDir dir;
  const fs::path file = dir.path() / "tree.m2mt";
  auto marked = std::make_shared<bool>(false);
  TreeSealer s = sealer();
  s.sealed_before = [marked] { return *marked; };
  s.mark_sealed = [marked]() -> Result<void> {
    *marked = true;
    return {};
  };
  {
    TreeStore clear(file);  // an earlier release's clear tree: still read, for the migration
    ASSERT_TRUE(clear.save(make_tree("A")));
  }
  TreeStore store(file, s);
  auto t = store.load();
  ASSERT_TRUE(t) << t.error().message();
  ASSERT_TRUE(store.save(make_tree("BB")));
  EXPECT_FALSE(*marked) << "the previous generation is still the clear one";
  ASSERT_TRUE(store.save(make_tree("CCC")));
  EXPECT_TRUE(*marked);
  write_raw(file, serialize_tree(make_tree("EVIL")));
  auto after = store.load();
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(fingerprint(*after), fingerprint(make_tree("BB"))) << "the sealed previous generation, not the planted one";
  write_raw(store.prev_file(), serialize_tree(make_tree("EVIL")));
  auto none = store.load();
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), make_error_code(errc::store_unsealed));
}

// The power-loss proof of tree_store_test.cpp, for a sealed save over sealed generations and
// for the first sealed save over clear ones (the migration).
void power_loss_leaves_old_or_new(bool clear_before) {
  const Tree a = make_tree("A");
  const Tree b = make_tree("BB");
  const Tree c = make_tree("CCC");
  // The generations before the save, made once (fsync'd saves are slow) and copied per run.
  Bytes before_current;
  Bytes before_prev;
  {
    TempDir dir;
    const fs::path file = dir.path() / "tree.m2mt";
    TreeStore s = clear_before ? TreeStore(file) : TreeStore(file, sealer());
    ASSERT_TRUE(s.save(a));
    ASSERT_TRUE(s.save(b));
    before_current = *posix_file_ops().read(s.file());
    before_prev = *posix_file_ops().read(s.prev_file());
  }
  auto prepare = [&](const fs::path& file) {
    write_raw(file, before_current);
    write_raw(fs::path(file) += ".prev", before_prev);
  };
  std::size_t total = 0;
  {
    TempDir dir;
    prepare(dir.path() / "tree.m2mt");
    PowerLossOps ops(SIZE_MAX);
    TreeStore store(dir.path() / "tree.m2mt", sealer(), ops);
    ASSERT_TRUE(store.save(c));
    total = ops.used();
  }
  ASSERT_GT(total, serialize_tree(c).size());
  expect_old_or_new_after_power_loss(
      total, "tree.m2mt", prepare, [](const fs::path& file, PowerLossOps& ops) { return TreeStore(file, sealer(), ops); },
      [](const fs::path& file) { return TreeStore(file, sealer()); }, b, c);
}

TEST(SealedTreeStore, PowerLossAtEveryByteAndStepOfASealedSaveLeavesOldOrNew) { power_loss_leaves_old_or_new(false); }

TEST(SealedTreeStore, PowerLossAtEveryByteAndStepOfTheMigrationLeavesOldOrNew) { power_loss_leaves_old_or_new(true); }

}  // namespace
}  // namespace m2mdm::mo
