/// @file text_table.hpp
/// @brief The human output of the listing commands (`m2mdm devices list`, `jobs list`, ...):
///        columns aligned on the widest cell, two spaces apart, a header line in capitals.
///        (Written here because it is twenty lines; the Debian table libraries would add a
///        dependency to the command for no behaviour we need.)
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace m2mdm::cli {

/// Rows of text cells printed as aligned columns.
class TextTable {
 public:
  /// A table with these column headers.
  explicit TextTable(std::vector<std::string> headers);
  /// Appends a row; missing cells print empty, extra cells are dropped.
  void add(std::vector<std::string> row);
  /// Number of rows added.
  std::size_t rows() const noexcept { return rows_.size(); }
  /// Prints the header and every row, the last column unpadded.
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

/// A UNIX time in seconds as "YYYY-MM-DDTHH:MM:SSZ" (UTC); 0 or less as "-".
std::string utc_time(std::int64_t seconds);

}  // namespace m2mdm::cli
