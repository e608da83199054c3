// ServerConfig from TOML (toml++).
#include "m2mdm/server/config.hpp"
#include "m2mdm/server/error.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
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

// One key of the configuration file: the [table] it lives in ("" = top level), its name, and how
// its value is read into the ServerConfig (false with `why` when the value is not acceptable).
struct Setting {
  std::string_view table;
  std::string_view key;
  std::function<bool(const toml::table&, std::string_view, ServerConfig&, std::string&)> read;
};

template <class T>
auto integer(T ServerConfig::*member, std::int64_t lo, std::int64_t hi) {
  return [=](const toml::table& t, std::string_view key, ServerConfig& c, std::string& why) {
    return get_int(t, key, c.*member, why, lo, hi);
  };
}
auto boolean(bool ServerConfig::*member) {
  return [=](const toml::table& t, std::string_view key, ServerConfig& c, std::string& why) {
    return get_bool(t, key, c.*member, why);
  };
}
auto string(std::string ServerConfig::*member) {
  return [=](const toml::table& t, std::string_view key, ServerConfig& c, std::string& why) {
    return get_str(t, key, c.*member, why);
  };
}
auto drf_string(std::string DrfSettings::*member) {
  return [=](const toml::table& t, std::string_view key, ServerConfig& c, std::string& why) {
    return get_str(t, key, c.drf.*member, why);
  };
}
auto drf_string(DrfServerSettings DrfSettings::*server, std::string DrfServerSettings::*member) {
  return [=](const toml::table& t, std::string_view key, ServerConfig& c, std::string& why) {
    return get_str(t, key, c.drf.*server.*member, why);
  };
}
auto optional_path(std::optional<std::filesystem::path> ServerConfig::*member) {
  return [=](const toml::table& t, std::string_view key, ServerConfig& c, std::string& why) {
    return get_path(t, key, c.*member, why);
  };
}
auto paths(std::vector<std::filesystem::path> ServerConfig::*member) {
  return [=](const toml::table& t, std::string_view key, ServerConfig& c, std::string& why) {
    return get_paths(t, key, c.*member, why);
  };
}

bool read_listen(const toml::table& t, std::string_view key, ServerConfig& c, std::string& why) {
  std::string s;
  if (!t.contains(key)) return true;
  if (!get_str(t, key, s, why)) return false;
  if (!parse_listen(s, c)) {
    why = "\"listen\" must be ADDR:PORT";
    return false;
  }
  return true;
}

bool read_state_dir(const toml::table& t, std::string_view key, ServerConfig& c, std::string& why) {
  std::optional<std::filesystem::path> dir;
  if (!get_path(t, key, dir, why)) return false;
  if (dir) c.state_dir = *dir;
  return true;
}

// Every key this version reads, in the order they are read (the first bad one is reported);
// the keys of a [table] stand together. A key not listed here is refused: a misspelt key would
// otherwise leave its setting at the default without a word.
const std::vector<Setting>& settings() {
  using C = ServerConfig;
  using D = DrfSettings;
  using S = DrfServerSettings;
  static const std::vector<Setting> all = {
      {"", "listen", read_listen},
      {"", "state_dir", read_state_dir},
      {"", "threads", integer(&C::threads, 0, 256)},
      {"", "handler_threads", integer(&C::handler_threads, 0, 1024)},
      {"", "body_limit", integer(&C::body_limit, 1, 1 << 30)},
      {"", "max_connections", integer(&C::max_connections, 1, 1'000'000)},
      {"", "header_timeout_ms", integer(&C::header_timeout_ms, 1, 3'600'000)},
      {"", "read_timeout_ms", integer(&C::read_timeout_ms, 1, 3'600'000)},
      {"", "idle_timeout_ms", integer(&C::idle_timeout_ms, 1, 3'600'000)},
      {"", "job_ttl_seconds", integer(&C::job_ttl_seconds, 60, 365 * 24 * 3600)},
      {"", "log_level", string(&C::log_level)},
      {"", "dpf_address", string(&C::dpf_address)},
      {"tls", "cert", optional_path(&C::tls_cert)},
      {"tls", "key", optional_path(&C::tls_key)},
      {"auth", "admin_token_file", optional_path(&C::admin_token_file)},
      {"auth", "vno_token_files", paths(&C::vno_token_files)},
      {"pva", "manufacturer_ca", paths(&C::manufacturer_cas)},
      {"pva", "manufacturer_crl", paths(&C::manufacturer_crls)},
      {"operator_change", "sho_trust_anchors", paths(&C::sho_trust_anchors)},
      {"operator_change", "subscriber_trust_anchors", paths(&C::subscriber_trust_anchors)},
      {"drf", "provurl", drf_string(&D::provurl)},
      {"drf", "name", drf_string(&D::name)},
      {"drf", "server_id", drf_string(&D::dpf, &S::server_id)},
      {"drf", "server_name", drf_string(&D::dpf, &S::name)},
      {"drf", "apn", drf_string(&D::dpf, &S::apn)},
      {"drf", "app_server_id", drf_string(&D::app, &S::server_id)},
      {"drf", "app_name", drf_string(&D::app, &S::name)},
      {"drf", "app_address", drf_string(&D::app_address)},
      {"drf", "app_apn", drf_string(&D::app, &S::apn)},
      {"drf", "auth_type", drf_string(&D::auth_type)},
      {"drf", "spki_pem", optional_path(&C::drf_spki_pem)},
      {"drf", "app_spki_pem", optional_path(&C::drf_app_spki_pem)},
      {"dm", "max_msg_size", integer(&C::dm_max_msg_size, 1024, 64 * 1024 * 1024)},
      {"dm", "max_obj_size", integer(&C::dm_max_obj_size, 256, 1024 * 1024 * 1024)},
      {"notify", "max_attempts", integer(&C::notify_max_attempts, 0, 100)},
      {"notify", "retry_seconds", integer(&C::notify_retry_seconds, 1, 86400)},
      {"notify", "stall_seconds", integer(&C::notify_stall_seconds, 1, 86400)},
      {"claims", "max_failures", integer(&C::claim_max_failures, 1, 1'000'000)},
      {"claims", "window_seconds", integer(&C::claim_window_seconds, 1, 30 * 86400)},
      {"callbacks", "ca_file", paths(&C::callback_ca_files)},
      {"callbacks", "retry_seconds", integer(&C::callback_retry_seconds, 1, 86400)},
      {"callbacks", "max_retry_seconds", integer(&C::callback_max_retry_seconds, 1, 7 * 86400)},
      {"callbacks", "timeout_ms", integer(&C::callback_timeout_ms, 100, 600'000)},
      {"callbacks", "allow_loopback", boolean(&C::callback_allow_loopback)},
      {"callbacks", "allow_private", boolean(&C::callback_allow_private)},
  };
  return all;
}

// The keys settings() reads in @p table; at the top level, its keys and the tables' names.
std::vector<std::string_view> known_keys(std::string_view table) {
  std::vector<std::string_view> keys;
  for (const auto& s : settings()) {
    auto name = s.table == table ? s.key : table.empty() ? s.table : std::string_view{};
    if (!name.empty() && std::find(keys.begin(), keys.end(), name) == keys.end()) keys.push_back(name);
  }
  return keys;
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
  auto bad = [&] {
    why = file.string() + ": " + why;
    return fail(cfg_err());
  };
  if (!only_known_keys(t, known_keys(""), "", why)) return bad();
  const toml::table* in = &t;  // the table of the keys being read; nullptr = absent from the file
  std::string_view current;
  for (const auto& s : settings()) {
    if (s.table != current) {
      // Entering a [table]: it must be a table and hold only the keys this version reads.
      current = s.table;
      in = nullptr;
      if (t.contains(current)) {
        in = t[current].as_table();
        if (in == nullptr) {
          why = "\"" + std::string(current) + "\" must be a table ([" + std::string(current) + "])";
          return bad();
        }
        if (!only_known_keys(*in, known_keys(current), current, why)) return bad();
      }
    }
    if (in != nullptr && !s.read(*in, s.key, c, why)) return bad();
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
  if (c.drf.dpf.server_id.empty() || c.drf.app.server_id.empty() || c.drf.dpf.server_id == c.drf.app.server_id) {
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
