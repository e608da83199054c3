#include "m2mdm/mo/strict_json.hpp"

#include <set>
#include <vector>

namespace m2mdm::mo::detail {

StrictJson parse_strict_json(ByteView bytes) {
  using json = nlohmann::json;
  StrictJson out;
  std::vector<std::set<std::string>> seen;
  auto cb = [&](int /*depth*/, json::parse_event_t ev, json& parsed) -> bool {
    switch (ev) {
      case json::parse_event_t::object_start: seen.emplace_back(); break;
      case json::parse_event_t::object_end:
        if (!seen.empty()) seen.pop_back();
        break;
      case json::parse_event_t::key:
        if (!seen.empty() && parsed.is_string() && !seen.back().insert(parsed.get<std::string>()).second &&
            out.duplicate_key.empty())
          out.duplicate_key = parsed.get<std::string>();
        break;
      default: break;
    }
    return true;
  };
  const auto* first = reinterpret_cast<const char*>(bytes.data());
  out.doc = json::parse(first, first + bytes.size(), cb, /*allow_exceptions=*/false, /*ignore_comments=*/false);
  return out;
}

}  // namespace m2mdm::mo::detail
