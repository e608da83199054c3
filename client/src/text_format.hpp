// text_format("a {} b {}", x, y): the "{}" placeholders of a message filled in order, for the
// Device's event and log lines without a formatting library (issue 13: the agent's memory).
// Only "{}" is supported; strings, string views, C strings, characters and integers are written
// as they are. A surplus "{}" stays as it is, a surplus argument is dropped.
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>

namespace m2mdm::client::detail {

inline void append_text(std::string& out, std::string_view v) { out += v; }
inline void append_text(std::string& out, const char* v) { out += v; }
inline void append_text(std::string& out, char v) { out += v; }
template <std::integral T>
  requires(!std::same_as<T, char> && !std::same_as<T, bool>)
void append_text(std::string& out, T v) {
  out += std::to_string(v);
}

/// @p pattern with each "{}" replaced by the next of @p args.
template <typename... Args>
std::string text_format(std::string_view pattern, const Args&... args) {
  std::string out;
  out.reserve(pattern.size() + 16 * sizeof...(Args));
  auto put = [&](const auto& arg) {
    const auto at = pattern.find("{}");
    if (at == std::string_view::npos) return;
    out += pattern.substr(0, at);
    append_text(out, arg);
    pattern.remove_prefix(at + 2);
  };
  (put(args), ...);
  out += pattern;
  return out;
}

}  // namespace m2mdm::client::detail
