// The identifier alphabet of mo's signed documents (MCIM profile sho_id/device/transaction id,
// operator-change token dev/from/to, test SHO ids): [A-Za-z0-9._:-].
#pragma once

#include <algorithm>
#include <string_view>

namespace m2mdm::mo::detail {

/// True when every character of @p s is one of A-Z a-z 0-9 . _ : - (an empty @p s is true).
inline bool is_id_text(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
           c == ':' || c == '-';
  });
}

}  // namespace m2mdm::mo::detail
