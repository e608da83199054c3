#include "m2mdm/mo/tree.hpp"
#include "m2mdm/syncml/unix_clock.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace m2mdm::mo {
namespace {

// b64 and bin are both "binary": the b64 transport encoding is undone by the session engine,
// so a DDF bin node accepts Meta Format b64 and vice versa.
Format normalise(Format f) { return f == Format::B64 ? Format::Bin : f; }

bool is_child_key(std::string_view key, std::string_view prefix) {
  return key.size() > prefix.size() && key.starts_with(prefix) &&
         key.find('/', prefix.size()) == std::string_view::npos;
}

// "." -> "./", "./A" -> "./A/": the prefix shared by every key below a node.
std::string subtree_prefix(const std::string& path) { return path + "/"; }

// ISO 8601 basic format, UTC: YYYYMMDDThhmmssZ (DM_TND 1.2 §7.7.7 TStamp).
std::string iso8601(std::int64_t epoch) {
  using namespace std::chrono;
  const sys_seconds tp{seconds{epoch}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{tp - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

Bytes text_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// True when the first segments of @p uri match @p pattern (a DDF root, "*" = any segment).
bool prefix_matches(const Uri& uri, std::string_view pattern) {
  std::size_t depth = 0;
  if (pattern != ".") {
    if (!pattern.starts_with("./")) return false;
    depth = static_cast<std::size_t>(std::count(pattern.begin(), pattern.end(), '/'));
  }
  if (uri.depth() < depth) return false;
  std::vector<std::string> segs(uri.segments().begin(), uri.segments().begin() + static_cast<std::ptrdiff_t>(depth));
  auto prefix = Uri::from_segments(std::move(segs), UriLimits{0, 0, 0});
  return prefix && uri_matches(*prefix, pattern);
}

}  // namespace

Tree::Tree(TreeOptions options) : options_(std::move(options)) {
  Node root;
  root.format = Format::Node;
  root.acl = Acl::of(options_.root_acl);
  root.scope = Scope::Permanent;
  root.access = kAccessAdd | kAccessGet;
  root.tstamp = now();
  nodes_.emplace(".", std::move(root));
}

std::int64_t Tree::now() const {
  return unix_now(options_.clock);
}

std::expected<Uri, StatusCode> Tree::parse(std::string_view text) const {
  return Uri::parse(text, options_.limits);
}

const Node* Tree::find_node(const Uri& uri) const {
  const auto it = nodes_.find(uri.path());
  return it == nodes_.end() ? nullptr : &it->second;
}

Node* Tree::find_mut(const Uri& uri) {
  const auto it = nodes_.find(uri.path());
  return it == nodes_.end() ? nullptr : &it->second;
}

const Acl& Tree::effective_acl(const Uri& uri) const {
  // DM_TND 1.2 §7.7.1.3: an empty ACL inherits the nearest ancestor's; the root always has one.
  Uri u = uri.without_query();
  while (true) {
    const Node* n = find_node(u);
    if (n != nullptr && !n->acl.empty()) return n->acl;
    if (u.is_root()) break;
    u = u.parent();
  }
  return nodes_.at(".").acl;
}

bool Tree::allowed(const Caller& who, AclOp op, const Uri& uri) const {
  if (who.is_device()) return true;
  return effective_acl(uri).allows(op, who.server_id());
}

std::expected<Tree::Target, StatusCode> Tree::target(const Caller& who, AclOp op, std::string_view text) const {
  auto uri = parse(text);
  if (!uri) return std::unexpected(uri.error());
  if (uri->query() != UriQuery::None) return std::unexpected(StatusCode::CommandNotAllowed);
  const Node* n = find_node(*uri);
  if (n == nullptr) return std::unexpected(StatusCode::NotFound);
  if (!allowed(who, op, *uri)) return std::unexpected(StatusCode::PermissionDenied);
  return Target{std::move(*uri), n};
}

void Tree::describe(std::string root_pattern, std::vector<NodeRule> rules) {
  descriptions_.push_back(Description{std::move(root_pattern), std::move(rules)});
}

bool Tree::described_root(const Uri& uri, const Description** d) const noexcept {
  for (const auto& desc : descriptions_) {
    if (prefix_matches(uri, desc.root)) {
      if (d != nullptr) *d = &desc;
      return true;
    }
  }
  return false;
}

const NodeRule* Tree::rule_for(const Uri& uri) const noexcept {
  for (const auto& desc : descriptions_) {
    if (!prefix_matches(uri, desc.root)) continue;
    for (const auto& r : desc.rules) {
      if (uri_matches(uri, r.pattern)) return &r;
    }
  }
  return nullptr;
}

void Tree::on_exec(std::string pattern, ExecHandler handler) {
  handlers_.emplace_back(std::move(pattern), std::move(handler));
}

std::size_t Tree::max_size_for(const Uri& uri) const noexcept {
  std::size_t max = options_.max_obj_size;
  if (const NodeRule* r = rule_for(uri); r != nullptr && r->max_size != 0) {
    max = max == 0 ? r->max_size : std::min(max, r->max_size);
  }
  return max;
}

bool Tree::format_allowed(const Uri& uri, Format format) const noexcept {
  const NodeRule* r = rule_for(uri);
  if (r == nullptr) return true;
  if (normalise(r->format) == normalise(format)) return true;
  const Format n = normalise(format);
  if (r->also_formats & (1u << static_cast<unsigned>(n))) return true;
  if (n == Format::Bin && (r->also_formats & (1u << static_cast<unsigned>(Format::B64)))) return true;
  return false;
}

void Tree::touch(Node& node) {
  node.tstamp = now();
  node.verno = (node.verno + 1) & 0xFFFFu;  // DM_TND 1.2 §7.7.8: VerNo wraps at 65535
}

// ---- Add -------------------------------------------------------------------------------------

StatusCode Tree::check_add(const Caller& who, const Uri& uri, Format format, std::size_t size,
                           std::size_t* first_missing) const {
  if (uri.query() != UriQuery::None) return StatusCode::CommandNotAllowed;  // DM_TND §7.3.5
  if (uri.is_root()) return StatusCode::AlreadyExists;
  // Nearest existing ancestor.
  std::size_t depth = uri.depth() - 1;
  Uri anc = uri.parent();
  while (find_node(anc) == nullptr) {
    anc = anc.parent();
    --depth;
  }
  const Node* anc_node = find_node(anc);
  if (find_node(uri) != nullptr) {
    // Existence is only revealed to a server allowed to add there.
    return allowed(who, AclOp::Add, uri.parent()) ? StatusCode::AlreadyExists : StatusCode::PermissionDenied;
  }
  if (!anc_node->interior()) return StatusCode::CommandNotAllowed;  // no children below a leaf
  if (depth + 1 != uri.depth() && !options_.implicit_interior_add && !who.is_device()) return StatusCode::NotFound;
  if (!allowed(who, AclOp::Add, anc)) return StatusCode::PermissionDenied;
  // DDF constraints for each node to be created: anc+1 .. uri.
  for (std::size_t d = depth + 1; d <= uri.depth(); ++d) {
    std::vector<std::string> segs(uri.segments().begin(), uri.segments().begin() + static_cast<std::ptrdiff_t>(d));
    auto u = Uri::from_segments(std::move(segs), UriLimits{0, 0, 0});
    if (!u) return u.error();
    const bool target = d == uri.depth();
    const NodeRule* r = rule_for(*u);
    if (r == nullptr) {
      if (described_root(*u, nullptr)) return StatusCode::CommandNotAllowed;  // not in the DDF
      continue;
    }
    if (!who.is_device() && !(r->access & kAccessAdd)) return StatusCode::CommandNotAllowed;
    if (!target && r->format != Format::Node) return StatusCode::CommandNotAllowed;
  }
  if (!format_allowed(uri, format)) return StatusCode::UnsupportedMediaType;
  if (format == Format::Node) {
    if (size != 0) return StatusCode::BadRequest;
  } else {
    const std::size_t max = max_size_for(uri);
    if (max != 0 && size > max) return StatusCode::RequestEntityTooLarge;
  }
  if (first_missing != nullptr) *first_missing = depth + 1;
  return StatusCode::Ok;
}

StatusCode Tree::do_add(const Caller& who, const Uri& uri, const NodeValue& value) {
  std::size_t first = 0;
  if (const StatusCode s = check_add(who, uri, value.format, value.data.size(), &first); s != StatusCode::Ok) {
    return s;
  }
  if (value.format != Format::Node && !value_valid_for(value.format, value.data)) return StatusCode::BadRequest;
  const Uri top_parent = [&] {
    std::vector<std::string> segs(uri.segments().begin(), uri.segments().begin() + static_cast<std::ptrdiff_t>(first - 1));
    return *Uri::from_segments(std::move(segs), UriLimits{0, 0, 0});
  }();
  // DM_TND 1.2 §7.7.1.4: a server without Replace on the parent gets rights on what it adds.
  const bool grant_creator = !who.is_device() && !allowed(who, AclOp::Replace, top_parent);
  const std::int64_t t = now();
  for (std::size_t d = first; d <= uri.depth(); ++d) {
    std::vector<std::string> segs(uri.segments().begin(), uri.segments().begin() + static_cast<std::ptrdiff_t>(d));
    const Uri u = *Uri::from_segments(std::move(segs), UriLimits{0, 0, 0});
    const bool target = d == uri.depth();
    Node n;
    n.tstamp = t;
    if (const NodeRule* r = rule_for(u)) {
      n.access = r->access;
      n.scope = r->scope;
      n.title = r->title;
      n.type = r->type;
    }
    if (target) {
      n.format = value.format;
      if (!value.type.empty()) n.type = value.type;
      if (!n.interior()) n.value = std::make_shared<const Bytes>(value.data);
    }
    if (d == first && grant_creator) {
      for (AclOp op : {AclOp::Add, AclOp::Delete, AclOp::Get, AclOp::Replace}) n.acl.grant(op, who.server_id());
    }
    nodes_.insert_or_assign(u.path(), std::move(n));
  }
  ++changes_;
  return StatusCode::Ok;
}

StatusCode Tree::add(const Caller& who, std::string_view text, const NodeValue& value) {
  const auto uri = parse(text);
  if (!uri) return uri.error();
  return do_add(who, *uri, value);
}

// ---- Replace ---------------------------------------------------------------------------------

StatusCode Tree::check_replace(const Caller& who, const Uri& uri, Format format, std::size_t size) const {
  const Node* n = find_node(uri);
  if (n == nullptr) return StatusCode::NotFound;
  if (!allowed(who, AclOp::Replace, uri)) return StatusCode::PermissionDenied;
  if (uri.is_root() || n->interior()) return StatusCode::CommandNotAllowed;
  if (!who.is_device() && !(n->access & kAccessReplace)) return StatusCode::CommandNotAllowed;
  if (format == Format::Node) return StatusCode::CommandNotAllowed;  // a leaf cannot become interior
  if (!format_allowed(uri, format)) return StatusCode::UnsupportedMediaType;
  const std::size_t max = max_size_for(uri);
  if (max != 0 && size > max) return StatusCode::RequestEntityTooLarge;
  return StatusCode::Ok;
}

StatusCode Tree::replace(const Caller& who, std::string_view text, const NodeValue& value) {
  const auto uri = parse(text);
  if (!uri) return uri.error();
  if (uri->query() == UriQuery::Prop) return replace_property(who, *uri, value);
  if (uri->query() != UriQuery::None) return StatusCode::CommandNotAllowed;
  if (const StatusCode s = check_replace(who, *uri, value.format, value.data.size()); s != StatusCode::Ok) {
    return s;
  }
  if (!value_valid_for(value.format, value.data)) return StatusCode::BadRequest;
  Node& n = *find_mut(*uri);
  n.format = value.format;
  if (!value.type.empty()) n.type = value.type;
  n.value = std::make_shared<const Bytes>(value.data);
  touch(n);
  ++changes_;
  return StatusCode::Ok;
}

StatusCode Tree::replace_property(const Caller& who, const Uri& puri, const NodeValue& value) {
  const Uri uri = puri.without_query();
  Node* n = find_mut(uri);
  if (n == nullptr) return StatusCode::NotFound;
  const std::string_view text = as_chars(value.data);
  switch (puri.property()) {
    case Property::Acl: {
      // DM_TND 1.2 §7.7.1: changing the ACL needs Replace on the node if interior, on its parent
      // if a leaf.
      const Uri governing = n->interior() ? uri : uri.parent();
      if (!allowed(who, AclOp::Replace, governing)) return StatusCode::PermissionDenied;
      auto acl = Acl::parse(text);
      if (!acl) return acl.error();
      if (uri.is_root() && acl->empty()) return StatusCode::BadRequest;  // the root keeps an ACL
      n->acl = std::move(*acl);
      touch(*n);
      ++changes_;
      return StatusCode::Ok;
    }
    case Property::Title: {
      if (!allowed(who, AclOp::Replace, uri)) return StatusCode::PermissionDenied;
      if (!value_valid_for(Format::Chr, value.data)) return StatusCode::BadRequest;
      n->title = std::string(text);
      touch(*n);
      ++changes_;
      return StatusCode::Ok;
    }
    case Property::Name: {
      // DM_TND 1.2 §7.3.5: Replace of Name renames the node.
      if (!allowed(who, AclOp::Replace, uri)) return StatusCode::PermissionDenied;
      if (uri.is_root() || n->scope == Scope::Permanent) return StatusCode::CommandNotAllowed;
      if (!is_valid_segment(text)) return StatusCode::BadRequest;
      if (text == uri.name()) return StatusCode::Ok;
      const Uri target = uri.parent().child(text);
      if (const auto checked = Uri::parse(target.path(), options_.limits); !checked) return checked.error();
      if (find_node(target) != nullptr) return StatusCode::AlreadyExists;
      if (described_root(target, nullptr) && rule_for(target) == nullptr) return StatusCode::CommandNotAllowed;
      const std::string old_path = uri.path();
      const std::string new_path = target.path();
      const std::string prefix = subtree_prefix(old_path);
      std::vector<std::pair<std::string, Node>> moved;
      for (auto it = nodes_.lower_bound(prefix); it != nodes_.end() && it->first.starts_with(prefix);) {
        moved.emplace_back(new_path + it->first.substr(old_path.size()), std::move(it->second));
        it = nodes_.erase(it);
      }
      Node self = std::move(nodes_.at(old_path));
      nodes_.erase(old_path);
      touch(self);
      nodes_.emplace(new_path, std::move(self));
      for (auto& [k, v] : moved) nodes_.emplace(std::move(k), std::move(v));
      ++changes_;
      return StatusCode::Ok;
    }
    case Property::Format:
    case Property::Type:
    case Property::Size:
    case Property::TStamp:
    case Property::VerNo:
      break;
  }
  return StatusCode::CommandNotAllowed;  // DM_TND 1.2 §7.3.5: Get only
}

// ---- Delete ----------------------------------------------------------------------------------

StatusCode Tree::remove(const Caller& who, std::string_view text) {
  const auto t = target(who, AclOp::Delete, text);
  if (!t) return t.error();
  const Uri& uri = t->uri;
  const Node* n = t->node;
  if (uri.is_root() || n->scope == Scope::Permanent) return StatusCode::CommandNotAllowed;
  if (!who.is_device() && !(n->access & kAccessDelete)) return StatusCode::CommandNotAllowed;
  // All-or-nothing: every node of the subtree must be deletable by the caller.
  const std::string prefix = subtree_prefix(uri.path());
  for (auto it = nodes_.lower_bound(prefix); it != nodes_.end() && it->first.starts_with(prefix); ++it) {
    if (it->second.scope == Scope::Permanent) return StatusCode::CommandNotAllowed;
    if (!who.is_device()) {
      const auto sub = Uri::parse(it->first, UriLimits{0, 0, 0});
      if (!sub || !allowed(who, AclOp::Delete, *sub)) return StatusCode::PermissionDenied;
    }
  }
  return erase(uri.path());
}

StatusCode Tree::erase(std::string_view text) {
  const auto uri = Uri::parse(text, UriLimits{0, 0, 0});
  if (!uri) return uri.error();
  if (uri->is_root()) return StatusCode::CommandNotAllowed;
  const std::string path = uri->path();
  const auto self = nodes_.find(path);
  if (self == nodes_.end()) return StatusCode::NotFound;
  const std::string prefix = subtree_prefix(path);
  nodes_.erase(self);
  for (auto it = nodes_.lower_bound(prefix); it != nodes_.end() && it->first.starts_with(prefix);) {
    it = nodes_.erase(it);
  }
  ++changes_;
  return StatusCode::Ok;
}

// ---- Get -------------------------------------------------------------------------------------

GetResult Tree::get_property(const Uri& puri, const Node& node) const {
  GetResult r;
  ResultItem item;
  item.uri = puri.str();
  item.format = Format::Chr;
  item.type = "text/plain";
  std::string v;
  switch (puri.property()) {
    case Property::Acl: v = node.acl.format(); break;
    case Property::Format: v = std::string(format_name(node.format)); break;
    case Property::Type: v = node.type; break;
    case Property::Size:
      // DM_TND 1.2 §7.2: Size MUST NOT be supported for interior nodes.
      if (node.interior()) return GetResult{StatusCode::OptionalFeatureNotSupported, {}};
      v = std::to_string(node.size());
      break;
    case Property::Name: v = puri.is_root() ? "." : std::string(puri.name()); break;
    case Property::Title: v = node.title; break;
    case Property::TStamp: v = iso8601(node.tstamp); break;
    case Property::VerNo: v = std::to_string(node.verno); break;
  }
  item.data = text_bytes(v);
  r.items.push_back(std::move(item));
  return r;
}

void Tree::list_struct(const Uri& uri, bool with_data, std::vector<ResultItem>& out) const {
  const std::string path = uri.path();
  auto emit = [&](const std::string& key, const Node& n) {
    ResultItem item;
    item.uri = key;
    item.format = n.format;
    item.type = n.type;
    if (with_data && !n.interior() && n.value) item.data = *n.value;
    out.push_back(std::move(item));
  };
  emit(path, *find_node(uri));
  const std::string prefix = subtree_prefix(path);
  for (auto it = nodes_.lower_bound(prefix); it != nodes_.end() && it->first.starts_with(prefix); ++it) {
    emit(it->first, it->second);
  }
}

GetResult Tree::get(const Caller& who, std::string_view text) const {
  const auto puri = parse(text);
  if (!puri) return GetResult{puri.error(), {}};
  const Uri uri = puri->without_query();
  const Node* n = find_node(uri);
  if (n == nullptr) return GetResult{StatusCode::NotFound, {}};
  if (!allowed(who, AclOp::Get, uri)) return GetResult{StatusCode::PermissionDenied, {}};
  switch (puri->query()) {
    case UriQuery::Prop: return get_property(*puri, *n);
    case UriQuery::ListTnds: return GetResult{StatusCode::OptionalFeatureNotSupported, {}};
    case UriQuery::ListStruct:
    case UriQuery::ListStructData: {
      GetResult r;
      list_struct(uri, puri->query() == UriQuery::ListStructData, r.items);
      if (!who.is_device()) {
        // Leave out what the server may not read (DM_Protocol 1.2 §6.6.11).
        std::erase_if(r.items, [&](const ResultItem& item) {
          const auto u = Uri::parse(item.uri, UriLimits{0, 0, 0});
          const Node* in = u ? find_node(*u) : nullptr;
          return !u || in == nullptr || !allowed(who, AclOp::Get, *u) || !(in->access & kAccessGet);
        });
      }
      return r;
    }
    case UriQuery::None: break;
  }
  if (!who.is_device() && !(n->access & kAccessGet)) return GetResult{StatusCode::CommandNotAllowed, {}};
  GetResult r;
  ResultItem item;
  item.uri = uri.path();
  item.format = n->format;
  item.type = n->type;
  if (n->interior()) {
    // DM_TND 1.2 §7.2 / DM_Protocol §6.6.6: the child list "a/b/c".
    std::string list;
    for (const auto& c : children(item.uri)) {
      if (!list.empty()) list += '/';
      list += c;
    }
    item.data = text_bytes(list);
  } else if (n->value) {
    item.data = *n->value;
  }
  r.items.push_back(std::move(item));
  return r;
}

// ---- Exec / Copy -----------------------------------------------------------------------------

StatusCode Tree::exec(const Caller& who, std::string_view text, ByteView data, std::string_view correlator) {
  const auto t = target(who, AclOp::Exec, text);
  if (!t) return t.error();
  const Uri& uri = t->uri;
  const Node* n = t->node;
  if (!who.is_device() && !(n->access & kAccessExec)) return StatusCode::CommandNotAllowed;
  for (auto& [pattern, handler] : handlers_) {
    if (uri_matches(uri, pattern)) {
      ExecRequest req{*this, uri, data, correlator, who.server_id()};
      // The handler may register handlers; copy it so that it outlives a reallocation.
      ExecHandler h = handler;
      return h(req).status;
    }
  }
  return StatusCode::CommandNotAllowed;
}

StatusCode Tree::copy(const Caller& who, std::string_view target, std::string_view source) {
  const auto src = parse(source);
  if (!src) return src.error();
  const auto dst = parse(target);
  if (!dst) return dst.error();
  if (src->query() != UriQuery::None || dst->query() != UriQuery::None) return StatusCode::CommandNotAllowed;
  const Node* n = find_node(*src);
  if (n == nullptr) return StatusCode::NotFound;
  if (!allowed(who, AclOp::Get, *src)) return StatusCode::PermissionDenied;
  if (!who.is_device() && !(n->access & (kAccessGet | kAccessCopy))) return StatusCode::CommandNotAllowed;
  if (n->interior()) return StatusCode::OptionalFeatureNotSupported;
  const NodeValue v{n->format, n->type, n->value ? *n->value : Bytes{}};
  if (find_node(*dst) != nullptr) return replace(who, dst->path(), v);
  return do_add(who, *dst, v);
}

StatusCode Tree::preflight(const Caller& who, std::string_view text, bool is_add, Format format,
                           std::size_t total_size) const {
  const auto uri = parse(text);
  if (!uri) return uri.error();
  if (is_add) return check_add(who, *uri, format, total_size, nullptr);
  if (uri->query() != UriQuery::None) return StatusCode::CommandNotAllowed;
  return check_replace(who, *uri, format, total_size);
}

// ---- Device-side access ----------------------------------------------------------------------

const Node* Tree::find(std::string_view text) const {
  const auto uri = Uri::parse(text, UriLimits{0, 0, 0});
  return uri ? find_node(*uri) : nullptr;
}

std::optional<std::string> Tree::get_text(std::string_view uri) const {
  const Node* n = find(uri);
  if (n == nullptr || n->interior() || !n->value) return std::nullopt;
  return std::string(as_chars(*n->value));
}

std::optional<Bytes> Tree::get_bytes(std::string_view uri) const {
  const Node* n = find(uri);
  if (n == nullptr || n->interior() || !n->value) return std::nullopt;
  return *n->value;
}

std::vector<std::string> Tree::children(std::string_view text) const {
  std::vector<std::string> out;
  const auto uri = Uri::parse(text, UriLimits{0, 0, 0});
  if (!uri) return out;
  const std::string prefix = subtree_prefix(uri->path());
  for (auto it = nodes_.lower_bound(prefix); it != nodes_.end() && it->first.starts_with(prefix); ++it) {
    if (is_child_key(it->first, prefix)) out.push_back(it->first.substr(prefix.size()));
  }
  return out;
}

StatusCode Tree::set(std::string_view text, const NodeValue& value) {
  const auto uri = parse(text);
  if (!uri) return uri.error();
  if (uri->query() != UriQuery::None) return StatusCode::CommandNotAllowed;
  if (find_node(*uri) != nullptr) return replace(Caller::device(), uri->path(), value);
  return do_add(Caller::device(), *uri, value);
}

StatusCode Tree::set_text(std::string_view uri, std::string_view text, Format format) {
  return set(uri, NodeValue{format, "text/plain", text_bytes(text)});
}

StatusCode Tree::ensure_interior(std::string_view text, std::string_view type) {
  const auto uri = parse(text);
  if (!uri) return uri.error();
  if (uri->query() != UriQuery::None) return StatusCode::CommandNotAllowed;
  Node* n = find_mut(*uri);
  if (n == nullptr) {
    if (const StatusCode s = do_add(Caller::device(), *uri, NodeValue{Format::Node, {}, {}}); s != StatusCode::Ok) {
      return s;
    }
    n = find_mut(*uri);
  }
  if (!n->interior()) return StatusCode::CommandNotAllowed;
  if (!type.empty() && n->type != type) {
    n->type = std::string(type);
    ++changes_;
  }
  return StatusCode::Ok;
}

StatusCode Tree::set_acl(std::string_view text, const Acl& acl) {
  const auto uri = Uri::parse(text, UriLimits{0, 0, 0});
  if (!uri) return uri.error();
  Node* n = find_mut(*uri);
  if (n == nullptr) return StatusCode::NotFound;
  if (uri->is_root() && acl.empty()) return StatusCode::BadRequest;
  n->acl = acl;
  ++changes_;
  return StatusCode::Ok;
}

// ---- Atomic / persistence --------------------------------------------------------------------

TreeSnapshot Tree::snapshot() const {
  TreeSnapshot s;
  s.nodes_ = nodes_;
  s.changes_ = changes_;
  return s;
}

void Tree::restore(TreeSnapshot snapshot) {
  nodes_ = std::move(snapshot.nodes_);
  // A rollback is itself a change relative to what may have been persisted meanwhile.
  changes_ = std::max(changes_, snapshot.changes_) + 1;
}

StatusCode Tree::assign(NodeMap nodes) {
  const auto root = nodes.find(".");
  if (root == nodes.end() || !root->second.interior() || root->second.acl.empty()) return StatusCode::BadRequest;
  for (const auto& [key, node] : nodes) {
    const auto uri = Uri::parse(key, UriLimits{0, 0, 0});
    if (!uri || uri->query() != UriQuery::None || uri->path() != key) return StatusCode::BadRequest;
    if (node.interior() != (node.value == nullptr)) return StatusCode::BadRequest;
    if (!uri->is_root()) {
      const auto parent = nodes.find(uri->parent().path());
      if (parent == nodes.end() || !parent->second.interior()) return StatusCode::BadRequest;
    }
  }
  nodes_ = std::move(nodes);
  ++changes_;
  return StatusCode::Ok;
}

}  // namespace m2mdm::mo
