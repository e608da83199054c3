// Internal to the SQLite store: a row type's columns declared once, each column's name in the
// SELECT list beside the member it is read into. The SELECT list and the reader come from the same
// declaration, so a column cannot be added to one and not the other (which would shift every
// member read after it), and no reader numbers columns by hand.
#pragma once

#include "m2mdm/syncml/encoding.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

namespace m2mdm::server::sqlite_detail {

/// A column read into Row::*member by the member's type: text into std::string, a blob into
/// Bytes, an integer into an integer type (bool: non-zero), NULL into an empty std::optional.
template <typename Row, typename Member>
struct Field {
  std::string_view name;
  Member Row::*member;
};

/// A column read into the enum Row::*member from its text; @c fallback when the text names no
/// value of the enum.
template <typename Row, typename Enum>
struct EnumField {
  std::string_view name;
  Enum Row::*member;
  std::optional<Enum> (*from_string)(std::string_view) noexcept;
  Enum fallback;
};

/// A column of the SELECT list that the row's reader reads itself (a sealed cell, JSON), at
/// RowColumns::index(name).
struct ByHand {
  std::string_view name;
};

namespace row_columns_detail {

template <typename T>
inline constexpr bool is_optional = false;
template <typename T>
inline constexpr bool is_optional<std::optional<T>> = true;

/// Called only where RowColumns::index() is given a name the list does not hold: not a constant
/// expression, so such a call does not compile.
inline void column_not_in_list() {}

/// Cell @p i of @p cells (a Query: col_i64, col_text, col_blob, col_null) into @p out, by its type.
template <typename Cells, typename T>
void read_cell(const Cells& cells, int i, T& out) {
  if constexpr (std::is_same_v<T, std::string>) {
    out = cells.col_text(i);
  } else if constexpr (std::is_same_v<T, Bytes>) {
    out = cells.col_blob(i);
  } else if constexpr (std::is_same_v<T, bool>) {
    out = cells.col_i64(i) != 0;
  } else if constexpr (std::is_integral_v<T>) {
    out = static_cast<T>(cells.col_i64(i));
  } else if constexpr (is_optional<T>) {
    if (cells.col_null(i))
      out.reset();
    else
      read_cell(cells, i, out.emplace());
  } else {
    static_assert(!sizeof(T), "no column reader for this member type");
  }
}

template <typename Cells, typename Row, typename Member>
void read_column(const Cells& cells, int i, const Field<Row, Member>& field, Row& row) {
  read_cell(cells, i, row.*field.member);
}
template <typename Cells, typename Row, typename Enum>
void read_column(const Cells& cells, int i, const EnumField<Row, Enum>& field, Row& row) {
  row.*field.member = field.from_string(cells.col_text(i)).value_or(field.fallback);
}
template <typename Cells, typename Row>
void read_column(const Cells&, int, const ByHand&, Row&) {}

}  // namespace row_columns_detail

/// The columns of one row type, in SELECT order (row_columns() makes one).
template <typename Row, typename... Columns>
class RowColumns {
 public:
  constexpr explicit RowColumns(Columns... columns) : columns_(columns...), names_{columns.name...} {}

  /// How many columns the SELECT list has (the index of a column appended after them).
  static constexpr int size() { return static_cast<int>(sizeof...(Columns)); }

  /// The names, in SELECT order.
  constexpr std::span<const std::string_view> names() const { return names_; }

  /// The index of column @p name in the SELECT list; a name that is not in it does not compile.
  consteval int index(std::string_view name) const {
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == name) return static_cast<int>(i);
    row_columns_detail::column_not_in_list();
    return -1;
  }

  /// The SELECT list: the names joined by ", ", each after @p prefix (a table alias, "j."), with
  /// the columns named in @p as_empty_blob selected as x'' (a read that must not hold them).
  std::string list(std::string_view prefix = {}, std::span<const std::string_view> as_empty_blob = {}) const {
    std::string out;
    for (const std::string_view name : names_) {
      if (!out.empty()) out += ", ";
      bool blank = false;
      for (const std::string_view b : as_empty_blob) blank = blank || b == name;
      if (blank) {
        out += "x''";
      } else {
        out += prefix;
        out += name;
      }
    }
    return out;
  }

  /// The row under @p cells (a Query at a row of this SELECT list), every column but the ByHand
  /// ones read.
  template <typename Cells>
  Row read(const Cells& cells) const {
    Row row;
    std::apply(
        [&](const auto&... column) {
          int i = 0;
          (row_columns_detail::read_column(cells, i++, column, row), ...);
        },
        columns_);
    return row;
  }

 private:
  std::tuple<Columns...> columns_;
  std::array<std::string_view, sizeof...(Columns)> names_;
};

/// The columns of @p Row in SELECT order: Field, EnumField and ByHand entries.
template <typename Row, typename... Columns>
constexpr RowColumns<Row, Columns...> row_columns(Columns... columns) {
  return RowColumns<Row, Columns...>(columns...);
}

/// The SELECT list of @p Columns (a RowColumns with static storage), built once.
template <const auto& Columns>
const std::string& column_list() {
  static const std::string list = Columns.list();
  return list;
}

}  // namespace m2mdm::server::sqlite_detail
