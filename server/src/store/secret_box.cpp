// The store's secrets at rest: server::SecretBox keeps its API and its server::errc codes, over
// the AES-256-GCM and key file code of mo::SecretBox (m2mdm/mo/secret_box.hpp), which the
// device's TRE and sealed tree share.
#include "m2mdm/server/secret_box.hpp"

#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/secret_box.hpp"
#include "m2mdm/server/error.hpp"

namespace m2mdm::server {
namespace {

// mo::SecretBox's codes as the store has always reported them.
std::error_code server_error(std::error_code e) {
  if (e == mo::errc::seal_tag_mismatch) return make_error_code(errc::decrypt_failed);
  if (e == mo::errc::bad_key) return make_error_code(errc::config_error);  // loose or wrong-size key file
  if (e == mo::errc::invalid_argument) return make_error_code(errc::invalid_argument);
  if (e == mo::errc::crypto_failure || e == mo::errc::io_error) return make_error_code(errc::io_error);
  return e;  // errno of the key file
}

Result<mo::SecretBox> box_of(ByteView key) {
  auto box = mo::SecretBox::from_key(key);
  if (!box) return fail(server_error(box.error()));
  return box;
}

}  // namespace

Result<SecretBox> SecretBox::from_key(ByteView key) {
  if (auto box = box_of(key); !box) return fail(box.error());
  return SecretBox(Bytes(key.begin(), key.end()));
}

Result<SecretBox> SecretBox::load_or_create(const std::filesystem::path& path) {
  auto key = mo::load_or_create_key_file(path, key_size);
  if (!key) return fail(server_error(key.error()));
  return SecretBox(Bytes(key->view().begin(), key->view().end()));
}

Result<Bytes> SecretBox::seal(ByteView plain, std::string_view aad) const {
  auto box = box_of(key_);
  if (!box) return fail(box.error());
  auto sealed = box->seal(plain, aad);
  if (!sealed) return fail(server_error(sealed.error()));
  return sealed;
}

Result<Bytes> SecretBox::open(ByteView sealed, std::string_view aad) const {
  auto box = box_of(key_);
  if (!box) return fail(box.error());
  auto plain = box->open(sealed, aad);
  if (!plain) return fail(server_error(plain.error()));
  return Bytes(plain->view().begin(), plain->view().end());
}

}  // namespace m2mdm::server
