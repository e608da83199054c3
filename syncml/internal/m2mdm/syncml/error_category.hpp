/// @file error_category.hpp
/// @brief The one std::error_category implementation behind every component's errc
///        (m2mdm.syncml, m2mdm.mo, m2mdm.bootstrap, m2mdm.client, m2mdm.server): a name and a
///        function that says what a value means. Build-tree only (not installed).
#pragma once

#include "m2mdm/syncml/common_errc.hpp"

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

/// The case labels of the shared codes (M2MDM_COMMON_ERRC_ENUMERATORS) of errc type @p E, for a
/// component's describe switch: `M2MDM_COMMON_ERRC_CASES(errc): return syncml::common_error_text(v);`
/// keeps the switch complete (-Wswitch) without repeating the shared messages.
#define M2MDM_COMMON_ERRC_CASES(E) \
  case E::ok:                      \
  case E::invalid_argument:        \
  case E::malformed:               \
  case E::not_found:               \
  case E::io_error

namespace common {
/// The shared codes as an enum of their own, to name their messages.
enum class errc { M2MDM_COMMON_ERRC_ENUMERATORS };
}  // namespace common

/// What a shared code (M2MDM_COMMON_ERRC_ENUMERATORS) means; nullptr for any other value.
constexpr const char* common_error_text(int value) noexcept {
  switch (static_cast<common::errc>(value)) {
    case common::errc::ok: return "success";
    case common::errc::invalid_argument: return "invalid argument";
    case common::errc::malformed: return "malformed input";
    case common::errc::not_found: return "not found";
    case common::errc::io_error: return "I/O error";
  }
  return nullptr;
}

}  // namespace m2mdm::syncml
