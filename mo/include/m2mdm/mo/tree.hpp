/// @file tree.hpp
/// @brief The device's management tree: Add, Replace, Delete, Get, Exec, Copy with ACLs,
/// DDF access types, formats and sizes; outcomes are SyncML status codes (DM_Protocol 1.2
/// §6.6, DM_TND 1.2 §7). No I/O: persistence is tree_store.hpp.
///
/// ## Which ACL governs what (DM_TND 1.2 §7.7.1)
/// The effective ACL of a node is its own ACL, or if empty, that of its nearest ancestor with a
/// non-empty ACL; the root always has one (TreeOptions::root_acl, DM_TND §7.7.1.3).
/// | command                       | ACL checked                                        |
/// |-------------------------------|----------------------------------------------------|
/// | Add ./A/B                     | Add on ./A (the parent; the nearest existing       |
/// |                               | ancestor when interior nodes are created implicitly)|
/// | Get/Replace/Delete/Exec ./A/B | Get/Replace/Delete/Exec on ./A/B                   |
/// | Delete (interior)             | Delete on every node of the subtree                |
/// | Get ./A/B?prop=X              | Get on ./A/B                                       |
/// | Replace ./A/B?prop=ACL        | Replace on ./A/B if interior, on ./A if a leaf     |
/// | Replace ./A/B?prop=Name/Title | Replace on ./A/B                                   |
/// | Copy T <- S                   | Get on S, then as Add (or Replace if T exists) on T|
/// A server that adds a node without holding Replace on the parent receives
/// `Add=<it>&Delete=<it>&Get=<it>&Replace=<it>` on the new node, so it can manage what it
/// created (DM_TND §7.7.1.4); otherwise the new node's ACL is empty (inherits).
///
/// ## Status codes
/// 200 ok; 202 Exec accepted (from the handler); 400 malformed URI/ACL/value; 404 no such node
/// (or parent, when implicit creation is off); 405 the DDF access type or scope forbids the
/// command (permanent node, Add below a leaf, property read-only, Exec without handler);
/// 406 unsupported feature (?list=TNDS, Copy of an interior node); 413 value over
/// max_obj_size or the DDF max size; 414 URI over a limit; 415 Format not accepted by the DDF
/// (or a leaf format on an interior Add with data); 418 Add of an existing node;
/// 425 the ACL denies the command.
///
/// ## The device itself
/// `Caller::device()` is the local principal (bootstrap, TRE, registry): ACLs and DDF access
/// types do not apply to it; structure, formats and sizes still do.
#pragma once

#include "m2mdm/mo/node.hpp"
#include "m2mdm/mo/uri.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/status.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::mo {

/// Who issues a command: a DM server (by its authenticated ServerID) or the device itself.
class Caller {
 public:
  static Caller server(std::string_view server_id) { return Caller(std::string(server_id), false); }
  static Caller device() { return Caller({}, true); }
  bool is_device() const noexcept { return device_; }
  /// Empty for the device.
  std::string_view server_id() const noexcept { return server_id_; }

 private:
  Caller(std::string id, bool device) : server_id_(std::move(id)), device_(device) {}
  std::string server_id_;
  bool device_ = false;
};

/// The Item of an Add/Replace: Meta Format and Type, and the value bytes (already decoded from
/// b64 transport encoding by the session engine; Format b64 is kept as the node's Format).
struct NodeValue {
  Format format = Format::Chr;  ///< DM default when Meta has no Format (DM_RepPro 1.2 §6.5.6)
  std::string type;             ///< Meta Type (MIME), may be empty
  Bytes data;
};

/// One Item of a Results: Source LocURI, Meta Format/Type, Data.
struct ResultItem {
  std::string uri;  ///< canonical URI of the node (with ?prop= for a property Get)
  Format format = Format::Chr;
  std::string type;
  Bytes data;
};

/// The outcome of a Get: the Status code and, on 200, the Results items.
struct GetResult {
  StatusCode status = StatusCode::Ok;
  std::vector<ResultItem> items;
};

class Tree;

/// What an Exec handler receives (DM_Protocol 1.2 §6.6.7).
struct ExecRequest {
  Tree& tree;                     ///< the tree (handlers may change it as the device)
  const Uri& uri;                 ///< the Exec'd node
  ByteView data;                  ///< Item Data (may be empty)
  std::string_view correlator;    ///< Exec Correlator, to be echoed in the Generic Alert
  std::string_view server_id;     ///< the requesting server
};

/// What an Exec handler returns: 200 (done), 202 (accepted, result later by Generic Alert
/// 1226 carrying the correlator) or an error status.
struct ExecOutcome {
  StatusCode status = StatusCode::Ok;
};

using ExecHandler = std::function<ExecOutcome(ExecRequest&)>;

/// Device-specific behaviour of the tree.
struct TreeOptions {
  UriLimits limits{};
  /// Largest leaf value the device accepts (MaxObjSize, DM_RepPro 1.2 §7.1); 0 = unlimited.
  std::size_t max_obj_size = 0;
  /// ACL of the root node. DM_TND 1.2 §7.7.1.3 requires the root always to have an ACL; the
  /// default lets every server discover and add top-level objects.
  std::string root_acl = "Add=*&Get=*";
  /// Add of ./A/B/C where ./A/B does not exist creates the missing interior nodes (DM_Protocol
  /// 1.2 §6.6.1 allows this "implicit Add"); when false, such an Add gets 404.
  bool implicit_interior_add = true;
  /// Time source for TStamp (seconds since the epoch); default std::chrono::system_clock.
  std::function<std::int64_t()> clock;
};

/// The nodes, keyed by canonical path ("." for the root, "./A/B"). Lexicographic order keeps
/// every subtree contiguous.
using NodeMap = std::map<std::string, Node, std::less<>>;

/// An opaque copy of the tree's nodes for Atomic rollback (DM_Protocol 1.2 §6.6.4). Copying is
/// O(number of nodes): leaf values are shared immutable buffers, never copied.
class TreeSnapshot {
 public:
  TreeSnapshot() = default;

 private:
  friend class Tree;
  NodeMap nodes_;
  std::uint64_t changes_ = 0;
};

/// The management tree.
class Tree {
 public:
  explicit Tree(TreeOptions options = {});

  const TreeOptions& options() const noexcept { return options_; }

  // ---- DM commands -------------------------------------------------------------------------
  /// Add (DM_Protocol 1.2 §6.6.1). Format node creates an interior node (data must be empty).
  StatusCode add(const Caller& who, std::string_view uri, const NodeValue& value);
  /// Replace (§6.6.9): a leaf value, or with ?prop=ACL|Name|Title a property.
  StatusCode replace(const Caller& who, std::string_view uri, const NodeValue& value);
  /// Delete (§6.6.5): a leaf, or an interior node with its whole subtree (all-or-nothing).
  StatusCode remove(const Caller& who, std::string_view uri);
  /// Get (§6.6.6): leaf value; interior child list "a/b/c" with Format node; ?list=Struct and
  /// ?list=StructData; ?prop=X.
  GetResult get(const Caller& who, std::string_view uri) const;
  /// Exec (§6.6.7): runs the handler registered for the node's pattern.
  StatusCode exec(const Caller& who, std::string_view uri, ByteView data, std::string_view correlator);
  /// Copy (§6.6.3) of a leaf @p source to @p target (Add, or Replace when target exists).
  StatusCode copy(const Caller& who, std::string_view target, std::string_view source);

  /// What add() (is_add) or replace() would answer for a value of @p total_size bytes with
  /// format @p format, without changing anything: lets the session engine refuse a Large
  /// Object at its first chunk (413, 425, 404, 418, ...). 200 when it would be accepted.
  StatusCode preflight(const Caller& who, std::string_view uri, bool is_add, Format format,
                       std::size_t total_size) const;

  // ---- Descriptions (DDF) and handlers -----------------------------------------------------
  /// Registers the DDF-derived rules of one MO rooted at @p root_pattern (e.g. "./DMAcc").
  /// Nodes created below that root must match a rule (else Add gets 405); created nodes take
  /// the rule's access types, scope and title; Format must be the rule's (else 415).
  void describe(std::string root_pattern, std::vector<NodeRule> rules);
  /// The rule for @p uri, or null when no MO describes it.
  const NodeRule* rule_for(const Uri& uri) const noexcept;
  /// Registers the Exec handler for nodes matching @p pattern ("*" = any segment).
  void on_exec(std::string pattern, ExecHandler handler);

  // ---- Device-side access (no ACL/DDF access checks) ---------------------------------------
  /// The node at @p uri, or null.
  const Node* find(std::string_view uri) const;
  bool exists(std::string_view uri) const { return find(uri) != nullptr; }
  /// A leaf's value as text; nullopt when absent or interior.
  std::optional<std::string> get_text(std::string_view uri) const;
  /// A leaf's value bytes; nullopt when absent or interior.
  std::optional<Bytes> get_bytes(std::string_view uri) const;
  /// Names of the children of @p uri, in name order; empty when absent or a leaf.
  std::vector<std::string> children(std::string_view uri) const;
  /// Device write: creates or replaces the leaf @p uri (and missing interior ancestors).
  StatusCode set(std::string_view uri, const NodeValue& value);
  /// Device write of a chr leaf.
  StatusCode set_text(std::string_view uri, std::string_view text, Format format = Format::Chr);
  /// Device: creates the interior node @p uri (and ancestors) if absent; sets Type when given.
  StatusCode ensure_interior(std::string_view uri, std::string_view type = {});
  /// Device: replaces the ACL of @p uri.
  StatusCode set_acl(std::string_view uri, const Acl& acl);
  /// Device: deletes @p uri and its subtree even when permanent.
  StatusCode erase(std::string_view uri);
  /// The effective ACL of an existing node (own or inherited).
  const Acl& effective_acl(const Uri& uri) const;

  // ---- Atomic and persistence --------------------------------------------------------------
  TreeSnapshot snapshot() const;
  void restore(TreeSnapshot snapshot);
  /// Incremented by every successful change (so the owner knows when to persist).
  std::uint64_t change_count() const noexcept { return changes_; }
  const NodeMap& nodes() const noexcept { return nodes_; }
  /// Replaces all nodes (used by TreeStore::load). The map must contain "." as an interior
  /// node and every node's parent must exist and be interior; else 400 and nothing changes.
  StatusCode assign(NodeMap nodes);

 private:
  struct Description {
    std::string root;
    std::vector<NodeRule> rules;
  };

  std::int64_t now() const;
  std::expected<Uri, StatusCode> parse(std::string_view text) const;
  Node* find_mut(const Uri& uri);
  const Node* find_node(const Uri& uri) const;
  bool allowed(const Caller& who, AclOp op, const Uri& uri) const;
  /// The node a command of @p who acts on, by @p op: its URI parsed (no query: else 405), found
  /// (404) and @p op allowed by its ACL (425).
  struct Target {
    Uri uri;
    const Node* node;
  };
  std::expected<Target, StatusCode> target(const Caller& who, AclOp op, std::string_view text) const;
  StatusCode check_add(const Caller& who, const Uri& uri, Format format, std::size_t size,
                       std::size_t* first_missing) const;
  StatusCode check_replace(const Caller& who, const Uri& uri, Format format, std::size_t size) const;
  StatusCode do_add(const Caller& who, const Uri& uri, const NodeValue& value);
  StatusCode replace_property(const Caller& who, const Uri& uri, const NodeValue& value);
  GetResult get_property(const Uri& uri, const Node& node) const;
  void list_struct(const Uri& uri, bool with_data, std::vector<ResultItem>& out) const;
  void touch(Node& node);
  bool described_root(const Uri& uri, const Description** d) const noexcept;
  std::size_t max_size_for(const Uri& uri) const noexcept;
  bool format_allowed(const Uri& uri, Format format) const noexcept;

  TreeOptions options_;
  NodeMap nodes_;
  std::vector<Description> descriptions_;
  std::vector<std::pair<std::string, ExecHandler>> handlers_;
  std::uint64_t changes_ = 0;
};

}  // namespace m2mdm::mo
