#include "m2mdm/server/error.hpp"

namespace m2mdm::server {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "m2mdm.server"; }
  std::string message(int v) const override {
    switch (static_cast<errc>(v)) {
      case errc::ok: return "success";
      case errc::invalid_argument: return "invalid argument";
      case errc::malformed: return "malformed input";
      case errc::not_found: return "not found";
      case errc::io_error: return "I/O error";
      case errc::store_corrupt: return "store file is corrupt or not an m2mdm store";
      case errc::decrypt_failed: return "secret at rest failed authentication";
      case errc::conflict: return "conflict with existing state";
      case errc::tls_error: return "TLS setup failed";
      case errc::bind_failed: return "cannot listen on the address";
      case errc::config_error: return "invalid configuration";
    }
    return "unknown m2mdm.server error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const Category c;
  return c;
}

}  // namespace m2mdm::server
