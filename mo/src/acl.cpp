#include "m2mdm/mo/acl.hpp"

#include <algorithm>

namespace m2mdm::mo {
namespace {

constexpr std::array<std::string_view, kAclOpCount> kNames{"Add", "Delete", "Exec", "Get", "Replace"};

bool valid_server_id(std::string_view id) {
  if (id.empty()) return false;
  for (unsigned char c : id) {
    // '&', '+', '=' delimit the ACL grammar (DM_TND 1.2 §7.7.1.1); control characters and
    // spaces are never part of a ServerID.
    if (c <= 0x20 || c == 0x7F || c == '&' || c == '+' || c == '=') return false;
  }
  return true;
}

}  // namespace

std::string_view acl_op_name(AclOp op) noexcept { return kNames[static_cast<std::size_t>(op)]; }

std::expected<Acl, StatusCode> Acl::parse(std::string_view text) {
  Acl acl;
  if (text.empty()) return acl;
  std::size_t start = 0;
  while (true) {
    const std::size_t amp = text.find('&', start);
    const std::string_view entry =
        text.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    const std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) return std::unexpected(StatusCode::BadRequest);
    const std::string_view cmd = entry.substr(0, eq);
    const auto it = std::find(kNames.begin(), kNames.end(), cmd);
    if (it == kNames.end()) return std::unexpected(StatusCode::BadRequest);
    const auto op = static_cast<AclOp>(it - kNames.begin());
    std::string_view list = entry.substr(eq + 1);
    if (list.empty()) return std::unexpected(StatusCode::BadRequest);
    std::size_t s = 0;
    while (true) {
      const std::size_t plus = list.find('+', s);
      const std::string_view id =
          list.substr(s, plus == std::string_view::npos ? std::string_view::npos : plus - s);
      if (!valid_server_id(id)) return std::unexpected(StatusCode::BadRequest);
      acl.grant(op, id);
      if (plus == std::string_view::npos) break;
      s = plus + 1;
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return acl;
}

Acl Acl::of(std::string_view text) {
  auto r = parse(text);
  return r ? std::move(*r) : Acl{};
}

std::string Acl::format() const {
  std::string out;
  for (std::size_t i = 0; i < kAclOpCount; ++i) {
    if (entries_[i].empty()) continue;
    if (!out.empty()) out += '&';
    out += kNames[i];
    out += '=';
    for (std::size_t j = 0; j < entries_[i].size(); ++j) {
      if (j) out += '+';
      out += entries_[i][j];
    }
  }
  return out;
}

bool Acl::empty() const noexcept {
  return std::all_of(entries_.begin(), entries_.end(), [](const auto& v) { return v.empty(); });
}

bool Acl::allows(AclOp op, std::string_view server_id) const noexcept {
  for (const auto& s : entries_[static_cast<std::size_t>(op)]) {
    if (s == "*" || (!server_id.empty() && s == server_id)) return true;
  }
  return false;
}

void Acl::grant(AclOp op, std::string_view server_id) {
  auto& v = entries_[static_cast<std::size_t>(op)];
  if (std::find(v.begin(), v.end(), server_id) == v.end()) v.emplace_back(server_id);
}

void Acl::revoke(AclOp op, std::string_view server_id) {
  auto& v = entries_[static_cast<std::size_t>(op)];
  v.erase(std::remove(v.begin(), v.end(), server_id), v.end());
}

}  // namespace m2mdm::mo
