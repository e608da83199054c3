// The Luhn check digit (ITU-T E.118 / ISO/IEC 7812-1) of an ICCID: the MCIM profile checks it,
// `m2mdm demo` appends it to the ICCIDs it makes (internal to the project, not installed).
#pragma once

#include <string_view>

namespace m2mdm::mo::detail {

/// The Luhn sum of the ASCII digits @p digits: every second digit from the right doubled (less 9
/// when that exceeds 9), starting with the rightmost one when @p double_rightmost.
inline int luhn_sum(std::string_view digits, bool double_rightmost) noexcept {
  int sum = 0;
  bool twice = double_rightmost;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum;
}

/// True when the last of @p digits is the Luhn check digit of the ones before it.
inline bool luhn_ok(std::string_view digits) noexcept { return luhn_sum(digits, false) % 10 == 0; }

/// The Luhn check digit to append to @p payload.
inline char luhn_check_digit(std::string_view payload) noexcept {
  return static_cast<char>('0' + (10 - luhn_sum(payload, true) % 10) % 10);
}

}  // namespace m2mdm::mo::detail
