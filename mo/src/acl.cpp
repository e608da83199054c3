#include "m2mdm/mo/acl.hpp"
#include "m2mdm/syncml/name_table.hpp"

#include "pieces.hpp"

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

std::string_view acl_op_name(AclOp op) noexcept { return syncml::indexed_name(kNames, op); }

std::expected<Acl, StatusCode> Acl::parse(std::string_view text) {
  Acl acl;
  if (text.empty()) return acl;
  const StatusCode s = detail::for_each_piece(text, '&', [&](std::string_view entry) {
    const std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) return StatusCode::BadRequest;
    const auto op = syncml::indexed_value<AclOp>(kNames, entry.substr(0, eq));
    if (!op) return StatusCode::BadRequest;
    const std::string_view list = entry.substr(eq + 1);
    if (list.empty()) return StatusCode::BadRequest;
    return detail::for_each_piece(list, '+', [&](std::string_view id) {
      if (!valid_server_id(id)) return StatusCode::BadRequest;
      acl.grant(*op, id);
      return StatusCode::Ok;
    });
  });
  if (s != StatusCode::Ok) return std::unexpected(s);
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
