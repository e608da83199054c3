/// @file placeholders.hpp
/// @brief Expansion of "{{Name}}" / "{{Name:arg}}" placeholders in the message templates of the
///        conformance vectors (conformance/vectors/*/README.md), shared by the GoogleTest runners and
///        `m2mdm conformance`.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace m2mdm::conformance {

/// What a placeholder stands for: @p name and @p arg (the text after the first ':', or empty);
/// nullopt for a placeholder the caller does not know.
using PlaceholderValue = std::function<std::optional<std::string>(const std::string& name, const std::string& arg)>;

/// Replaces every "{{...}}" in @p text with @p value's answer. An unknown placeholder is left out
/// and named in @p unknown (the first one), so that the caller can fail the test with it.
inline std::string expand_placeholders(std::string_view text, const PlaceholderValue& value,
                                       std::string* unknown = nullptr) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const auto open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    const auto close = text.find("}}", open);
    if (close == std::string_view::npos) break;
    out.append(text, pos, open - pos);
    const std::string token(text.substr(open + 2, close - open - 2));
    const auto colon = token.find(':');
    const std::string name = token.substr(0, colon);
    const std::string arg = colon == std::string::npos ? std::string{} : token.substr(colon + 1);
    if (auto v = value(name, arg)) {
      out += *v;
    } else if (unknown && unknown->empty()) {
      *unknown = token;
    }
    pos = close + 2;
  }
  out.append(text, pos);
  return out;
}

}  // namespace m2mdm::conformance
