/// @file error_category.hpp
/// @brief The one std::error_category implementation behind every component's errc
///        (m2mdm.syncml, m2mdm.mo, m2mdm.bootstrap, m2mdm.client, m2mdm.server): a name and a
///        function that says what a value means. Build-tree only (not installed).
#pragma once

#include <string>
#include <system_error>

namespace m2mdm::syncml {

/// A category called @p name whose messages come from @p describe; a value @p describe does not
/// know (it returns nullptr) reads "unknown <name> error".
class NamedErrorCategory final : public std::error_category {
 public:
  using Describe = const char* (*)(int value) noexcept;
  NamedErrorCategory(const char* name, Describe describe) noexcept : name_(name), describe_(describe) {}

  const char* name() const noexcept override { return name_; }
  std::string message(int value) const override {
    if (const char* m = describe_(value)) return m;
    return std::string("unknown ") + name_ + " error";
  }

 private:
  const char* name_;
  Describe describe_;
};

}  // namespace m2mdm::syncml
