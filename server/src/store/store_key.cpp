// The store's secrets at rest are sealed with mo::SecretBox (m2mdm/mo/secret_box.hpp, shared with
// the device's TRE and sealed tree); its key file and its failures as the store reports them.
#include "m2mdm/mo/error.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/sqlite_store.hpp"
#include "sqlite_impl.hpp"

namespace m2mdm::server {

std::error_code sqlite_detail::box_error(std::error_code e) {
  if (e == mo::errc::seal_tag_mismatch) return make_error_code(errc::decrypt_failed);
  if (e == mo::errc::bad_key) return make_error_code(errc::config_error);  // loose or wrong-size key file
  if (e == mo::errc::invalid_argument) return make_error_code(errc::invalid_argument);
  if (e == mo::errc::crypto_failure || e == mo::errc::io_error) return make_error_code(errc::io_error);
  return e;  // errno of the key file
}

Result<mo::SecretBox> load_store_key(const std::filesystem::path& path) {
  auto box = mo::SecretBox::load_or_create(path);
  if (!box) return fail(sqlite_detail::box_error(box.error()));
  return box;
}

}  // namespace m2mdm::server
