// Strict validators for REST request bodies. Every member is type- and size-checked; unknown
// members are refused so that typos do not silently drop data.
#include "m2mdm/server/rest_json.hpp"

#include "m2mdm/mo/m2msim_object.hpp"
#include "m2mdm/mo/strict_json.hpp"

#include "m2mdm/server/drf.hpp"
#include "m2mdm/server/push.hpp"
#include "m2mdm/syncml/encoding.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <set>
#include <string>
#include <vector>

namespace m2mdm::server {
namespace {
using json = nlohmann::json;
using Err = std::unexpected<std::string>;

constexpr int kMaxDepth = 16;

/// Rejects nesting deeper than kMaxDepth before nlohmann's recursive parser sees it.
bool depth_ok(std::string_view s) {
  int depth = 0;
  bool in_str = false, esc = false;
  for (char c : s) {
    if (in_str) {
      if (esc) esc = false;
      else if (c == '\\') esc = true;
      else if (c == '"') in_str = false;
      continue;
    }
    if (c == '"') in_str = true;
    else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return false;
    } else if (c == '}' || c == ']') --depth;
  }
  return true;
}

// nlohmann's parser that also notes a member named twice (RFC 8259 §4: "SHOULD be unique";
// nlohmann keeps the last one, a proxy or log reader may take the first: one meaning only).
json parse_json(std::string_view text, bool& duplicate) {
  auto parsed = mo::detail::parse_strict_json(as_bytes(text));
  duplicate = !parsed.duplicate_key.empty();
  return std::move(parsed.doc);
}

/// A body as one JSON document: not nested too deeply, valid, no member named twice.
Parsed<json> parse_body(std::string_view body) {
  if (!depth_ok(body)) return Err("JSON nested too deeply");
  bool duplicate = false;
  json j = parse_json(body, duplicate);
  if (j.is_discarded()) return Err("body is not valid JSON");
  if (duplicate) return Err("body names a member twice");
  return j;
}

Parsed<json> parse_object(std::string_view body) {
  auto j = parse_body(body);
  if (j && !j->is_object()) return Err("body must be a JSON object");
  return j;
}

Parsed<void> only_keys(const json& j, std::initializer_list<std::string_view> allowed, std::string_view where = {}) {
  for (const auto& [k, v] : j.items()) {
    bool ok = false;
    for (auto a : allowed) ok = ok || a == k;
    if (!ok) return Err("unknown member \"" + k.substr(0, 64) + "\"" + (where.empty() ? "" : " in " + std::string(where)));
  }
  return {};
}

bool printable(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

/// A required or optional string member with a size limit (and no control characters).
Parsed<std::optional<std::string>> str(const json& j, const char* key, std::size_t max, bool required,
                                       bool allow_empty = false) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) return Err(std::string("missing \"") + key + "\"");
    return std::optional<std::string>{};
  }
  if (!it->is_string()) return Err(std::string("\"") + key + "\" must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max) return Err(std::string("\"") + key + "\" is longer than " + std::to_string(max));
  if (s.empty() && !allow_empty) return Err(std::string("\"") + key + "\" must not be empty");
  if (!printable(s)) return Err(std::string("\"") + key + "\" contains control characters");
  return std::optional<std::string>{s};
}

Parsed<std::optional<std::int64_t>> integer(const json& j, const char* key, std::int64_t lo, std::int64_t hi,
                                            bool required) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) return Err(std::string("missing \"") + key + "\"");
    return std::optional<std::int64_t>{};
  }
  if (!it->is_number_integer()) return Err(std::string("\"") + key + "\" must be an integer");
  std::int64_t v = 0;
  if (it->is_number_unsigned()) {
    auto u = it->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(hi)) return Err(std::string("\"") + key + "\" is out of range");
    v = static_cast<std::int64_t>(u);
  } else {
    v = it->get<std::int64_t>();
  }
  if (v < lo || v > hi) return Err(std::string("\"") + key + "\" is out of range");
  return std::optional<std::int64_t>{v};
}

Parsed<Bytes> hex_member(const json& j, const char* key, std::size_t bytes) {
  auto s = str(j, key, bytes * 2, false);
  if (!s) return Err(s.error());
  if (!*s) return Bytes{};
  auto b = hex_decode(**s);
  if (!b || b->size() != bytes)
    return Err(std::string("\"") + key + "\" must be " + std::to_string(bytes * 2) + " hex digits");
  return std::move(*b);
}

bool valid_id(std::string_view s) {
  for (unsigned char c : s)
    if (!(std::isalnum(c) || c == ':' || c == '-' || c == '_' || c == '.')) return false;
  return !s.empty();
}

// A DNS name as a callback host may be: labels of 1-63 letters, digits and '-' (not at either
// end), 253 characters at most (RFC 1035 §2.3.1, RFC 1123 §2.1).
bool valid_dns_name(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  if (h.back() == '.') h.remove_suffix(1);
  while (!h.empty()) {
    const auto dot = h.find('.');
    const std::string_view label = h.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    if (dot == std::string_view::npos) break;
    h.remove_prefix(dot + 1);
    if (h.empty()) return false;
  }
  return true;
}

// http(s)://host[:port][/path][?query]: a DNS name, an IPv4 address or a bracketed IPv6 literal;
// no user info, no fragment, printable ASCII only (RFC 3986 §3).
bool valid_url(std::string_view s) {
  std::string_view rest;
  if (s.starts_with("http://")) rest = s.substr(7);
  else if (s.starts_with("https://")) rest = s.substr(8);
  else return false;
  for (char c : s)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f || c == '#') return false;
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.find('@') != std::string_view::npos) return false;
  std::string_view host = authority, port;
  if (authority.starts_with("[")) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    for (char c : authority.substr(1, close - 1))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    host = {};
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
      if (port.empty()) return false;
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return false;
  }
  if (!port.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc{} || p != port.data() + port.size() || v == 0 || v > 65535) return false;
  }
  return authority.starts_with("[") || valid_dns_name(host);  // an IPv4 address is a valid DNS name too
}

/// "secMethod": one of the DRF's methods, stored by its canonical name; "" when absent.
Parsed<std::string> sec_member(const json& j) {
  auto s = str(j, "secMethod", 32, false);
  if (!s) return Err(s.error());
  if (!*s) return std::string();
  auto m = parse_drf_sec_method(**s);
  if (!m) return Err("\"secMethod\" must be USERPIN, NETWPIN or USERNETWPIN");
  return std::string(bootstrap::sec_method_name(*m));
}

#define M2MDM_GET(var, expr)                  \
  auto var = (expr);                          \
  if (!var) return Err(var.error())

/// A body that is one object with one member, the string @p key (required, at most @p max): its value.
Parsed<std::string> sole_string_member(std::string_view body, const char* key, std::size_t max) {
  M2MDM_GET(j, parse_object(body));
  if (auto r = only_keys(*j, {key}); !r) return Err(r.error());
  M2MDM_GET(value, str(*j, key, max, true));
  return **value;
}

/// "object": base64 of at most @p max_bytes once decoded (absent = empty when not required).
Parsed<Bytes> object_member(const json& j, std::size_t max_bytes, bool required) {
  M2MDM_GET(object, str(j, "object", (max_bytes + 2) / 3 * 4 + 4, required));
  if (!*object) return Bytes{};
  auto bytes = base64_decode(**object);
  if (!bytes) return Err("\"object\" is not valid base64");
  if (required && bytes->empty()) return Err("\"object\" is empty");
  if (bytes->size() > max_bytes) return Err("\"object\" is too large");
  return std::move(*bytes);
}

/// "ttlSeconds" (60 s .. 1 year) and "correlator" of a request that creates a job.
Parsed<void> job_delivery_members(const json& j, std::optional<std::int64_t>& ttl_seconds, std::string& correlator) {
  M2MDM_GET(ttl, integer(j, "ttlSeconds", 60, 365 * 24 * 3600, false));
  ttl_seconds = *ttl;
  M2MDM_GET(corr, str(j, "correlator", kMaxIdLength, false));
  if (*corr) {
    if (!valid_id(**corr)) return Err("\"correlator\" may hold only letters, digits and : - _ .");
    correlator = **corr;
  }
  return {};
}

Parsed<ImportedDevice> parse_device(const json& j) {
  if (!j.is_object()) return Err("each device must be a JSON object");
  if (auto r = only_keys(j, {"devId", "pcid", "shoId", "dpfAddress", "pushAddress", "k", "opc", "sqn", "devicePin", "secMethod", "dm"},
                         "device");
      !r)
    return Err(r.error());
  ImportedDevice out;
  Device& d = out.device;
  M2MDM_GET(dev_id, str(j, "devId", kMaxIdLength, true));
  M2MDM_GET(pcid, str(j, "pcid", kMaxIdLength, true));
  if (!valid_id(**dev_id)) return Err("\"devId\" may hold only letters, digits and : - _ .");
  if (!valid_id(**pcid)) return Err("\"pcid\" may hold only letters, digits and : - _ .");
  d.dev_id = **dev_id;
  d.pcid = **pcid;
  M2MDM_GET(sho, integer(j, "shoId", 1, std::numeric_limits<std::int64_t>::max(), false));
  if (*sho) {
    d.sho_id = **sho;
    out.sho_given = true;
  }
  M2MDM_GET(dpf, str(j, "dpfAddress", kMaxUrlLength, false));
  if (*dpf) {
    if (!valid_url(**dpf)) return Err("\"dpfAddress\" must be an http(s) URL");
    d.dpf_address = **dpf;
  }
  M2MDM_GET(push, str(j, "pushAddress", kMaxPushAddressLength, false));
  if (*push) {
    if (!parse_push_address(**push)) return Err("\"pushAddress\" must be udp:HOST:PORT");
    d.push_address = **push;
  }
  M2MDM_GET(sec, sec_member(j));
  d.sec_method = *sec;  // "" = keep (or USERPIN for a new device)
  // NETWPIN and USERNETWPIN key the bootstrap's MAC with the IMSI: the PCID must then be one,
  // 6 to 15 digits (ITU-T E.212; ProvSec 1.1 §5.4.3 encodes it as semi-octets).
  if (sec_method_needs_imsi(*sec) && !pcid_is_imsi(d.pcid))
    return Err("\"pcid\" must be an IMSI (6 to 15 digits) with secMethod " + *sec);
  M2MDM_GET(k, hex_member(j, "k", 16));
  M2MDM_GET(opc, hex_member(j, "opc", 16));
  if (k->empty() != opc->empty()) return Err("\"k\" and \"opc\" go together");
  d.k = std::move(*k);
  d.opc = std::move(*opc);
  M2MDM_GET(sqn, integer(j, "sqn", 0, (std::int64_t{1} << 48) - 1, false));
  if (*sqn) d.sqn = static_cast<std::uint64_t>(**sqn);
  M2MDM_GET(pin, str(j, "devicePin", kMaxSecretLength, false));
  if (*pin) d.device_pin.assign(pin->value().begin(), pin->value().end());
  if (auto it = j.find("dm"); it != j.end()) {
    if (!it->is_object()) return Err("\"dm\" must be an object");
    if (auto r = only_keys(*it, {"serverId", "serverUsername", "serverPassword", "clientUsername", "clientPassword"},
                           "dm");
        !r)
      return Err(r.error());
    M2MDM_GET(sid, str(*it, "serverId", kMaxNameLength, false));
    M2MDM_GET(su, str(*it, "serverUsername", kMaxNameLength, false));
    M2MDM_GET(sp, str(*it, "serverPassword", kMaxSecretLength, false));
    M2MDM_GET(cu, str(*it, "clientUsername", kMaxNameLength, false));
    M2MDM_GET(cp, str(*it, "clientPassword", kMaxSecretLength, false));
    d.dm.server_id = sid->value_or("");
    d.dm.server_username = su->value_or("");
    d.dm.server_password = sp->value_or("");
    d.dm.client_username = cu->value_or("");
    d.dm.client_password = cp->value_or("");
  }
  return out;
}

}  // namespace

Parsed<std::vector<ImportedDevice>> parse_device_import(std::string_view body, bool ndjson, std::size_t max_devices) {
  std::vector<ImportedDevice> out;
  auto add = [&](const json& j) -> Parsed<void> {
    if (out.size() >= max_devices) return Err("more than " + std::to_string(max_devices) + " devices");
    auto d = parse_device(j);
    if (!d) return Err("device " + std::to_string(out.size() + 1) + ": " + d.error());
    out.push_back(std::move(*d));
    return {};
  };
  if (ndjson) {
    std::size_t line_no = 0;
    while (!body.empty()) {
      auto nl = body.find('\n');
      std::string_view line = body.substr(0, nl);
      body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
      ++line_no;
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
      if (line.empty()) continue;
      if (!depth_ok(line)) return Err("line " + std::to_string(line_no) + ": JSON nested too deeply");
      bool duplicate = false;
      json j = parse_json(line, duplicate);
      if (j.is_discarded()) return Err("line " + std::to_string(line_no) + ": not valid JSON");
      if (duplicate) return Err("line " + std::to_string(line_no) + ": names a member twice");
      if (auto r = add(j); !r) return Err(r.error());
    }
  } else {
    M2MDM_GET(j, parse_body(body));
    if (!j->is_array()) return Err("body must be a JSON array of devices");
    for (const auto& e : *j)
      if (auto r = add(e); !r) return Err(r.error());
  }
  if (out.empty()) return Err("no devices in the body");
  std::set<std::string_view> ids, pcids;
  for (const auto& d : out) {
    if (!ids.insert(d.device.dev_id).second) return Err("duplicate devId " + d.device.dev_id);
    if (!pcids.insert(d.device.pcid).second) return Err("duplicate pcid " + d.device.pcid);
  }
  return out;
}

Parsed<ClaimRequest> parse_claim_request(std::string_view body) {
  M2MDM_GET(j, parse_object(body));
  if (auto r = only_keys(*j, {"devId", "devicePin"}); !r) return Err(r.error());
  M2MDM_GET(dev_id, str(*j, "devId", kMaxIdLength, true));
  if (!valid_id(**dev_id)) return Err("\"devId\" may hold only letters, digits and : - _ .");
  M2MDM_GET(pin, str(*j, "devicePin", kMaxSecretLength, true));
  ClaimRequest out;
  out.dev_id = **dev_id;
  out.device_pin.assign(pin->value().begin(), pin->value().end());
  return out;
}

Parsed<ShoCreate> parse_sho_create(std::string_view body) {
  M2MDM_GET(j, parse_object(body));
  if (auto r = only_keys(*j, {"name", "signer"}); !r) return Err(r.error());
  M2MDM_GET(name, str(*j, "name", kMaxNameLength, true));
  ShoCreate out{**name, {}};
  M2MDM_GET(signer, str(*j, "signer", 64, false));
  if (*signer) {
    if (!valid_id(**signer)) return Err("\"signer\" may hold only letters, digits and : - _ .");
    out.signer = **signer;
  }
  return out;
}

Parsed<std::string> parse_callback_registration(std::string_view body) {
  M2MDM_GET(url, sole_string_member(body, "url", kMaxUrlLength));
  if (!valid_url(*url)) return Err("\"url\" must be an http(s) URL");
  return url;
}

Parsed<JobSubmission> parse_job_submission(std::string_view body, std::size_t max_object_bytes) {
  M2MDM_GET(j, parse_object(body));
  if (auto r = only_keys(*j, {"kind", "object", "authorisation", "ttlSeconds", "correlator"}); !r) return Err(r.error());
  JobSubmission out;
  M2MDM_GET(kind, str(*j, "kind", 32, true));
  auto k = job_kind_from_string(**kind);
  if (!k)
    return Err(
        "\"kind\" must be one of install, activate, deactivate, delete, reset, operator_change, arm_rebootstrap");
  out.kind = *k;
  M2MDM_GET(object, object_member(*j, max_object_bytes, true));
  out.object = std::move(*object);
  // activate / deactivate / delete name an MCIM/<x> node: it becomes part of the Exec target
  // ./M2MSIMMobj/MCIM/<x>/Operations/..., so it must be one valid node name (no '/', "..", NUL).
  if (out.kind == JobKind::activate || out.kind == JobKind::deactivate || out.kind == JobKind::delete_mcim) {
    if (!mo::is_valid_m2msim_node_name(as_chars(out.object)))
      return Err("\"object\" must be the base64 of an MCIM node name: 1 to 64 of A-Z a-z 0-9 - . _ ~, not . or ..");
  }
  // arm_rebootstrap: how long the device stays armed, in seconds (docs/bootstrap.md).
  if (out.kind == JobKind::arm_rebootstrap) {
    const std::string_view v = as_chars(out.object);
    std::int64_t seconds = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
    if (v.empty() || ec != std::errc{} || p != v.data() + v.size() || seconds < 1 || seconds > 86400)
      return Err("\"object\" must be the base64 of the arming validity in seconds, 1 to 86400");
  }
  M2MDM_GET(auth, str(*j, "authorisation", kMaxAuthorisationLength, true));
  out.authorisation = **auth;
  if (auto r = job_delivery_members(*j, out.ttl_seconds, out.correlator); !r) return Err(r.error());
  return out;
}

namespace {

Parsed<std::string> variant_member(const json& j) {
  M2MDM_GET(variant, str(j, "variant", 1, true));
  if (**variant != "A" && **variant != "B" && **variant != "C") return Err("\"variant\" must be A, B or C");
  return **variant;
}

/// "authorisation" (base64 of the old SHO's token) and "object" (base64 of the new SHO's sealed
/// MCIM) of one change.
Parsed<void> change_members(const json& j, Bytes& authorisation, Bytes& object, std::size_t max_object_bytes) {
  M2MDM_GET(auth, str(j, "authorisation", kMaxAuthorisationLength, true));
  auto token = base64_decode(**auth);
  if (!token || token->empty()) return Err("\"authorisation\" must be the base64 of the operator-change token");
  authorisation = std::move(*token);
  M2MDM_GET(mcim, object_member(j, max_object_bytes, true));  // the new SHO's sealed MCIM (every variant)
  object = std::move(*mcim);
  return {};
}

}  // namespace

Parsed<OperatorChangeRequest> parse_operator_change_request(std::string_view body, std::size_t max_object_bytes) {
  M2MDM_GET(j, parse_object(body));
  if (auto r = only_keys(*j, {"variant", "authorisation", "object", "ttlSeconds", "correlator"}); !r)
    return Err(r.error());
  OperatorChangeRequest out;
  M2MDM_GET(variant, variant_member(*j));
  out.variant = std::move(*variant);
  if (auto r = change_members(*j, out.authorisation, out.object, max_object_bytes); !r) return Err(r.error());
  if (auto r = job_delivery_members(*j, out.ttl_seconds, out.correlator); !r) return Err(r.error());
  return out;
}

Parsed<OperatorChangeBatchRequest> parse_operator_change_batch(std::string_view body, std::size_t max_object_bytes,
                                                               std::size_t max_changes) {
  M2MDM_GET(j, parse_object(body));
  if (auto r = only_keys(*j, {"variant", "changes", "ttlSeconds"}); !r) return Err(r.error());
  OperatorChangeBatchRequest out;
  M2MDM_GET(variant, variant_member(*j));
  out.variant = std::move(*variant);
  std::string no_correlator;
  if (auto r = job_delivery_members(*j, out.ttl_seconds, no_correlator); !r) return Err(r.error());
  auto it = j->find("changes");
  if (it == j->end() || !it->is_array() || it->empty() || it->size() > max_changes)
    return Err("\"changes\" must be an array of 1.." + std::to_string(max_changes) + " devices");
  std::set<std::string, std::less<>> seen;
  for (const auto& c : *it) {
    const std::string where = "changes[" + std::to_string(out.changes.size()) + "]";
    if (!c.is_object()) return Err(where + " must be an object");
    if (auto r = only_keys(c, {"devId", "authorisation", "object", "correlator"}, where); !r) return Err(r.error());
    OperatorChangeBatchEntry e;
    M2MDM_GET(dev, str(c, "devId", kMaxIdLength, true));
    e.dev_id = **dev;
    if (!seen.insert(e.dev_id).second) return Err(where + ": device " + e.dev_id + " is listed twice");
    if (auto r = change_members(c, e.authorisation, e.object, max_object_bytes); !r) return Err(where + ": " + r.error());
    std::optional<std::int64_t> no_ttl;
    if (auto r = job_delivery_members(c, no_ttl, e.correlator); !r) return Err(where + ": " + r.error());
    out.changes.push_back(std::move(e));
  }
  return out;
}

Parsed<VectorRequest> parse_vector_request(std::string_view body, std::uint32_t max_count) {
  M2MDM_GET(j, parse_object(body));
  if (auto r = only_keys(*j, {"pcid", "count"}); !r) return Err(r.error());
  VectorRequest out;
  M2MDM_GET(pcid, str(*j, "pcid", kMaxIdLength, true));
  out.pcid = **pcid;
  M2MDM_GET(count, integer(*j, "count", 1, max_count, false));
  if (*count) out.count = static_cast<std::uint32_t>(**count);
  return out;
}

Parsed<ResyncRequest> parse_resync_request(std::string_view body) {
  M2MDM_GET(j, parse_object(body));
  if (auto r = only_keys(*j, {"pcid", "rand", "auts"}); !r) return Err(r.error());
  ResyncRequest out;
  M2MDM_GET(pcid, str(*j, "pcid", kMaxIdLength, true));
  out.pcid = **pcid;
  if (!j->contains("rand") || !j->contains("auts")) return Err("\"rand\" and \"auts\" are required");
  M2MDM_GET(rand, hex_member(*j, "rand", 16));
  M2MDM_GET(auts, hex_member(*j, "auts", 14));
  out.rand = std::move(*rand);
  out.auts = std::move(*auts);
  return out;
}

Parsed<PvaRequest> parse_pva_request(std::string_view body) {
  M2MDM_GET(j, parse_object(body));
  if (auto r = only_keys(*j, {"pfc", "chain", "devId"}); !r) return Err(r.error());
  PvaRequest out;
  auto pit = j->find("pfc");
  if (pit == j->end()) return Err("missing \"pfc\"");
  if (!pit->is_string()) return Err("\"pfc\" must be a string");
  const std::string& p = pit->get_ref<const std::string&>();
  if (p.empty() || p.size() > 64 * 1024) return Err("\"pfc\" must be 1..65536 characters");  // PEM: newlines allowed
  if (p.find("-----BEGIN") != std::string::npos) {
    out.pfc.assign(p.begin(), p.end());
  } else {
    auto der = base64_decode(p);
    if (!der || der->empty()) return Err("\"pfc\" must be PEM or base64 DER");
    out.pfc = std::move(*der);
  }
  auto it = j->find("chain");
  if (it != j->end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().size() > 256 * 1024)
      return Err("\"chain\" must be a PEM string");
    const auto& c = it->get_ref<const std::string&>();
    out.intermediates.assign(c.begin(), c.end());
  }
  M2MDM_GET(dev, str(*j, "devId", kMaxIdLength, false));
  if (*dev) out.dev_id = **dev;
  return out;
}

bool pcid_is_imsi(std::string_view pcid) noexcept {
  return pcid.size() >= 6 && pcid.size() <= 15 &&
         std::all_of(pcid.begin(), pcid.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

bool sec_method_needs_imsi(std::string_view sec_method) noexcept {
  return sec_method == "NETWPIN" || sec_method == "USERNETWPIN";
}

Parsed<DevicePatch> parse_device_patch(std::string_view body) {
  M2MDM_GET(j, parse_object(body));
  if (auto r = only_keys(*j, {"pushAddress", "secMethod"}); !r) return Err(r.error());
  DevicePatch p;
  M2MDM_GET(push, str(*j, "pushAddress", kMaxPushAddressLength, false, true));
  if (*push) {
    if (!(*push)->empty() && !parse_push_address(**push)) return Err("\"pushAddress\" must be udp:HOST:PORT or \"\"");
    p.push_address = **push;
  }
  M2MDM_GET(sec, sec_member(*j));
  if (!sec->empty()) p.sec_method = *sec;
  if (!p.push_address && !p.sec_method) return Err("nothing to change: give pushAddress and/or secMethod");
  return p;
}

Parsed<BootstrapRequestBody> parse_bootstrap_request(std::string_view body) {
  BootstrapRequestBody out;
  std::string_view trimmed = body;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.remove_prefix(1);
  if (trimmed.empty()) return out;  // defaults: push, no re-bootstrap
  M2MDM_GET(j, parse_object(body));
  if (auto r = only_keys(*j, {"delivery", "rebootstrap", "rebootstrapToken"}); !r) return Err(r.error());
  M2MDM_GET(delivery, str(*j, "delivery", 8, false));
  if (*delivery) {
    if (**delivery == "push" || **delivery == "udp") out.sms = false;
    else if (**delivery == "sms") out.sms = true;
    else return Err("\"delivery\" must be \"push\" or \"sms\"");
  }
  if (auto it = j->find("rebootstrap"); it != j->end()) {
    if (!it->is_boolean()) return Err("\"rebootstrap\" must be a boolean");
    out.rebootstrap = it->get<bool>();
  }
  M2MDM_GET(token, str(*j, "rebootstrapToken", kMaxSecretLength, false));
  if (*token) {
    if ((*token)->size() < 16) return Err("\"rebootstrapToken\" must have at least 16 characters");
    if (!out.rebootstrap) return Err("\"rebootstrapToken\" needs \"rebootstrap\": true");
    out.rebootstrap_token = **token;
  }
  return out;
}

Parsed<std::string> parse_subscriber_create(std::string_view body) {
  M2MDM_GET(name, sole_string_member(body, "name", kMaxIdLength));
  // The name is the CN of the subscriber's signing certificate: the "subscriber" of its tokens.
  if (!valid_id(*name) || name->find(':') != std::string::npos)
    return Err("\"name\" may hold only letters, digits and - _ . (it is the CN of the subscriber's signing certificate)");
  return name;
}

Parsed<std::vector<std::string>> parse_device_id_list(std::string_view body, std::size_t max_devices) {
  M2MDM_GET(j, parse_object(body));
  if (auto r = only_keys(*j, {"devIds"}); !r) return Err(r.error());
  auto it = j->find("devIds");
  if (it == j->end() || !it->is_array() || it->empty() || it->size() > max_devices)
    return Err("\"devIds\" must be an array of 1.." + std::to_string(max_devices) + " DevIds");
  std::vector<std::string> out;
  std::set<std::string, std::less<>> seen;
  for (const auto& d : *it) {
    const std::string where = "devIds[" + std::to_string(out.size()) + "]";
    if (!d.is_string()) return Err(where + " must be a string");
    const auto& id = d.get_ref<const std::string&>();
    if (id.size() > kMaxIdLength || !valid_id(id)) return Err(where + " is not a DevId");
    if (!seen.insert(id).second) return Err(where + ": device " + id + " is listed twice");
    out.push_back(id);
  }
  return out;
}

namespace {

// A DM URI (DM_TND 1.2 §6, DM_RepPro 1.2 §6.1.13 "URI syntax"): "." or "./" followed by
// segments of printable non-space ASCII, none empty, "." or ".."; no query ("?list=" is not
// offered here), no fragment. Relative URIs are refused so that the target is never ambiguous.
bool valid_dm_uri(std::string_view u) {
  if (u == ".") return true;
  if (!u.starts_with("./") || u.size() == 2) return false;
  std::string_view rest = u.substr(2);
  while (true) {
    const auto slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    if (seg.empty() || seg == "." || seg == "..") return false;
    for (unsigned char c : seg)
      if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#') return false;
    if (slash == std::string_view::npos) return true;
    rest = rest.substr(slash + 1);
  }
}

// Meta Format values of DM_TND 1.2 §7.6 (Format).
bool valid_dm_format(std::string_view f) {
  static constexpr std::array<std::string_view, 11> kFormats{"b64",  "bin", "bool", "chr",  "int",  "node",
                                                             "null", "xml", "date", "time", "float"};
  return std::find(kFormats.begin(), kFormats.end(), f) != kFormats.end();
}

Parsed<MgmtOp> parse_mgmt_op(const json& j, const std::string& where, MgmtWrap wrap) {
  if (!j.is_object()) return Err(where + " must be an object");
  if (auto r = only_keys(j, {"verb", "target", "source", "data", "format", "type"}, where); !r) return Err(r.error());
  MgmtOp op;
  M2MDM_GET(verb, str(j, "verb", 16, true));
  auto v = mgmt_verb_from_string(**verb);
  if (!v) return Err(where + ": \"verb\" must be one of Get, Replace, Add, Delete, Exec, Copy");
  op.verb = *v;
  // Atomic may not hold a Get (DM_RepPro 1.2 §6.6.3).
  if (wrap == MgmtWrap::atomic && op.verb == MgmtVerb::get) return Err(where + ": a Get may not be inside Atomic");
  M2MDM_GET(target, str(j, "target", kMaxMgmtUriLength, true));
  if (!valid_dm_uri(**target)) return Err(where + ": \"target\" is not an absolute DM URI (\"./...\")");
  op.target = **target;
  M2MDM_GET(source, str(j, "source", kMaxMgmtUriLength, false));
  if (op.verb == MgmtVerb::copy) {
    if (!*source) return Err(where + ": a Copy needs \"source\"");
    if (!valid_dm_uri(**source)) return Err(where + ": \"source\" is not an absolute DM URI (\"./...\")");
    op.source = **source;
  } else if (*source) {
    return Err(where + ": only a Copy has \"source\"");
  }
  M2MDM_GET(data, str(j, "data", kMaxMgmtDataLength, false, /*allow_empty=*/true));
  if (*data && (op.verb == MgmtVerb::get || op.verb == MgmtVerb::del || op.verb == MgmtVerb::copy))
    return Err(where + ": a " + std::string(to_string(op.verb)) + " carries no \"data\"");
  op.data = *data;
  M2MDM_GET(format, str(j, "format", 8, false));
  if (*format) {
    if (!valid_dm_format(**format))
      return Err(where + ": \"format\" must be one of b64, bin, bool, chr, int, node, null, xml, date, time, float");
    op.format = **format;
    if (op.format == "b64" && op.data && !base64_decode(*op.data)) return Err(where + ": \"data\" is not base64");
  }
  M2MDM_GET(type, str(j, "type", 128, false));
  if (*type) op.type = **type;
  return op;
}

}  // namespace

Parsed<CommandSubmission> parse_command_submission(std::string_view body) {
  M2MDM_GET(j, parse_object(body));
  if (auto r = only_keys(*j, {"commands", "wrap", "ttlSeconds"}); !r) return Err(r.error());
  CommandSubmission out;
  M2MDM_GET(wrap, str(*j, "wrap", 16, false));
  if (*wrap) {
    auto w = mgmt_wrap_from_string(**wrap);
    if (!w || *w == MgmtWrap::none) return Err("\"wrap\" must be Atomic or Sequence");
    out.wrap = *w;
  }
  auto it = j->find("commands");
  if (it == j->end() || !it->is_array() || it->empty() || it->size() > kMaxMgmtOps)
    return Err("\"commands\" must be an array of 1.." + std::to_string(kMaxMgmtOps) + " commands");
  for (const auto& c : *it) {
    auto op = parse_mgmt_op(c, "commands[" + std::to_string(out.ops.size()) + "]", out.wrap);
    if (!op) return Err(op.error());
    out.ops.push_back(std::move(*op));
  }
  M2MDM_GET(ttl, integer(*j, "ttlSeconds", 1, 30 * 24 * 3600, false));
  out.ttl_seconds = *ttl;
  return out;
}

}  // namespace m2mdm::server
