#include "m2mdm/bootstrap/error.hpp"

namespace m2mdm::bootstrap {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "m2mdm.bootstrap"; }
  std::string message(int v) const override {
    switch (static_cast<errc>(v)) {
      case errc::ok: return "success";
      case errc::invalid_argument: return "invalid argument";
      case errc::malformed: return "malformed input";
      case errc::not_found: return "not found";
      case errc::io_error: return "I/O error";
    }
    return "unknown m2mdm.bootstrap error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const Category c;
  return c;
}

}  // namespace m2mdm::bootstrap
