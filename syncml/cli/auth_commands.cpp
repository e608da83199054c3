// m2mdm syncml digest|pkg0: credentials (DM_Security 1.2) and package 0 (DM_Notification 1.2).
#include "cli_support.hpp"

#include "m2mdm/syncml/auth.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/notification.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>
#include <string>

namespace m2mdm::cli {
namespace {

namespace sm = m2mdm::syncml;

/// Exit code of `pkg0 decode` when the package decodes but its digest does not verify
/// (1 is kept for unreadable / malformed input).
constexpr int kExitDigestFailed = 2;

Bytes b64_or_fail(const std::string& what, const std::string& text) {
  auto r = base64_decode(text);
  if (!r) fail(what + " is not valid base64: " + r.error().message());
  return std::move(*r);
}

// ----- digest -----

struct DigestArgs {
  std::string user, password, nonce, nonce_b64;
  CLI::Option* raw = nullptr;  ///< --nonce
  CLI::Option* b64 = nullptr;  ///< --nonce-b64
};

void run_digest(const DigestArgs& a) {
  if (a.raw->count() == 0 && a.b64->count() == 0) fail("one of --nonce or --nonce-b64 is required");
  Bytes nonce;
  if (a.raw->count()) {
    const ByteView chars = as_bytes(a.nonce);
    nonce.assign(chars.begin(), chars.end());
  } else {
    nonce = b64_or_fail("--nonce-b64", a.nonce_b64);
  }
  auto cred = sm::md5_digest_credential(a.user, a.password, nonce);
  if (!cred) fail("cannot compute digest: " + cred.error().message());
  std::cout << *cred << '\n';
}

void add_digest(CLI::App& syncml) {
  auto [cmd, a] = add_command<DigestArgs>(
      syncml, "digest",
      "Print the syncml:auth-md5 credential B64(MD5(B64(MD5(user:password)):nonce)) (DM_Security 1.2 "
      "§5.1.3.2), i.e. the Cred Data of a SyncHdr.\n"
      "--nonce takes the nonce's raw characters as they are (the spec example uses the 5 characters "
      "\"Nonce\"); --nonce-b64 takes the base64 text of a NextNonce as received in a Chal and decodes it "
      "first.\nExample: m2mdm syncml digest --user Bruce2 --password OhBehave --nonce Nonce  ->  "
      "Zz6EivR3yeaaENcRN6lpAQ==",
      run_digest);
  cmd->add_option("--user", a->user, "user name (LocName of the sender / AAuthName)")->required();
  cmd->add_option("--password", a->password, "password (AAuthSecret)")->required();
  a->raw = cmd->add_option("--nonce", a->nonce, "nonce as raw characters (not decoded)");
  a->b64 = cmd->add_option("--nonce-b64", a->nonce_b64, "nonce as base64 (a NextNonce value), decoded first");
  a->raw->excludes(a->b64);
}

// ----- pkg0 decode -----

struct Pkg0DecodeArgs {
  std::string file, server_id, password, nonce_b64;
  CLI::Option* sid = nullptr;    ///< --server-id
  CLI::Option* pw = nullptr;     ///< --password
  CLI::Option* nonce = nullptr;  ///< --nonce
};

void run_pkg0_decode(const Pkg0DecodeArgs& a) {
  const Bytes bytes = read_file_or_fail(a.file);
  std::string why;
  auto d = sm::decode_notification(bytes, &why);
  if (!d) fail(a.file + ": not a valid package 0: " + why);
  const auto& f = d->fields;
  std::cout << "version: " << f.version << " (" << f.version / 10 << '.' << f.version % 10 << ")\n"
            << "ui-mode: " << sm::ui_mode_name(f.ui_mode) << '\n'
            << "initiator: " << sm::initiator_name(f.initiator) << '\n'
            << "session-id: " << sm::session_id_hex(f.session_id) << '\n'
            << "server-id: " << f.server_id << '\n'
            << "vendor-data: " << hex_encode(f.vendor_specific) << '\n';
  if (d->reserved != 0) std::cout << "reserved: " << d->reserved << " (future-use bits, should be 0)\n";
  std::cout << "digest: " << hex_encode(d->digest) << '\n' << std::flush;
  if (a.pw->count() == 0) return;
  const std::string server_id = a.sid->count() ? a.server_id : f.server_id;
  std::optional<Bytes> session_nonce;
  if (a.nonce->count()) session_nonce = b64_or_fail("--nonce", a.nonce_b64);
  const auto used = sm::verify_notification_with_reset(
      *d, server_id, a.password, session_nonce ? std::optional<ByteView>(*session_nonce) : std::nullopt);
  if (!used) {
    std::string reason = "digest does not verify for server-id " + server_id;
    if (server_id != f.server_id) reason += " (the package names " + f.server_id + ")";
    reason += session_nonce ? " with the given nonce nor the reset nonce 0x00000000"
                            : " with the reset nonce 0x00000000";
    fail(reason, kExitDigestFailed);
  }
  std::cout << "digest-nonce: " << sm::notification_nonce_name(*used) << '\n' << "digest: ok\n";
}

void add_pkg0_decode(CLI::App& pkg0) {
  auto [cmd, a] = add_command<Pkg0DecodeArgs>(
      pkg0, "decode",
      "Print the fields of a package 0 (one 'name: value' per line; session-id in upper-case hex as the "
      "client writes it in SessionID) and, given --password, check its digest: with --nonce (base64) "
      "first, then with the reset nonce 0x00000000 in the three forms accepted (4 zero bytes, the text "
      "\"0x00000000\", the text \"00000000\"; DM_Notification 1.2 nonce resynchronisation). Prints "
      "'digest: ok' when one holds; otherwise a one-line reason on stderr and exit code 2. Exit code 1: "
      "unreadable or malformed input.",
      run_pkg0_decode);
  cmd->add_option("FILE", a->file, "package 0 file (binary; - for stdin)")->required();
  a->sid = cmd->add_option("--server-id", a->server_id,
                           "server identifier to verify with (default: the one in the package)");
  a->pw = cmd->add_option("--password", a->password, "server password (the client's ServerCred secret)");
  a->nonce = cmd->add_option("--nonce", a->nonce_b64, "the client's stored server nonce, base64");
  a->sid->needs(a->pw);
  a->nonce->needs(a->pw);
}

// ----- pkg0 encode -----

struct Pkg0EncodeArgs {
  std::string server_id, password, nonce_b64, session_id, ui_mode = "not-specified", initiator = "server",
      vendor_hex, out;
  CLI::Option* nonce = nullptr;  ///< --nonce
};

void run_pkg0_encode(const Pkg0EncodeArgs& a) {
  sm::Notification n;
  n.server_id = a.server_id;
  std::string_view sid = a.session_id;
  if (sid.starts_with("0x") || sid.starts_with("0X")) sid.remove_prefix(2);
  auto id = sm::parse_session_id_hex(sid);
  if (!id) fail("--session-id must be 1 to 4 hex digits with a value in 1..FFFF, got '" + a.session_id + "'");
  n.session_id = *id;
  auto ui = sm::parse_ui_mode(a.ui_mode);
  if (!ui) fail("--ui-mode must be not-specified, background, informative or user-interaction, got '" +
                a.ui_mode + "'");
  n.ui_mode = *ui;
  auto init = sm::parse_initiator(a.initiator);
  if (!init) fail("--initiator must be server or client, got '" + a.initiator + "'");
  n.initiator = *init;
  if (!a.vendor_hex.empty()) {
    auto v = hex_decode(a.vendor_hex);
    if (!v) fail("--vendor-hex is not valid hex");
    n.vendor_specific = std::move(*v);
  }
  if (n.server_id.empty() || n.server_id.size() > 255) fail("--server-id must be 1 to 255 characters");
  for (const char c : n.server_id) {
    const auto u = static_cast<unsigned char>(c);
    if (u == 0 || u > 0x7f) fail("--server-id must be ASCII");
  }
  const Bytes nonce_bytes = a.nonce->count() ? b64_or_fail("--nonce", a.nonce_b64)
                                             : Bytes(sm::kNotificationResetNonce.begin(),
                                                     sm::kNotificationResetNonce.end());
  auto pkg = sm::encode_notification(n, a.password, nonce_bytes);
  if (!pkg) fail("cannot encode package 0: " + pkg.error().message());
  write_file_or_fail(a.out, *pkg);
}

void add_pkg0_encode(CLI::App& pkg0) {
  auto [cmd, a] = add_command<Pkg0EncodeArgs>(
      pkg0, "encode",
      "Build a package 0 (DM_Notification 1.2 §6.2, version 1.1 field as the spec requires) signed with "
      "--password and --nonce (base64; default: the reset nonce 0x00000000 as 4 zero bytes).",
      run_pkg0_encode);
  cmd->add_option("--server-id", a->server_id, "server identifier (1-255 ASCII characters)")->required();
  cmd->add_option("--password", a->password, "server password")->required();
  a->nonce = cmd->add_option("--nonce", a->nonce_b64, "nonce, base64 (default: 4 zero bytes)");
  cmd->add_option("--session-id", a->session_id, "session id, hex 1..FFFF (0x prefix allowed)")->required();
  cmd->add_option("--ui-mode", a->ui_mode, "not-specified|background|informative|user-interaction (or 0-3)")
      ->capture_default_str();
  cmd->add_option("--initiator", a->initiator, "server|client")->capture_default_str();
  cmd->add_option("--vendor-hex", a->vendor_hex, "vendor-specific trailing bytes, hex");
  cmd->add_option("--out", a->out, "output file (- for stdout)")->required();
}

}  // namespace

void add_syncml_auth_commands(CLI::App& syncml) {
  add_digest(syncml);
  auto* pkg0 = add_command_group(syncml, "pkg0", "Package 0: the server's notification that starts a DM session");
  add_pkg0_decode(*pkg0);
  add_pkg0_encode(*pkg0);
}

}  // namespace m2mdm::cli
