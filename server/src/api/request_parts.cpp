#include "api/request_parts.hpp"

#include <charconv>

#include "m2mdm/syncml/encoding.hpp"

#include <cctype>

namespace m2mdm::server {

std::optional<std::string> pct_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    auto b = hex_decode(s.substr(i + 1, 2));
    if (!b || (*b)[0] == '/' || (*b)[0] == 0) return std::nullopt;
    out += static_cast<char>((*b)[0]);
    i += 2;
  }
  return out;
}

std::vector<std::string_view> split_path(std::string_view p) {
  std::vector<std::string_view> out;
  while (!p.empty()) {
    if (p.front() == '/') {
      p.remove_prefix(1);
      continue;
    }
    auto n = p.find('/');
    out.push_back(p.substr(0, n));
    p = n == std::string_view::npos ? std::string_view{} : p.substr(n + 1);
  }
  return out;
}

std::string query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = kv.find('=');
    if (kv.substr(0, eq) == name) return pct_decode(eq == std::string_view::npos ? "" : kv.substr(eq + 1)).value_or("");
  }
  return {};
}

std::string_view media_type(std::optional<std::string_view> ct) {
  if (!ct) return {};
  std::string_view v = *ct;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return v;
}

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool json_body_type(std::string_view mt) {
  return mt.empty() || ieq(mt, "application/json") || ieq(mt, "application/x-www-form-urlencoded");
}

std::optional<std::int64_t> positive_id(std::string_view text) {
  std::int64_t id = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || p != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

}  // namespace m2mdm::server
