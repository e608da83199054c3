#include "m2mdm/mo/tree_store.hpp"

#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/standard_objects.hpp"
#include "tree_store_fixture.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <openssl/evp.h>
#include <unistd.h>

namespace m2mdm::mo {
namespace {

namespace fs = std::filesystem;
using namespace m2mdm::mo::test;  // NOLINT(google-build-using-namespace): the shared fixture

TEST(TreeStore, SerializeRoundTrip) {
  const Tree t = make_tree("A");
  const Bytes image = serialize_tree(t);
  auto back = deserialize_tree(image);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(fingerprint(*back), fingerprint(t));
  EXPECT_EQ(back->get_text("./Marker"), "A");
  EXPECT_EQ(read_dm_account(*back, "dpf")->app_auth.at(0).data, (Bytes{1, 2, 3, 0, 255}));
}

TEST(TreeStore, EveryTruncationAndBitFlipOfAnImageIsRefused) {
  const Bytes image = serialize_tree(make_tree("A"));
  for (std::size_t n = 0; n < image.size(); ++n) {
    const auto r = deserialize_tree(ByteView(image).first(n));
    ASSERT_FALSE(r) << "truncated at " << n;
    EXPECT_EQ(r.error(), make_error_code(errc::store_corrupt));
  }
  for (std::size_t i = 0; i < image.size(); ++i) {
    Bytes bad = image;
    bad[i] ^= 0x01;
    ASSERT_FALSE(deserialize_tree(bad)) << "bit flip at " << i;
  }
}

TEST(TreeStore, VersionIsChecked) {
  Bytes image = serialize_tree(make_tree("A"));
  image[7] = 2;  // version 2
  // Re-seal the checksum so that only the version differs.
  Bytes body(image.begin(), image.end() - 32);
  unsigned char md[32];
  unsigned int len = 0;
  ASSERT_EQ(EVP_Digest(body.data(), body.size(), md, &len, EVP_sha256(), nullptr), 1);
  std::copy(md, md + 32, image.end() - 32);
  const auto r = deserialize_tree(image);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::store_version));
}

TEST(TreeStore, SaveLoadKeepsTwoGenerations) {
  TempDir dir;
  TreeStore store(dir.path() / "tree.db");
  EXPECT_EQ(store.load().error(), make_error_code(errc::store_missing));
  ASSERT_TRUE(store.save(make_tree("A")));
  ASSERT_TRUE(store.save(make_tree("BB")));
  EXPECT_TRUE(fs::exists(store.prev_file()));
  EXPECT_FALSE(fs::exists(store.tmp_file()));
  auto t = store.load();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->get_text("./Marker"), "BB");
  EXPECT_EQ(store.last_generation(), Generation::Current);
  EXPECT_EQ((fs::status(store.file()).permissions() & fs::perms::all), fs::perms::owner_read | fs::perms::owner_write);
}

// Real files on disk: the current generation truncated at every length, or with any byte
// flipped, falls back to the previous generation; never a mix, never nothing.
TEST(TreeStore, TruncatedCurrentFileFallsBackToPrevious) {
  TempDir dir;
  TreeStore store(dir.path() / "tree.db");
  const Tree a = make_tree("A");
  const Tree b = make_tree("BB");
  ASSERT_TRUE(store.save(a));
  ASSERT_TRUE(store.save(b));
  const Bytes image = *posix_file_ops().read(store.file());
  // Every length in the header and the trailing checksum, every 7th in between (each load
  // costs a few ms under ASan; the image checks are exhaustive in the test above).
  for (std::size_t n = 0; n < image.size(); n += (n < 64 || n + 64 > image.size()) ? 1 : 7) {
    fs::resize_file(store.file(), n);
    auto t = store.load();
    ASSERT_TRUE(t) << "truncated at " << n;
    EXPECT_EQ(fingerprint(*t), fingerprint(a)) << n;
    EXPECT_EQ(store.last_generation(), Generation::Previous);
  }
  // Both generations corrupt: refused, never a half tree.
  fs::resize_file(store.prev_file(), 10);
  EXPECT_EQ(store.load().error(), make_error_code(errc::store_corrupt));
}

TEST(TreeStore, PowerLossAtEveryByteAndStepLeavesOldOrNew) {
  const Tree a = make_tree("A");
  const Tree b = make_tree("BB");
  const Tree c = make_tree("CCC");
  // Units a complete save of c takes.
  std::size_t total = 0;
  {
    TempDir dir;
    PowerLossOps ops(SIZE_MAX);
    TreeStore store(dir.path() / "tree.db", ops);
    ASSERT_TRUE(store.save(a));
    ASSERT_TRUE(store.save(b));
    PowerLossOps ops2(SIZE_MAX);
    TreeStore store2(dir.path() / "tree.db", ops2);
    ASSERT_TRUE(store2.save(c));
    total = ops2.used();
  }
  ASSERT_GT(total, serialize_tree(c).size());
  const Bytes image_a = serialize_tree(a);
  const Bytes image_b = serialize_tree(b);
  expect_old_or_new_after_power_loss(
      total, "tree.db",
      [&](const fs::path& file) {
        write_raw(fs::path(file) += ".prev", image_a);
        write_raw(file, image_b);
      },
      [](const fs::path& file, PowerLossOps& ops) { return TreeStore(file, ops); },
      [](const fs::path& file) { return TreeStore(file); }, b, c);
}

TEST(AtomicFile, WritesAndReplaces) {
  TempDir dir;
  const fs::path p = dir.path() / "f.bin";
  ASSERT_TRUE(atomic_write(posix_file_ops(), p, Bytes{1, 2, 3}));
  ASSERT_TRUE(atomic_write(posix_file_ops(), p, Bytes{4, 5}));
  EXPECT_EQ(*posix_file_ops().read(p), (Bytes{4, 5}));
  EXPECT_FALSE(fs::exists(dir.path() / "f.bin.tmp"));
  // A failure while writing the temp file leaves the old content.
  for (std::size_t budget = 0; budget < 6; ++budget) {
    PowerLossOps ops(budget);
    EXPECT_FALSE(atomic_write(ops, p, Bytes{7, 7, 7}));
    EXPECT_EQ(*posix_file_ops().read(p), (Bytes{4, 5})) << budget;
  }
  EXPECT_EQ(posix_file_ops().read(dir.path() / "none").error(), make_error_code(errc::not_found));
}

}  // namespace
}  // namespace m2mdm::mo
