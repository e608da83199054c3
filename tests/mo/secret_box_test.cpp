// mo::SecretBox: AES-256-GCM at rest, shared by the server store, the software TRE and the
// device's sealed tree. Real OpenSSL, real key files.
#include "m2mdm/mo/secret_box.hpp"

#include "m2mdm/mo/error.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace m2mdm::mo {
namespace {

namespace fs = std::filesystem;

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
