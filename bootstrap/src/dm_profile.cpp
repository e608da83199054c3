// DM-profile bootstrap (DM Bootstrap 1.2 §3.1.4, DM_Security 1.2 §5.1.7.2, DM_TND 1.2 §9 TNDS).
#include "m2mdm/bootstrap/dm_profile.hpp"

#include "m2mdm/syncml/xml_reader.hpp"

#include "context_rules.hpp"
#include "libwbxml_conv.hpp"
#include "xml_escape.hpp"

#include <wbxml.h>

namespace m2mdm::bootstrap {

// Defined here; declared as a friend of VerifiedBootstrap in apply.hpp.
Result<VerifiedBootstrap> make_verified_dm_bootstrap(BootstrapResult r, SecMethod m) {
  return VerifiedBootstrap(std::move(r), m);
}

namespace {

using syncml::XmlNode;

/// The text children of @p n, with ASCII whitespace trimmed (XML input may be indented).
std::string text(const XmlNode& n) {
  const std::string out = n.direct_text();
  const auto b = out.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = out.find_last_not_of(" \t\r\n");
  return out.substr(b, e - b + 1);
}

std::string join(std::string base, std::string_view name) {
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  if (base.empty() || base == ".") base = ".";
  return base + "/" + std::string(name);
}

struct LeafWalker {
  const CpLimits& limits;
  std::map<std::string, std::string> leaves;
  std::size_t nodes = 0;

  Result<void> node(const XmlNode& n, const std::string& parent, std::size_t depth) {
    if (depth > limits.max_depth + 4) return fail(errc::cp_too_deep);
    if (++nodes > limits.max_nodes) return fail(errc::cp_too_large);
    const XmlNode* name = n.child("NodeName");
    if (name == nullptr) return fail(errc::dm_bad_tnds);
    std::string base = parent;
    if (const XmlNode* path = n.child("Path")) base = text(*path);
    const std::string nn = text(*name);
    if (nn.empty() || nn.find('/') != std::string::npos) return fail(errc::dm_bad_tnds);
    const std::string uri = join(base, nn);
    if (const XmlNode* v = n.child("Value")) leaves[uri] = text(*v);
    for (const XmlNode& c : n.children)
      if (c.is_element("Node"))
        if (auto r = node(c, uri, depth + 1); !r) return r;
    return {};
  }
};

/// @p s, or nullopt when it is empty (a leaf the DM profile does not carry reads as "").
std::optional<std::string> present(std::string s) {
  if (s.empty()) return std::nullopt;
  return s;
}

std::string normalise_uri(std::string u) {
  if (u.rfind("./", 0) != 0) u = u.rfind('/', 0) == 0 ? "." + u : "./" + u;
  while (u.size() > 2 && u.back() == '/') u.pop_back();
  return u;
}

}  // namespace

Result<std::string> dm_bootstrap_to_xml(ByteView wbxml, const CpLimits& limits) {
  if (wbxml.size() > limits.max_bytes) return fail(errc::cp_too_large);
  if (wbxml.size() < 4 || wbxml[0] > 0x03) return fail(errc::dm_bad_tnds);
  const detail::XmlOutput output{.language = WBXML_LANG_SYNCML_SYNCML12, .indent = true, .utf8 = false};
  return detail::wbxml_to_xml(wbxml, output, errc::dm_bad_tnds);
}

Result<std::map<std::string, std::string>> dm_bootstrap_leaves(ByteView wbxml, const CpLimits& limits) {
  auto xml = dm_bootstrap_to_xml(wbxml, limits);
  if (!xml) return fail(xml.error());
  if (xml->size() > limits.max_bytes * 16 + 4096) return fail(errc::cp_too_large);
  auto root = syncml::read_xml(*xml, syncml::XmlLimits{xml->size(), syncml::XmlLimits{}.max_depth});
  if (!root) return fail(errc::dm_bad_tnds);  // not well-formed, a DTD declaration or an entity
  if (root->name != "SyncML") return fail(errc::dm_bad_tnds);
  const XmlNode* body = root->child("SyncBody");
  if (body == nullptr) return fail(errc::dm_bad_tnds);
  LeafWalker w{limits, {}, 0};
  for (const XmlNode& cmd : body->children) {
    if (!cmd.is_element()) continue;
    if (cmd.name != "Add" && cmd.name != "Replace") continue;  // subset: see dm_profile.hpp
    for (const XmlNode& item : cmd.children) {
      if (!item.is_element("Item")) continue;
      const XmlNode* data = item.child("Data");
      const XmlNode* tree = data != nullptr ? data->child("MgmtTree") : nullptr;
      if (tree != nullptr) {
        std::string base = ".";
        if (const XmlNode* target = item.child("Target"))
          if (const XmlNode* loc = target->child("LocURI")) base = normalise_uri(text(*loc));
        for (const XmlNode& n : tree->children)
          if (n.is_element("Node"))
            if (auto r = w.node(n, base, 1); !r) return fail(r.error());
      } else {
        const XmlNode* target = item.child("Target");
        const XmlNode* loc = target != nullptr ? target->child("LocURI") : nullptr;
        if (loc == nullptr) return fail(errc::dm_bad_tnds);
        if (++w.nodes > limits.max_nodes) return fail(errc::cp_too_large);
        w.leaves[normalise_uri(text(*loc))] = data != nullptr ? text(*data) : std::string{};
      }
    }
  }
  return std::move(w.leaves);
}

Result<BootstrapResult> interpret_dm_bootstrap(ByteView wbxml, const CpLimits& limits) {
  auto leaves = dm_bootstrap_leaves(wbxml, limits);
  if (!leaves) return fail(leaves.error());
  // Group by account: ./DMAcc/<x>/<rest>
  std::map<std::string, std::map<std::string, std::string>> accounts;
  const std::string prefix = "./DMAcc/";
  for (const auto& [uri, value] : *leaves) {
    if (uri.rfind(prefix, 0) != 0) continue;
    const auto rest = uri.substr(prefix.size());
    const auto slash = rest.find('/');
    if (slash == std::string::npos) continue;
    accounts[rest.substr(0, slash)][rest.substr(slash + 1)] = value;
  }
  BootstrapResult out;
  for (const auto& [x, f] : accounts) {
    auto get = [&](const std::string& k) {
      auto it = f.find(k);
      return it == f.end() ? std::string{} : it->second;
    };
    BootstrapContext ctx;
    DmAccount& acc = ctx.account;
    if (!get("AppID").empty() && get("AppID") != "w7") continue;
    acc.server_id = get("ServerID");
    if (acc.server_id.empty()) return fail(errc::cp_invalid_w7);
    acc.name = get("Name");
    acc.pref_conref = get("PrefConRef");
    // AppAddr/<y>/Addr, AddrType, Port/<z>/PortNbr and AppAuth/<y>/... (first <y> in name order)
    std::map<std::string, std::map<std::string, std::string>> addrs, auths;
    for (const auto& [k, v] : f) {
      for (auto [pre, dst] : {std::pair{std::string("AppAddr/"), &addrs}, std::pair{std::string("AppAuth/"), &auths}}) {
        if (k.rfind(pre, 0) != 0) continue;
        const auto r = k.substr(pre.size());
        const auto s = r.find('/');
        if (s != std::string::npos) (*dst)[r.substr(0, s)][r.substr(s + 1)] = v;
      }
    }
    if (!addrs.empty()) {
      const auto& a = addrs.begin()->second;
      auto find = [&](const std::string& k) {
        auto it = a.find(k);
        return it == a.end() ? std::string{} : it->second;
      };
      acc.addr = find("Addr");
      acc.addr_type = find("AddrType");
      for (const auto& [k, v] : a) {
        if (k.rfind("Port/", 0) == 0 && k.size() > 12 && k.substr(k.size() - 8) == "/PortNbr") {
          acc.port = detail::parse_port(v);
          if (!acc.port) return fail(errc::cp_invalid_w7);
          break;
        }
      }
    }
    if (acc.addr.empty()) return fail(errc::cp_invalid_w7);
    for (const auto& [y, a] : auths) {
      auto find = [&](const std::string& k) {
        auto it = a.find(k);
        return it == a.end() ? std::string{} : it->second;
      };
      AuthCredential c;
      c.level = find("AAuthLevel");
      if (c.level != "CLCRED" && c.level != "SRVCRED") return fail(errc::cp_invalid_w7);
      c.type = find("AAuthType");
      c.name = find("AAuthName");
      c.secret = find("AAuthSecret");
      if (auto d = find("AAuthData"); !d.empty()) {
        auto b = base64_decode(d);
        if (!b) return fail(errc::cp_invalid_w7);
        c.data = std::move(*b);
      }
      if (acc.credential(c.level) != nullptr) return fail(errc::cp_invalid_w7);
      acc.app_auth.push_back(std::move(c));
    }
    acc.init = true;  // a DM-profile bootstrap always leads to a session with the new server
    acc.acl = "Get=" + acc.server_id + "&Replace=" + acc.server_id + "&Delete=" + acc.server_id;
    ctx.context = acc.server_id;
    const detail::M2mdmExtension ext{present(get("Ext/m2mdm/M2M-CONTEXT")), present(get("Ext/m2mdm/SPKI-SHA256")),
                                     get("Ext/m2mdm/REBOOTSTRAP-TOKEN")};
    if (auto ok = detail::apply_extension(ctx, ext); !ok) return fail(ok.error());
    if (auto napid = get("Ext/m2mdm/NAP/NAPID"); !napid.empty()) {
      ConnectivityProfile p;
      p.napid = napid;
      p.name = get("Ext/m2mdm/NAP/Name");
      p.bearer = get("Ext/m2mdm/NAP/Bearer");
      p.apn = get("Ext/m2mdm/NAP/APN");
      p.addr_type = "APN";
      p.auth_type = get("Ext/m2mdm/NAP/AuthType");
      p.auth_name = get("Ext/m2mdm/NAP/AuthName");
      p.auth_secret = get("Ext/m2mdm/NAP/AuthSecret");
      ctx.connectivity = std::move(p);
    }
    if (auto ok = detail::add_context(out, std::move(ctx)); !ok) return fail(ok.error());
  }
  return detail::require_contexts(std::move(out));
}

Result<VerifiedBootstrap> verify_dm_bootstrap(ByteView wbxml, SecMethod method, const SecCredentials& creds,
                                              std::optional<std::string_view> mac, const CpLimits& limits) {
  if (wbxml.size() > limits.max_bytes) return fail(errc::cp_too_large);
  if (method == SecMethod::userpinmac) return fail(errc::sec_unknown_method);  // no DM-profile equivalent
  if (auto ok = verify_mac(method, creds, wbxml, mac, SecProfile::dm); !ok) return fail(ok.error());
  auto r = interpret_dm_bootstrap(wbxml, limits);
  if (!r) return fail(r.error());
  return make_verified_dm_bootstrap(std::move(*r), method);
}

// ---------------------------------------------------------------------------------------------
namespace {

void esc(std::string& out, std::string_view s) { detail::escape_xml_into(out, s, detail::XmlEscape::basic); }

void leaf(std::string& out, std::string_view name, std::string_view value) {
  out += "<Node><NodeName>";
  esc(out, name);
  out += "</NodeName><Value>";
  esc(out, value);
  out += "</Value></Node>";
}

}  // namespace

Result<Bytes> build_dm_bootstrap(const BootstrapSpec& spec) {
  // Reuse the CP builder's validation.
  if (auto doc = build_bootstrap_doc(spec); !doc) return fail(doc.error());
  std::string x =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE SyncML PUBLIC \"-//SYNCML//DTD SyncML 1.2//EN\" "
      "\"http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd\">\n"
      "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"
      "<SessionID>0</SessionID><MsgID>0</MsgID><Target><LocURI>./</LocURI></Target><Source><LocURI>";
  esc(x, spec.provurl);
  x += "</LocURI></Source></SyncHdr><SyncBody>";
  int n = 0;
  for (const auto& c : spec.contexts) {
    ++n;
    const auto& s = c.server;
    x += "<Add><CmdID>" + std::to_string(n) +
         "</CmdID><Item><Meta><Format xmlns=\"syncml:metinf\">xml</Format><Type xmlns=\"syncml:metinf\">"
         "application/vnd.syncml.dmtnds+xml</Type></Meta><Data><MgmtTree xmlns=\"syncml:dmddf1.2\">"
         "<VerDTD>1.2</VerDTD><Node><NodeName>DMAcc</NodeName><Path>.</Path><Node><NodeName>m2mdm" +
         std::to_string(n) + "</NodeName>";
    leaf(x, "AppID", "w7");
    leaf(x, "ServerID", s.server_id);
    if (!s.name.empty()) leaf(x, "Name", s.name);
    leaf(x, "PrefConRef", c.nap.napid);
    x += "<Node><NodeName>AppAddr</NodeName><Node><NodeName>1</NodeName>";
    leaf(x, "Addr", s.addr);
    if (!s.addr_type.empty()) leaf(x, "AddrType", s.addr_type);
    if (s.port) {
      x += "<Node><NodeName>Port</NodeName><Node><NodeName>1</NodeName>";
      leaf(x, "PortNbr", std::to_string(*s.port));
      x += "</Node></Node>";
    }
    x += "</Node></Node>";
    if (!s.auths.empty()) {
      x += "<Node><NodeName>AppAuth</NodeName>";
      int k = 0;
      for (const auto& a : s.auths) {
        x += "<Node><NodeName>" + std::to_string(++k) + "</NodeName>";
        leaf(x, "AAuthLevel", a.level == "APPSRV" ? "CLCRED" : "SRVCRED");
        if (!a.type.empty()) leaf(x, "AAuthType", a.type);
        if (!a.name.empty()) leaf(x, "AAuthName", a.name);
        if (!a.secret.empty()) leaf(x, "AAuthSecret", a.secret);
        if (!a.data.empty()) leaf(x, "AAuthData", base64_encode(a.data));
        x += "</Node>";
      }
      x += "</Node>";
    }
    x += "<Node><NodeName>Ext</NodeName><Node><NodeName>m2mdm</NodeName>";
    leaf(x, "M2M-CONTEXT", context_role_name(c.role));
    leaf(x, "SPKI-SHA256", base64_encode(s.spki_sha256));
    if (!s.rebootstrap_token.empty()) leaf(x, "REBOOTSTRAP-TOKEN", s.rebootstrap_token);
    x += "<Node><NodeName>NAP</NodeName>";
    leaf(x, "NAPID", c.nap.napid);
    if (!c.nap.name.empty()) leaf(x, "Name", c.nap.name);
    leaf(x, "Bearer", c.nap.bearer);
    leaf(x, "APN", c.nap.apn);
    if (c.nap.auth) {
      leaf(x, "AuthType", c.nap.auth->type);
      if (!c.nap.auth->name.empty()) leaf(x, "AuthName", c.nap.auth->name);
      if (!c.nap.auth->secret.empty()) leaf(x, "AuthSecret", c.nap.auth->secret);
    }
    x += "</Node></Node></Node>";  // NAP, m2mdm, Ext
    x += "</Node></Node></MgmtTree></Data></Item></Add>";
  }
  x += "<Final/></SyncBody></SyncML>\n";

  return detail::xml_to_wbxml13(std::move(x), errc::cp_encode_failed);
}

}  // namespace m2mdm::bootstrap
