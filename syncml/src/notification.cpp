#include "m2mdm/syncml/notification.hpp"

#include "auth_internal.hpp"
#include "m2mdm/syncml/error.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <string>

namespace m2mdm::syncml {
namespace {

constexpr std::size_t kDigestSize = 16;

bool valid_server_id_byte(std::uint8_t b) noexcept { return b >= 0x01 && b <= 0x7f; }  // ABNF CHAR

std::unexpected<std::error_code> fail_with(std::string* detail, errc code, std::string text) {
  if (detail) *detail = std::move(text);
  return fail(code);
}

std::string num(std::size_t v) { return std::to_string(v); }

std::string hex_upper(unsigned v) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[v & 0xf]);
    v >>= 4;
  } while (v != 0);
  return out;
}

constexpr std::string_view kResetHex = "0x00000000";
constexpr std::string_view kResetDigits = "00000000";

}  // namespace

std::string_view ui_mode_name(UiMode mode) noexcept {
  switch (mode) {
    case UiMode::not_specified: return "not-specified";
    case UiMode::background: return "background";
    case UiMode::informative: return "informative";
    case UiMode::user_interaction: return "user-interaction";
  }
  return "invalid";
}

Result<UiMode> parse_ui_mode(std::string_view text) {
  for (int v = 0; v <= 3; ++v) {
    const auto m = static_cast<UiMode>(v);
    if (text == ui_mode_name(m) || (text.size() == 1 && text[0] == '0' + v)) return m;
  }
  return fail(errc::invalid_value);
}

std::string_view initiator_name(Initiator initiator) noexcept {
  switch (initiator) {
    case Initiator::client: return "client";
    case Initiator::server: return "server";
  }
  return "invalid";
}

Result<Initiator> parse_initiator(std::string_view text) {
  if (text == "client" || text == "0") return Initiator::client;
  if (text == "server" || text == "1") return Initiator::server;
  return fail(errc::invalid_value);
}

Result<Bytes> encode_trigger(const Notification& n) {
  const auto ui = static_cast<unsigned>(n.ui_mode);
  const auto init = static_cast<unsigned>(n.initiator);
  if (n.version > 0x3ff || ui > 3 || init > 1 || n.session_id == 0 || n.server_id.empty() ||
      n.server_id.size() > 255) {
    return fail(errc::invalid_value);
  }
  for (const char c : n.server_id) {
    if (!valid_server_id_byte(static_cast<std::uint8_t>(c))) return fail(errc::invalid_value);
  }
  Bytes t;
  t.reserve(8 + n.server_id.size() + n.vendor_specific.size());
  // DM_Notification 1.2 §6.2.1: version(10) ui-mode(2) initiator(1) future-use(27) = 40 bits.
  t.push_back(static_cast<std::uint8_t>(n.version >> 2));
  t.push_back(static_cast<std::uint8_t>(((n.version & 0x3u) << 6) | (ui << 4) | (init << 3)));
  t.push_back(0);
  t.push_back(0);
  t.push_back(0);
  t.push_back(static_cast<std::uint8_t>(n.session_id >> 8));
  t.push_back(static_cast<std::uint8_t>(n.session_id & 0xff));
  t.push_back(static_cast<std::uint8_t>(n.server_id.size()));
  const auto id = as_bytes(n.server_id);
  t.insert(t.end(), id.begin(), id.end());
  t.insert(t.end(), n.vendor_specific.begin(), n.vendor_specific.end());
  return t;
}

Result<Md5Digest> notification_digest(std::string_view server_id, std::string_view password, ByteView nonce,
                                      ByteView trigger) {
  auto key = md5_user_key(server_id, password);
  if (!key) return fail(key.error());
  return auth_detail::mac_digest(*key, nonce, trigger);  // same construction as syncml:auth-MAC
}

Result<Bytes> encode_notification(const Notification& n, std::string_view server_password, ByteView nonce) {
  auto trigger = encode_trigger(n);
  if (!trigger) return fail(trigger.error());
  auto digest = notification_digest(n.server_id, server_password, nonce, *trigger);
  if (!digest) return fail(digest.error());
  Bytes out;
  out.reserve(kDigestSize + trigger->size());
  out.insert(out.end(), digest->begin(), digest->end());
  out.insert(out.end(), trigger->begin(), trigger->end());
  return out;
}

Result<DecodedNotification> decode_notification(ByteView b, std::string* detail) {
  if (b.size() < kDigestSize) {
    return fail_with(detail, errc::truncated,
                     "package 0 is " + num(b.size()) + " bytes: the 16-byte digest (bytes 0-15) is incomplete");
  }
  if (b.size() < kNotificationFixedSize) {
    return fail_with(detail, errc::truncated,
                     "package 0 is " + num(b.size()) + " bytes: the trigger header (bytes 16-23) is incomplete");
  }
  DecodedNotification d;
  std::copy_n(b.begin(), kDigestSize, d.digest.begin());
  const std::uint8_t* h = b.data() + kDigestSize;
  auto& f = d.fields;
  f.version = static_cast<std::uint16_t>((h[0] << 2) | (h[1] >> 6));
  if (f.version != kNotificationVersion) {
    return fail_with(detail, errc::unsupported_version,
                     "version field at byte 16 is " + num(f.version) + " (version " + num(f.version / 10u) + "." +
                         num(f.version % 10u) + "), expected 11 (1.1)");
  }
  f.ui_mode = static_cast<UiMode>((h[1] >> 4) & 0x3);
  f.initiator = static_cast<Initiator>((h[1] >> 3) & 0x1);
  d.reserved = (std::uint32_t{h[1] & 0x7u} << 24) | (std::uint32_t{h[2]} << 16) | (std::uint32_t{h[3]} << 8) | h[4];
  f.session_id = static_cast<std::uint16_t>((h[5] << 8) | h[6]);
  if (f.session_id == 0) {
    return fail_with(detail, errc::invalid_value, "session id at byte 21 is 0, outside 1..FFFF");
  }
  const std::size_t id_len = h[7];
  if (id_len == 0) {
    return fail_with(detail, errc::invalid_value, "server identifier length at byte 23 is 0");
  }
  if (b.size() < kNotificationFixedSize + id_len) {
    return fail_with(detail, errc::truncated,
                     "server identifier of " + num(id_len) + " bytes at byte 24 ends at byte " +
                         num(kNotificationFixedSize + id_len) + ", input has " + num(b.size()) + " bytes");
  }
  const std::uint8_t* id = b.data() + kNotificationFixedSize;
  for (std::size_t i = 0; i < id_len; ++i) {
    if (!valid_server_id_byte(id[i])) {
      return fail_with(detail, errc::invalid_value,
                       "server identifier byte at offset " + num(kNotificationFixedSize + i) + " is 0x" +
                           (id[i] < 0x10 ? "0" : "") + hex_upper(id[i]) + ", outside %x01-7F");
    }
  }
  f.server_id.assign(reinterpret_cast<const char*>(id), id_len);
  f.vendor_specific.assign(b.begin() + static_cast<std::ptrdiff_t>(kNotificationFixedSize + id_len), b.end());
  d.trigger.assign(b.begin() + static_cast<std::ptrdiff_t>(kDigestSize), b.end());
  return d;
}

bool verify_notification_digest(const DecodedNotification& n, std::string_view server_id, std::string_view password,
                                ByteView nonce) {
  const auto expected = notification_digest(server_id, password, nonce, n.trigger);
  return expected && constant_time_equal(*expected, n.digest);
}

ByteView notification_reset_nonce(NotificationNonce kind) noexcept {
  switch (kind) {
    case NotificationNonce::session: return {};
    case NotificationNonce::reset_binary: return kNotificationResetNonce;
    case NotificationNonce::reset_text_hex: return as_bytes(kResetHex);
    case NotificationNonce::reset_text_digits: return as_bytes(kResetDigits);
  }
  return {};
}

std::string_view notification_nonce_name(NotificationNonce kind) noexcept {
  switch (kind) {
    case NotificationNonce::session: return "session";
    case NotificationNonce::reset_binary: return "reset (4 zero bytes)";
    case NotificationNonce::reset_text_hex: return "reset (text \"0x00000000\")";
    case NotificationNonce::reset_text_digits: return "reset (text \"00000000\")";
  }
  return "invalid";
}

std::optional<NotificationNonce> verify_notification_with_reset(const DecodedNotification& n,
                                                                std::string_view server_id,
                                                                std::string_view password,
                                                                std::optional<ByteView> session_nonce) {
  if (session_nonce && verify_notification_digest(n, server_id, password, *session_nonce)) {
    return NotificationNonce::session;
  }
  for (const auto kind : {NotificationNonce::reset_binary, NotificationNonce::reset_text_hex,
                          NotificationNonce::reset_text_digits}) {
    if (verify_notification_digest(n, server_id, password, notification_reset_nonce(kind))) return kind;
  }
  return std::nullopt;
}

std::string session_id_hex(std::uint16_t session_id) { return hex_upper(session_id); }

Result<std::uint16_t> random_session_id() {
  std::uint16_t sid = 0;
  while (sid == 0) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&sid), sizeof sid) != 1) return fail(errc::crypto_failed);
  }
  return sid;
}

Result<std::uint16_t> parse_session_id_hex(std::string_view text) {
  if (text.empty() || text.size() > 4) return fail(errc::invalid_value);
  unsigned v = 0;
  for (const char c : text) {
    unsigned d = 0;
    if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
    else return fail(errc::invalid_value);
    v = v * 16 + d;
  }
  if (v == 0) return fail(errc::invalid_value);
  return static_cast<std::uint16_t>(v);
}

}  // namespace m2mdm::syncml
