/// @file config.hpp
/// @brief `m2mdm server` configuration: a TOML file (toml++) whose every setting is also a
///        command-line flag; flags override the file.
#pragma once

#include "m2mdm/server/api.hpp"
#include "m2mdm/server/drf.hpp"
#include "m2mdm/server/http_server.hpp"
#include "m2mdm/syncml/result.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace m2mdm::server {

/// Everything the server command needs. Defaults: 127.0.0.1:8080 (plain) or :8443 (TLS),
/// state dir ./m2mdm-state, store = <state-dir>/m2mdm.sqlite, key = <state-dir>/store.key.
struct ServerConfig {
  std::string listen_address = "127.0.0.1";
  std::optional<std::uint16_t> listen_port;  ///< unset = 8080 plain / 8443 TLS
  std::filesystem::path state_dir = "m2mdm-state";
  std::optional<std::filesystem::path> tls_cert;
  std::optional<std::filesystem::path> tls_key;
  unsigned threads = 0;
  unsigned handler_threads = 0;  ///< 0 = 8 per I/O thread (HttpServerOptions::handler_threads)
  std::size_t body_limit = 1024 * 1024;
  std::size_t max_connections = 1024;
  unsigned header_timeout_ms = 10'000;
  unsigned read_timeout_ms = 30'000;
  unsigned idle_timeout_ms = 60'000;
  std::optional<std::filesystem::path> admin_token_file;
  std::vector<std::filesystem::path> vno_token_files;
  std::vector<std::filesystem::path> manufacturer_cas;
  std::vector<std::filesystem::path> manufacturer_crls;
  /// [operator_change] sho_trust_anchors: PEM files of the CAs of the SHOs' signing certificates
  /// (what the devices trust); operator-change tokens are verified against them. Empty = operator
  /// change not configured (its endpoint answers 503).
  std::vector<std::filesystem::path> sho_trust_anchors;
  /// [operator_change] subscriber_trust_anchors: PEM files of the CAs of the subscribers' (device
  /// owners') signing certificates. A device assigned to a subscriber changes SHO only on a token
  /// its subscriber signed, verified against them. Empty = such devices cannot change SHO (503).
  std::vector<std::filesystem::path> subscriber_trust_anchors;
  std::string dpf_address;  ///< public DPF URL written into bootstraps; empty = the listen URL + /dm
  std::string log_level = "info";
  std::int64_t job_ttl_seconds = 7 * 24 * 3600;
  // [drf] what bootstraps carry (the pins are read from the PEM files at start)
  DrfSettings drf;
  std::optional<std::filesystem::path> drf_spki_pem;      ///< DPF key pin source; unset = tls_cert
  std::optional<std::filesystem::path> drf_app_spki_pem;  ///< application context pin; unset = DPF pin
  // [dm] what the DPF announces in its SyncHdr Meta and enforces (DM_RepPro 1.2 §7.1)
  std::uint64_t dm_max_msg_size = 64 * 1024;        ///< MaxMsgSize: the largest message we take
  std::uint64_t dm_max_obj_size = 4 * 1024 * 1024;  ///< MaxObjSize: the largest object we assemble (413 above)
  // [notify] package 0 trigger
  int notify_max_attempts = 5;
  std::int64_t notify_retry_seconds = 30;
  std::int64_t notify_stall_seconds = 300;  ///< a claimed job whose session stalled this long is notified again
  // [claims] SHO claims of registry devices (POST /api/v1/devices:claim)
  int claim_max_failures = 10;               ///< failed claims per SHO per window; then 429
  std::int64_t claim_window_seconds = 3600;  ///< the window starts at the SHO's first failure
  // [callbacks] SHO callback delivery
  std::vector<std::filesystem::path> callback_ca_files;  ///< CAs for https callback URLs; empty = system
  std::int64_t callback_retry_seconds = 1;
  std::int64_t callback_max_retry_seconds = 300;
  unsigned callback_timeout_ms = 5000;
  bool callback_allow_loopback = true;  ///< callback URLs may reach 127.0.0.0/8, ::1
  bool callback_allow_private = true;   ///< ... and RFC 1918 / 100.64/10 / fc00::/7 (link-local: never)

  std::uint16_t port() const noexcept { return listen_port ? *listen_port : (tls_cert ? 8443 : 8080); }
  std::filesystem::path db_path() const { return state_dir / "m2mdm.sqlite"; }
  std::filesystem::path key_path() const { return state_dir / "store.key"; }
};

/// Reads a TOML config file into @p config (only keys present change it). Fails with
/// errc::config_error and a message naming the file/key through @p why.
/// Keys: listen = "ADDR:PORT", state_dir, threads, handler_threads, body_limit, max_connections,
/// header_timeout_ms, read_timeout_ms, idle_timeout_ms, log_level, dpf_address, job_ttl_seconds,
/// [tls] cert, key; [auth] admin_token_file, vno_token_files = [...];
/// [pva] manufacturer_ca = [...], manufacturer_crl = [...];
/// [drf] provurl, name, server_id, server_name, apn, spki_pem, app_server_id, app_name, app_address,
/// app_apn, app_spki_pem, auth_type; [dm] max_msg_size, max_obj_size; [notify] max_attempts, retry_seconds,
/// stall_seconds; [claims] max_failures, window_seconds;
/// [callbacks] ca_file = [...], retry_seconds, max_retry_seconds, timeout_ms, allow_loopback,
/// allow_private.
Result<void> load_config_file(const std::filesystem::path& file, ServerConfig& config, std::string& why);

/// Parses "ADDR:PORT" / "[v6]:PORT" into the config (port 0 = ephemeral).
Result<void> parse_listen(std::string_view text, ServerConfig& config);

/// Checks cross-field rules (cert and key both or neither, body limit > 0...).
Result<void> validate_config(const ServerConfig& config, std::string& why);

/// Reads a token file (first line, trailing whitespace stripped; must be >= 16 characters).
Result<std::string> read_token_file(const std::filesystem::path& file);

}  // namespace m2mdm::server
