#include "m2mdm/mo/error.hpp"

namespace m2mdm::mo {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "m2mdm.mo"; }
  std::string message(int v) const override {
    switch (static_cast<errc>(v)) {
      case errc::ok: return "success";
      case errc::invalid_argument: return "invalid argument";
      case errc::malformed: return "malformed input";
      case errc::not_found: return "not found";
      case errc::io_error: return "I/O error";
      case errc::crypto_error: return "cryptographic operation failed";
      case errc::mac_mismatch: return "authentication code mismatch";
      case errc::sqn_exhausted: return "sequence number space exhausted";
    }
    return "unknown m2mdm.mo error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const Category c;
  return c;
}

}  // namespace m2mdm::mo
