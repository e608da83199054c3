/// @file acl.hpp
/// @brief The ACL node property (DM_TND 1.2 §7.7.1): syntax, evaluation.
///
/// Syntax: `Add=srv1+srv2&Get=*&Replace=srv1`. Commands: Add, Delete, Exec, Get, Replace; a
/// server list is one or more ServerIDs joined by '+', or "*" for every server. An empty string
/// is the empty ACL: the node then inherits the ACL of its nearest ancestor with a non-empty ACL
/// (DM_TND 1.2 §7.7.1.3). The rules for which node's ACL governs each command are in tree.hpp.
#pragma once

#include "m2mdm/syncml/status.hpp"

#include <array>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::mo {

using syncml::StatusCode;

/// A command named in an ACL.
enum class AclOp : std::uint8_t { Add = 0, Delete = 1, Exec = 2, Get = 3, Replace = 4 };
inline constexpr std::size_t kAclOpCount = 5;

/// "Add", "Delete", ...
std::string_view acl_op_name(AclOp op) noexcept;

/// A parsed ACL value.
class Acl {
 public:
  Acl() = default;

  /// Parses an ACL property value. 400 Bad Request when malformed (unknown command, empty
  /// server id, missing '=', characters '&' '+' '=' inside a server id...). Repeated commands
  /// merge; duplicate server ids collapse.
  static std::expected<Acl, StatusCode> parse(std::string_view text);

  /// Convenience: parse or abort-free fallback for literals known to be valid (returns empty on
  /// error). Intended for constants in code, not for network input.
  static Acl of(std::string_view text);

  /// Canonical text: commands in the order Add, Delete, Exec, Get, Replace; servers in the order
  /// first given; "" for the empty ACL.
  std::string format() const;

  /// True when no command is listed (the node inherits).
  bool empty() const noexcept;

  /// True when @p server_id is listed for @p op, or "*" is.
  bool allows(AclOp op, std::string_view server_id) const noexcept;

  /// Adds @p server_id to @p op's list (no-op when present).
  void grant(AclOp op, std::string_view server_id);
  /// Removes @p server_id from @p op's list (does not touch "*").
  void revoke(AclOp op, std::string_view server_id);

  /// The servers listed for @p op.
  const std::vector<std::string>& servers(AclOp op) const noexcept {
    return entries_[static_cast<std::size_t>(op)];
  }

  friend bool operator==(const Acl&, const Acl&) = default;

 private:
  std::array<std::vector<std::string>, kAclOpCount> entries_{};
};

}  // namespace m2mdm::mo
