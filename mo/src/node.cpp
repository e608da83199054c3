#include "m2mdm/mo/node.hpp"
#include "m2mdm/syncml/name_table.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

namespace m2mdm::mo {
namespace {

constexpr std::array<std::string_view, 11> kFormatNames{
    "b64", "bin", "bool", "chr", "int", "node", "null", "xml", "date", "time", "float"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}

// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

bool valid_date(std::string_view s) {
  // ISO 8601 calendar date YYYY-MM-DD (DM_DDF 1.2 DFFormat date).
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!all_digits(s.substr(0, 4)) || !all_digits(s.substr(5, 2)) || !all_digits(s.substr(8, 2))) return false;
  const int month = (s[5] - '0') * 10 + (s[6] - '0');
  const int day = (s[8] - '0') * 10 + (s[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

bool valid_time(std::string_view s) {
  // ISO 8601 time hh:mm:ss with an optional 'Z' (DM_DDF 1.2 DFFormat time).
  if (s.size() == 9 && s.back() == 'Z') s.remove_suffix(1);
  if (s.size() != 8 || s[2] != ':' || s[5] != ':') return false;
  if (!all_digits(s.substr(0, 2)) || !all_digits(s.substr(3, 2)) || !all_digits(s.substr(6, 2))) return false;
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  const int sec = (s[6] - '0') * 10 + (s[7] - '0');
  return h <= 23 && m <= 59 && sec <= 60;
}

bool valid_float(std::string_view s) {
  // [sign] digits [. digits] [(e|E) [sign] digits]
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::size_t d = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++d;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++d;
  }
  if (d == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    std::size_t e = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++e;
    if (e == 0) return false;
  }
  return i == s.size();
}

}  // namespace

std::string_view format_name(Format f) noexcept { return syncml::indexed_name(kFormatNames, f); }

std::optional<Format> parse_format(std::string_view name) noexcept {
  return syncml::indexed_value<Format>(kFormatNames, name);
}

bool value_valid_for(Format f, ByteView value) noexcept {
  const std::string_view s = as_chars(value);
  switch (f) {
    case Format::B64:
    case Format::Bin:
    case Format::Xml:
      return true;
    case Format::Node:
    case Format::Null:
      return value.empty();
    case Format::Bool:
      return s == "true" || s == "false";  // DM_TND 1.2 §7.7.2
    case Format::Int: {
      // DM_TND 1.2 §7.7.2: a signed 32-bit integer in decimal.
      if (s.empty()) return false;
      std::int64_t v = 0;
      const char* b = s.data();
      const char* e = s.data() + s.size();
      if (*b == '+') ++b;
      if (b == e || (*b == '-' && b + 1 == e)) return false;
      const auto [p, ec] = std::from_chars(b, e, v);
      if (ec != std::errc{} || p != e) return false;
      return v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max();
    }
    case Format::Chr:
      return valid_utf8(s);
    case Format::Date:
      return valid_date(s);
    case Format::Time:
      return valid_time(s);
    case Format::Float:
      return valid_float(s);
  }
  return false;
}

}  // namespace m2mdm::mo
