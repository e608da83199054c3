/// @file error_category.hpp
/// @brief The one std::error_category implementation behind every component's errc
///        (m2mdm.syncml, m2mdm.mo, m2mdm.bootstrap, m2mdm.client, m2mdm.server): a name and a
///        function that says what a value means. Build-tree only (not installed).
#pragma once

#include "m2mdm/syncml/common_errc.hpp"

#include <string>
#include <system_error>
#include <type_traits>

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

/// The errc type @p E a describe function `const char* describe(E) noexcept` takes.
template <class F>
struct DescribedErrc;
template <class E>
struct DescribedErrc<const char* (*)(E) noexcept> {
  using type = E;
};

/// @p Describe (`const char* describe(E) noexcept` for a component's errc @p E) as the
/// int-valued function NamedErrorCategory takes: the value is read as an @p E.
template <auto Describe>
const char* describe_value(int value) noexcept {
  return Describe(static_cast<typename DescribedErrc<decltype(Describe)>::type>(value));
}

/// Defines the enclosing namespace's `const std::error_category& category() noexcept`: one
/// NamedErrorCategory called @p NAME whose messages come from @p DESCRIBE
/// (`const char* DESCRIBE(errc) noexcept`, nullptr for a value it does not know).
#define M2MDM_DEFINE_ERROR_CATEGORY(NAME, DESCRIBE)                                                       \
  const std::error_category& category() noexcept {                                                       \
    static const ::m2mdm::syncml::NamedErrorCategory c(NAME, ::m2mdm::syncml::describe_value<DESCRIBE>); \
    return c;                                                                                            \
  }

/// The case labels of the shared codes (M2MDM_COMMON_ERRC_ENUMERATORS) of errc type @p E, for a
/// component's describe switch: `M2MDM_COMMON_ERRC_CASES(errc): return syncml::common_error_text(v);`
/// keeps the switch complete (-Wswitch) without repeating the shared messages (`v` being the
/// errc value).
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

/// common_error_text() of a component's errc value @p value.
template <class E>
  requires std::is_enum_v<E>
constexpr const char* common_error_text(E value) noexcept {
  return common_error_text(static_cast<int>(value));
}

}  // namespace m2mdm::syncml
