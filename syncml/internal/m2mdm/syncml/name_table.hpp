/// @file name_table.hpp
/// @brief Lookups both ways in a table of (enum value, name) pairs, the form in which components
///        keep the wire names of their enums (command names, device event names), or in a table
///        of names in the order of the enum's values (DDF formats). Build-tree only.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace m2mdm::syncml {

/// The name @p table gives @p value; nullopt when the table does not hold it.
template <class E, class Name, std::size_t N>
constexpr std::optional<Name> name_in(const std::array<std::pair<E, Name>, N>& table, E value) noexcept {
  for (const auto& [v, name] : table)
    if (v == value) return name;
  return std::nullopt;
}

/// The value @p table names @p name (exact match); nullopt for a name it does not hold.
template <class E, class Name, std::size_t N>
constexpr std::optional<E> value_in(const std::array<std::pair<E, Name>, N>& table, std::string_view name) noexcept {
  for (const auto& [v, n] : table)
    if (std::string_view(n) == name) return v;
  return std::nullopt;
}

/// The name of @p value in @p names, a table of names in the order of the enum's values
/// (0, 1, ...); every value must have its name.
template <class E, std::size_t N>
constexpr std::string_view indexed_name(const std::array<std::string_view, N>& names, E value) noexcept {
  return names[static_cast<std::size_t>(value)];
}

/// The value whose name in @p names (in the order of the enum's values) is @p name (exact match);
/// nullopt for a name it does not hold.
template <class E, std::size_t N>
constexpr std::optional<E> indexed_value(const std::array<std::string_view, N>& names, std::string_view name) noexcept {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == name) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace m2mdm::syncml
