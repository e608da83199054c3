#include "api/route_table.hpp"

namespace m2mdm::server {

std::string Caller::actor() const {
  switch (role) {
    case Role::op: return "operator";
    case Role::vno: return "vno";
    case Role::sho: return "sho:" + std::to_string(sho_id);
    case Role::subscriber: return "subscriber:" + std::to_string(subscriber_id);
  }
  return "?";
}

const std::string& Call::param(std::string_view name) const {
  static const std::string none;
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return none;
}

bool match_api_pattern(std::string_view pattern, std::span<const std::string> segments,
                       std::vector<std::pair<std::string_view, std::string>>& params) {
  if (!pattern.starts_with(kApiPrefix)) return false;
  pattern.remove_prefix(kApiPrefix.size());
  std::vector<std::pair<std::string_view, std::string>> found;
  std::size_t i = 0;
  while (!pattern.empty()) {
    pattern.remove_prefix(1);  // the '/'
    auto n = pattern.find('/');
    std::string_view seg = pattern.substr(0, n);
    pattern = n == std::string_view::npos ? std::string_view{} : pattern.substr(n);
    if (i >= segments.size()) return false;
    if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}')
      found.emplace_back(seg.substr(1, seg.size() - 2), segments[i]);
    else if (seg != segments[i])
      return false;
    ++i;
  }
  if (i != segments.size()) return false;
  params = std::move(found);
  return true;
}

bool match_public_pattern(std::string_view pattern, std::string_view path,
                          std::vector<std::pair<std::string_view, std::string>>& params) {
  if (pattern == path) return true;
  const auto slash = pattern.rfind('/');
  if (slash == std::string_view::npos) return false;
  const std::string_view last = pattern.substr(slash + 1), prefix = pattern.substr(0, slash + 1);
  if (last.size() < 3 || last.front() != '{' || last.back() != '}' || !path.starts_with(prefix)) return false;
  const std::string_view rest = path.substr(prefix.size());
  if (rest.empty() || rest.find('/') != std::string_view::npos) return false;
  params = {{last.substr(1, last.size() - 2), std::string(rest)}};
  return true;
}

}  // namespace m2mdm::server
