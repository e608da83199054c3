#include "m2mdm/mo/standard_objects.hpp"

#include "m2mdm/mo/error.hpp"

#include <optional>
#include <string>
#include <vector>

namespace m2mdm::mo {
namespace {

constexpr AccessTypes kGet = kAccessGet;
constexpr AccessTypes kAddGetReplace = kAccessAdd | kAccessGet | kAccessReplace;
constexpr AccessTypes kAddReplace = kAccessAdd | kAccessReplace;
constexpr AccessTypes kAddDeleteGetReplace = kAccessAdd | kAccessDelete | kAccessGet | kAccessReplace;

NodeRule rule(std::string pattern, AccessTypes access, Scope scope, Format format, std::string type = {}) {
  NodeRule r;
  r.pattern = std::move(pattern);
  r.access = access;
  r.scope = scope;
  r.format = format;
  r.type = std::move(type);
  return r;
}

StatusCode first_error(std::initializer_list<StatusCode> codes) {
  for (StatusCode s : codes) {
    if (s != StatusCode::Ok) return s;
  }
  return StatusCode::Ok;
}

std::string text_or_empty(const Tree& tree, const std::string& uri) { return tree.get_text(uri).value_or(""); }

// One @p View per child of the interior node @p parent (a DMAcc list of <x>: AppAddr, AppAuth),
// in name order: its name is the child's, the rest what @p read(child path, view) fills in.
template <class View, class Read>
std::vector<View> read_each_child(const Tree& tree, const std::string& parent, Read read) {
  std::vector<View> out;
  for (const auto& x : tree.children(parent)) {
    View v;
    v.name = x;
    read(parent + "/" + x, v);
    out.push_back(std::move(v));
  }
  return out;
}

// A node of a permanent, Get-only standard object (DevInfo, DevDetail): its path below the
// object's root, and its value (text/plain in @p format) or none for an interior node.
struct GetOnlyNode {
  std::string_view path;
  std::optional<std::string> value;
  Format format = Format::Chr;
};

// Describes and writes such an object: @p root (interior, of type @p urn) and @p nodes in order,
// every node permanent and Get-only. Every node is written; the first failure is returned.
StatusCode install_get_only(Tree& tree, const std::string& root, std::string_view urn,
                            const std::vector<GetOnlyNode>& nodes) {
  constexpr Scope P = Scope::Permanent;
  std::vector<NodeRule> rules{rule(root, kGet, P, Format::Node, std::string(urn))};
  for (const auto& n : nodes) {
    const std::string path = root + "/" + std::string(n.path);
    rules.push_back(n.value ? rule(path, kGet, P, n.format, "text/plain") : rule(path, kGet, P, Format::Node));
  }
  tree.describe(root, std::move(rules));
  StatusCode first = tree.ensure_interior(root, urn);
  for (const auto& n : nodes) {
    const std::string path = root + "/" + std::string(n.path);
    const StatusCode s = n.value ? tree.set_text(path, *n.value, n.format) : tree.ensure_interior(path);
    if (first == StatusCode::Ok) first = s;
  }
  return first;
}

}  // namespace

StatusCode install_devinfo(Tree& tree, const DevInfo& info) {
  // DM_StdObj 1.2 §5.1 (DevInfo).
  return install_get_only(tree, "./DevInfo", kDevInfoUrn,
                          {
                              {"DevId", info.dev_id},
                              {"Man", info.man},
                              {"Mod", info.mod},
                              {"DmV", info.dm_v},
                              {"Lang", info.lang},
                              {"Ext", std::nullopt},
                          });
}

StatusCode install_devdetail(Tree& tree, const DevDetail& d) {
  // DM_StdObj 1.2 §5.3 (DevDetail).
  return install_get_only(tree, "./DevDetail", kDevDetailUrn,
                          {
                              {"URI", std::nullopt},
                              {"URI/MaxDepth", std::to_string(d.uri.max_depth)},
                              {"URI/MaxTotLen", std::to_string(d.uri.max_tot_len)},
                              {"URI/MaxSegLen", std::to_string(d.uri.max_seg_len)},
                              {"DevTyp", d.dev_typ},
                              {"OEM", d.oem},
                              {"FwV", d.fw_v},
                              {"SwV", d.sw_v},
                              {"HwV", d.hw_v},
                              {"LrgObj", d.lrg_obj ? "true" : "false", Format::Bool},
                              {"Ext", std::nullopt},
                          });
}

StatusCode install_dmacc(Tree& tree) {
  // DM_StdObj 1.2 Appendix (DMAcc MO, urn:oma:mo:oma-dm-dmacc:1.0): below an account, leaves are
  // Add/Get/Replace text and interior nodes Add/Delete/Get/Replace.
  constexpr Scope D = Scope::Dynamic;
  const std::string t = "text/plain";
  auto leaf = [&](std::string_view sub) {
    return rule("./DMAcc/*/" + std::string(sub), kAddGetReplace, D, Format::Chr, t);
  };
  auto interior = [&](std::string_view sub) {
    return rule("./DMAcc/*/" + std::string(sub), kAddDeleteGetReplace, D, Format::Node);
  };
  NodeRule nbr = rule("./DMAcc/*/AppAddr/*/Port/*/PortNbr", kAddGetReplace, D, Format::Int, t);
  nbr.also_formats = 1u << static_cast<unsigned>(Format::Chr);
  // Secrets are never readable (DM_StdObj 1.2: AAuthSecret/AAuthData AccessType Add, Replace).
  NodeRule secret = rule("./DMAcc/*/AppAuth/*/AAuthSecret", kAddReplace, D, Format::Chr, t);
  NodeRule data = rule("./DMAcc/*/AppAuth/*/AAuthData", kAddReplace, D, Format::Bin);
  data.also_formats = 1u << static_cast<unsigned>(Format::B64);
  tree.describe("./DMAcc", {
      rule("./DMAcc", kGet, Scope::Permanent, Format::Node),
      rule("./DMAcc/*", kAddDeleteGetReplace, D, Format::Node, std::string(kDmAccUrn)),
      leaf("AppID"),
      leaf("ServerID"),
      leaf("Name"),
      leaf("PrefConRef"),
      interior("AppAddr"),
      interior("AppAddr/*"),
      leaf("AppAddr/*/Addr"),
      leaf("AppAddr/*/AddrType"),
      interior("AppAddr/*/Port"),
      interior("AppAddr/*/Port/*"),
      std::move(nbr),
      leaf("AAuthPref"),
      interior("AppAuth"),
      interior("AppAuth/*"),
      leaf("AppAuth/*/AAuthLevel"),
      leaf("AppAuth/*/AAuthType"),
      leaf("AppAuth/*/AAuthName"),
      std::move(secret),
      std::move(data),
      interior("Ext"),
  });
  if (const StatusCode s = tree.ensure_interior("./DMAcc"); s != StatusCode::Ok) return s;
  // Accounts are created by bootstrap (the device); servers may only list them.
  return tree.set_acl("./DMAcc", Acl::of("Get=*"));
}

StatusCode write_dm_account(Tree& tree, const DmAccountView& a) {
  if (!is_valid_segment(a.node_name) || a.server_id.empty()) return StatusCode::BadRequest;
  auto acl = Acl::parse("Delete=" + a.server_id + "&Get=" + a.server_id + "&Replace=" + a.server_id);
  if (!acl) return acl.error();
  const std::string base = "./DMAcc/" + a.node_name;
  const TreeSnapshot before = tree.snapshot();
  auto fail = [&](StatusCode s) {
    tree.restore(before);
    return s;
  };
  if (tree.exists(base)) {
    if (const StatusCode s = tree.erase(base); s != StatusCode::Ok) return fail(s);
  }
  StatusCode s = first_error({
      tree.ensure_interior(base, kDmAccUrn),
      tree.set_text(base + "/AppID", a.app_id),
      tree.set_text(base + "/ServerID", a.server_id),
      tree.set_text(base + "/Name", a.name),
      tree.set_text(base + "/PrefConRef", a.pref_con_ref),
      tree.set_text(base + "/AAuthPref", a.aauth_pref),
      tree.ensure_interior(base + "/AppAddr"),
      tree.ensure_interior(base + "/AppAuth"),
  });
  if (s != StatusCode::Ok) return fail(s);
  for (const auto& addr : a.app_addr) {
    if (!is_valid_segment(addr.name)) return fail(StatusCode::BadRequest);
    const std::string p = base + "/AppAddr/" + addr.name;
    s = first_error({tree.ensure_interior(p), tree.set_text(p + "/Addr", addr.addr),
                     tree.set_text(p + "/AddrType", addr.addr_type)});
    if (s != StatusCode::Ok) return fail(s);
    for (std::size_t i = 0; i < addr.ports.size(); ++i) {
      const std::string port = p + "/Port/" + std::to_string(i + 1);
      s = first_error({tree.ensure_interior(port), tree.set_text(port + "/PortNbr", addr.ports[i], Format::Int)});
      if (s != StatusCode::Ok) return fail(s);
    }
  }
  for (const auto& auth : a.app_auth) {
    if (!is_valid_segment(auth.name)) return fail(StatusCode::BadRequest);
    const std::string p = base + "/AppAuth/" + auth.name;
    s = first_error({tree.ensure_interior(p), tree.set_text(p + "/AAuthLevel", auth.level),
                     tree.set_text(p + "/AAuthType", auth.type), tree.set_text(p + "/AAuthName", auth.auth_name),
                     tree.set_text(p + "/AAuthSecret", auth.secret),
                     tree.set(p + "/AAuthData", NodeValue{Format::Bin, "application/octet-stream", auth.data})});
    if (s != StatusCode::Ok) return fail(s);
  }
  if (s = tree.set_acl(base, *acl); s != StatusCode::Ok) return fail(s);
  return StatusCode::Ok;
}

Result<DmAccountView> read_dm_account(const Tree& tree, std::string_view node_name) {
  const std::string base = "./DMAcc/" + std::string(node_name);
  const Node* n = tree.find(base);
  if (n == nullptr || !n->interior()) return fail(make_error_code(errc::not_found));
  DmAccountView a;
  a.node_name = std::string(node_name);
  a.app_id = text_or_empty(tree, base + "/AppID");
  a.server_id = text_or_empty(tree, base + "/ServerID");
  a.name = text_or_empty(tree, base + "/Name");
  a.pref_con_ref = text_or_empty(tree, base + "/PrefConRef");
  a.aauth_pref = text_or_empty(tree, base + "/AAuthPref");
  a.app_addr = read_each_child<DmAppAddr>(tree, base + "/AppAddr", [&](const std::string& p, DmAppAddr& addr) {
    addr.addr = text_or_empty(tree, p + "/Addr");
    addr.addr_type = text_or_empty(tree, p + "/AddrType");
    for (const auto& port : tree.children(p + "/Port")) {
      addr.ports.push_back(text_or_empty(tree, p + "/Port/" + port + "/PortNbr"));
    }
  });
  a.app_auth = read_each_child<DmAppAuth>(tree, base + "/AppAuth", [&](const std::string& p, DmAppAuth& auth) {
    auth.level = text_or_empty(tree, p + "/AAuthLevel");
    auth.type = text_or_empty(tree, p + "/AAuthType");
    auth.auth_name = text_or_empty(tree, p + "/AAuthName");
    auth.secret = text_or_empty(tree, p + "/AAuthSecret");
    auth.data = tree.get_bytes(p + "/AAuthData").value_or(Bytes{});
  });
  return a;
}

std::vector<DmAccountView> list_dm_accounts(const Tree& tree) {
  std::vector<DmAccountView> out;
  for (const auto& x : tree.children("./DMAcc")) {
    if (auto a = read_dm_account(tree, x)) out.push_back(std::move(*a));
  }
  return out;
}

std::optional<DmAccountView> find_dm_account(const Tree& tree, std::string_view server_id) {
  for (auto& a : list_dm_accounts(tree)) {
    if (a.server_id == server_id) return std::move(a);
  }
  return std::nullopt;
}

}  // namespace m2mdm::mo
