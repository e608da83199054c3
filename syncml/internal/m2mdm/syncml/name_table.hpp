/// @file name_table.hpp
/// @brief Lookups both ways in a table of (enum value, name) pairs, the form in which components
///        keep the wire names of their enums (command names, device event names). Build-tree only.
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

}  // namespace m2mdm::syncml
