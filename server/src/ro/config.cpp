// ServerConfig from TOML (toml++).
#include "m2mdm/server/config.hpp"
#include "m2mdm/server/error.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <span>

namespace m2mdm::server {
namespace {
std::error_code cfg_err() { return make_error_code(errc::config_error); }

template <class T>
bool get_int(const toml::table& t, std::string_view key, T& out, std::string& why, std::int64_t lo, std::int64_t hi) {
  auto node = t[key];
  if (!node) return true;
  auto v = node.value<std::int64_t>();
  if (!v || *v < lo || *v > hi) {
    why = "\"" + std::string(key) + "\" must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
    return false;
  }
  out = static_cast<T>(*v);
  return true;
}

bool get_bool(const toml::table& t, std::string_view key, bool& out, std::string& why) {
  auto node = t[key];
  if (!node) return true;
  auto v = node.value<bool>();
  if (!v || !node.is_boolean()) {
    why = "\"" + std::string(key) + "\" must be true or false";
    return false;
  }
  out = *v;
  return true;
}

bool get_str(const toml::table& t, std::string_view key, std::string& out, std::string& why) {
  auto node = t[key];
  if (!node) return true;
  auto v = node.value<std::string>();
  if (!v) {
    why = "\"" + std::string(key) + "\" must be a string";
    return false;
  }
  out = *v;
  return true;
}

// An optional path: set only when @p key is there (a string).
bool get_path(const toml::table& t, std::string_view key, std::optional<std::filesystem::path>& out, std::string& why) {
  std::string s;
  if (!t.contains(key)) return true;
  if (!get_str(t, key, s, why)) return false;
  out = s;
  return true;
}

bool get_paths(const toml::table& t, std::string_view key, std::vector<std::filesystem::path>& out, std::string& why) {
  auto node = t[key];
  if (!node) return true;
  if (auto s = node.value<std::string>()) {
    out = {*s};
    return true;
  }
  auto* arr = node.as_array();
  if (!arr) {
    why = "\"" + std::string(key) + "\" must be a string or an array of strings";
    return false;
  }
  out.clear();
  for (const auto& e : *arr) {
    auto s = e.value<std::string>();
    if (!s) {
      why = "\"" + std::string(key) + "\" must hold strings";
      return false;
    }
    out.emplace_back(*s);
  }
  return true;
}
}  // namespace

Result<void> parse_listen(std::string_view text, ServerConfig& config) {
  std::string_view host, port;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return fail(cfg_err());
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail(cfg_err());
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (host.empty() || ec != std::errc{} || ptr != port.data() + port.size() || p > 65535) return fail(cfg_err());
  config.listen_address = std::string(host);
  config.listen_port = static_cast<std::uint16_t>(p);
  return {};
}

namespace {

// False (with @p why) when @p t has a key not in @p known; @p table names it in the message.
bool only_known_keys(const toml::table& t, std::span<const std::string_view> known, std::string_view table,
                     std::string& why) {
  for (const auto& [k, v] : t) {
    if (std::find(known.begin(), known.end(), k.str()) != known.end()) continue;
    why = "unknown key \"" + std::string(k.str()) + "\"" + (table.empty() ? "" : " in [" + std::string(table) + "]");
    return false;
  }
  return true;
}

}  // namespace

Result<void> load_config_file(const std::filesystem::path& file, ServerConfig& c, std::string& why) {
  toml::table t;
  try {
    t = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    why = file.string() + ": " + std::string(e.description());
    return fail(cfg_err());
  }
  static constexpr std::string_view known[] = {"listen", "state_dir", "threads", "handler_threads", "body_limit", "max_connections",
                                               "header_timeout_ms", "read_timeout_ms", "idle_timeout_ms",
                                               "log_level", "dpf_address", "job_ttl_seconds", "tls", "auth", "pva",
                                               "drf", "dm", "notify", "callbacks", "operator_change",
                                               "claims"};
  if (!only_known_keys(t, known, "", why)) {
    why = file.string() + ": " + why;
    return fail(cfg_err());
  }
  // Each [table]: a table, with only the keys this version reads (a misspelt key would otherwise
  // leave its setting at the default without a word).
  const toml::table* sub = nullptr;
  auto table = [&](std::string_view name, std::span<const std::string_view> keys) {
    sub = nullptr;
    if (!t.contains(name)) return true;
    sub = t[name].as_table();
    if (sub == nullptr) {
      why = "\"" + std::string(name) + "\" must be a table ([" + std::string(name) + "])";
      return false;
    }
    return only_known_keys(*sub, keys, name, why);
  };
  std::string s;
  auto bad = [&] {
    why = file.string() + ": " + why;
    return fail(cfg_err());
  };
  if (t["listen"]) {
    if (!get_str(t, "listen", s, why)) return bad();
    if (!parse_listen(s, c)) {
      why = "\"listen\" must be ADDR:PORT";
      return bad();
    }
  }
  if (t["state_dir"]) {
    if (!get_str(t, "state_dir", s, why)) return bad();
    c.state_dir = s;
  }
  if (!get_int(t, "threads", c.threads, why, 0, 256) ||
      !get_int(t, "handler_threads", c.handler_threads, why, 0, 1024) || !get_int(t, "body_limit", c.body_limit, why, 1, 1 << 30) ||
      !get_int(t, "max_connections", c.max_connections, why, 1, 1'000'000) ||
      !get_int(t, "header_timeout_ms", c.header_timeout_ms, why, 1, 3'600'000) ||
      !get_int(t, "read_timeout_ms", c.read_timeout_ms, why, 1, 3'600'000) ||
      !get_int(t, "idle_timeout_ms", c.idle_timeout_ms, why, 1, 3'600'000) ||
      !get_int(t, "job_ttl_seconds", c.job_ttl_seconds, why, 60, 365 * 24 * 3600) ||
      !get_str(t, "log_level", c.log_level, why) || !get_str(t, "dpf_address", c.dpf_address, why))
    return bad();
  static constexpr std::string_view tls_keys[] = {"cert", "key"};
  if (!table("tls", tls_keys)) return bad();
  if (const auto* tls = sub) {
    if (!get_path(*tls, "cert", c.tls_cert, why) || !get_path(*tls, "key", c.tls_key, why)) return bad();
  }
  static constexpr std::string_view auth_keys[] = {"admin_token_file", "vno_token_files"};
  if (!table("auth", auth_keys)) return bad();
  if (const auto* auth = sub) {
    if (!get_path(*auth, "admin_token_file", c.admin_token_file, why) ||
        !get_paths(*auth, "vno_token_files", c.vno_token_files, why))
      return bad();
  }
  static constexpr std::string_view pva_keys[] = {"manufacturer_ca", "manufacturer_crl"};
  if (!table("pva", pva_keys)) return bad();
  if (const auto* pva = sub) {
    if (!get_paths(*pva, "manufacturer_ca", c.manufacturer_cas, why) ||
        !get_paths(*pva, "manufacturer_crl", c.manufacturer_crls, why))
      return bad();
  }
  static constexpr std::string_view oc_keys[] = {"sho_trust_anchors", "subscriber_trust_anchors"};
  if (!table("operator_change", oc_keys)) return bad();
  if (const auto* oc = sub) {
    if (!get_paths(*oc, "sho_trust_anchors", c.sho_trust_anchors, why) ||
        !get_paths(*oc, "subscriber_trust_anchors", c.subscriber_trust_anchors, why))
      return bad();
  }
  static constexpr std::string_view drf_keys[] = {"provurl", "name", "server_id", "server_name", "apn", "app_server_id", "app_name", "app_address", "app_apn", "auth_type", "spki_pem", "app_spki_pem"};
  if (!table("drf", drf_keys)) return bad();
  if (const auto* drf = sub) {
    auto& d = c.drf;
    if (!get_str(*drf, "provurl", d.provurl, why) || !get_str(*drf, "name", d.name, why) ||
        !get_str(*drf, "server_id", d.dpf_server_id, why) || !get_str(*drf, "server_name", d.dpf_name, why) ||
        !get_str(*drf, "apn", d.dpf_apn, why) || !get_str(*drf, "app_server_id", d.app_server_id, why) ||
        !get_str(*drf, "app_name", d.app_name, why) || !get_str(*drf, "app_address", d.app_address, why) ||
        !get_str(*drf, "app_apn", d.app_apn, why) || !get_str(*drf, "auth_type", d.auth_type, why))
      return bad();
    if (!get_path(*drf, "spki_pem", c.drf_spki_pem, why) || !get_path(*drf, "app_spki_pem", c.drf_app_spki_pem, why))
      return bad();
  }
  static constexpr std::string_view dm_keys[] = {"max_msg_size", "max_obj_size"};
  if (!table("dm", dm_keys)) return bad();
  if (const auto* dm = sub) {
    if (!get_int(*dm, "max_msg_size", c.dm_max_msg_size, why, 1024, 64 * 1024 * 1024) ||
        !get_int(*dm, "max_obj_size", c.dm_max_obj_size, why, 256, 1024 * 1024 * 1024))
      return bad();
  }
  static constexpr std::string_view n_keys[] = {"max_attempts", "retry_seconds", "stall_seconds"};
  if (!table("notify", n_keys)) return bad();
  if (const auto* n = sub) {
    if (!get_int(*n, "max_attempts", c.notify_max_attempts, why, 0, 100) ||
        !get_int(*n, "retry_seconds", c.notify_retry_seconds, why, 1, 86400) ||
        !get_int(*n, "stall_seconds", c.notify_stall_seconds, why, 1, 86400))
      return bad();
  }
  static constexpr std::string_view cl_keys[] = {"max_failures", "window_seconds"};
  if (!table("claims", cl_keys)) return bad();
  if (const auto* cl = sub) {
    if (!get_int(*cl, "max_failures", c.claim_max_failures, why, 1, 1'000'000) ||
        !get_int(*cl, "window_seconds", c.claim_window_seconds, why, 1, 30 * 86400))
      return bad();
  }
  static constexpr std::string_view cb_keys[] = {"ca_file", "retry_seconds", "max_retry_seconds", "timeout_ms", "allow_loopback", "allow_private"};
  if (!table("callbacks", cb_keys)) return bad();
  if (const auto* cb = sub) {
    if (!get_paths(*cb, "ca_file", c.callback_ca_files, why) ||
        !get_int(*cb, "retry_seconds", c.callback_retry_seconds, why, 1, 86400) ||
        !get_int(*cb, "max_retry_seconds", c.callback_max_retry_seconds, why, 1, 7 * 86400) ||
        !get_int(*cb, "timeout_ms", c.callback_timeout_ms, why, 100, 600'000) ||
        !get_bool(*cb, "allow_loopback", c.callback_allow_loopback, why) ||
        !get_bool(*cb, "allow_private", c.callback_allow_private, why))
      return bad();
  }
  return {};
}

Result<void> validate_config(const ServerConfig& c, std::string& why) {
  if (c.tls_cert.has_value() != c.tls_key.has_value()) {
    why = "--tls-cert and --tls-key go together";
    return fail(cfg_err());
  }
  if (c.body_limit == 0) {
    why = "the body limit must be positive";
    return fail(cfg_err());
  }
  if (c.drf.auth_type != "DIGEST" && c.drf.auth_type != "HMAC") {
    why = "drf.auth_type must be DIGEST or HMAC";
    return fail(cfg_err());
  }
  if (c.drf.dpf_server_id.empty() || c.drf.app_server_id.empty() || c.drf.dpf_server_id == c.drf.app_server_id) {
    why = "drf.server_id and drf.app_server_id must be non-empty and different";
    return fail(cfg_err());
  }
  if (c.dm_max_msg_size > c.body_limit) {
    // The DPF must take every message it says it takes (DM_RepPro 1.2 §7.1).
    why = "dm.max_msg_size (" + std::to_string(c.dm_max_msg_size) + ") must not exceed body_limit (" +
          std::to_string(c.body_limit) + ")";
    return fail(cfg_err());
  }
  if (c.callback_max_retry_seconds < c.callback_retry_seconds) {
    why = "callbacks.max_retry_seconds must be >= callbacks.retry_seconds";
    return fail(cfg_err());
  }
  static constexpr std::string_view levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  bool ok = false;
  for (auto l : levels) ok = ok || l == c.log_level;
  if (!ok) {
    why = "log level must be one of trace, debug, info, warn, error, critical, off";
    return fail(cfg_err());
  }
  return {};
}

Result<std::string> read_token_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return fail(make_error_code(errc::io_error));
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
  if (line.size() < 16) return fail(cfg_err());
  return line;
}

}  // namespace m2mdm::server
