// mo::SecretBox: AES-256-GCM at rest, shared by the server store, the software TRE and the
// device's sealed tree. Real OpenSSL, real key files.
#include "m2mdm/mo/secret_box.hpp"

#include "m2mdm/mo/error.hpp"
#include "m2mdm/test/hex.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace m2mdm::mo {
namespace {

namespace fs = std::filesystem;
using test::unhex;

Bytes bytes_of(std::string_view s) {
  const ByteView v = as_bytes(s);
  return Bytes(v.begin(), v.end());
}

TEST(SecretBox, SealsAndOpensUnderItsAssociatedDataOnly) {
  auto box = SecretBox::from_key(Bytes(SecretBox::key_size, 0x42));
  ASSERT_TRUE(box);
  const Bytes plain = bytes_of("AAuthSecret=client-secret");
  auto sealed = box->seal(plain, "tree.m2mt");
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->size(), SecretBox::nonce_size + plain.size() + SecretBox::tag_size);
  EXPECT_EQ(as_chars(*sealed).find("client-secret"), std::string_view::npos);
  auto opened = box->open(*sealed, "tree.m2mt");
  ASSERT_TRUE(opened);
  EXPECT_TRUE(constant_time_equal(opened->view(), plain));
  // Two seals of one plaintext differ (random nonce).
  EXPECT_NE(*box->seal(plain, "tree.m2mt"), *sealed);
  // Wrong associated data, wrong key, any flipped bit, truncation: refused.
  EXPECT_EQ(box->open(*sealed, "other").error(), make_error_code(errc::seal_tag_mismatch));
  auto other = SecretBox::from_key(Bytes(SecretBox::key_size, 0x43));
  EXPECT_EQ(other->open(*sealed, "tree.m2mt").error(), make_error_code(errc::seal_tag_mismatch));
  for (std::size_t i = 0; i < sealed->size(); ++i) {
    Bytes bad = *sealed;
    bad[i] ^= 0x01;
    EXPECT_FALSE(box->open(bad, "tree.m2mt")) << i;
  }
  for (std::size_t n = 0; n < sealed->size(); ++n) EXPECT_FALSE(box->open(ByteView(*sealed).first(n), "tree.m2mt")) << n;
  EXPECT_EQ(SecretBox::from_key(Bytes(31, 1)).error(), make_error_code(errc::invalid_argument));
}

// The sealed format is nonce || ciphertext || tag of plain AES-256-GCM: the GCM specification's
// test cases 13 and 16 (McGrew & Viega, "The Galois/Counter Mode of Operation", AES-256), laid out
// that way, open to their plaintexts; the same bytes under other associated data do not.
TEST(SecretBox, OpensTheGcmSpecificationTestCases) {
  auto zero = SecretBox::from_key(Bytes(SecretBox::key_size, 0));
  ASSERT_TRUE(zero);
  const Bytes empty_sealed = unhex("000000000000000000000000" "530f8afbc74536b9a963b4f1c4cb738b");
  auto opened = zero->open(empty_sealed, "");
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(opened->view().size(), 0u);
  EXPECT_EQ(zero->open(empty_sealed, "x").error(), make_error_code(errc::seal_tag_mismatch));

  auto box = SecretBox::from_key(unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"));
  ASSERT_TRUE(box);
  const Bytes aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const std::string_view aad_text(reinterpret_cast<const char*>(aad.data()), aad.size());
  const Bytes sealed = unhex(
      "cafebabefacedbaddecaf888"
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
      "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
      "76fc6ece0f4e1768cddf8853bb2d551b");
  opened = box->open(sealed, aad_text);
  ASSERT_TRUE(opened) << opened.error().message();
  const Bytes plain = unhex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  EXPECT_TRUE(constant_time_equal(opened->view(), plain));
  EXPECT_EQ(box->open(sealed, aad_text.substr(1)).error(), make_error_code(errc::seal_tag_mismatch));
}

TEST(SecretBox, KeyFileIsCreatedPrivateAndLooseOnesAreRefused) {
  const fs::path dir = fs::temp_directory_path() / ("m2mdm_secret_box_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path key = dir / "secrets.key";
  auto a = SecretBox::load_or_create(key);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(fs::file_size(key), SecretBox::key_size);
  EXPECT_EQ(fs::status(key).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  auto sealed = a->seal(bytes_of("x"), "aad");
  ASSERT_TRUE(sealed);
  auto b = SecretBox::load_or_create(key);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->open(*sealed, "aad"));
  ::chmod(key.c_str(), 0640);
  EXPECT_EQ(SecretBox::load_or_create(key).error(), make_error_code(errc::bad_key));
  ::chmod(key.c_str(), 0600);
  fs::resize_file(key, 16);
  EXPECT_EQ(SecretBox::load_or_create(key).error(), make_error_code(errc::bad_key));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace m2mdm::mo
