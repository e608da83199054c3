/// @file notification.hpp
/// @brief Package 0: the General Notification Initiated Session Alert of
///        OMA-TS-DM_Notification-V1_2 §6.2 (content type application/vnd.syncml.notification,
///        WSP code 0x44). Encode, decode, digest and the nonce resynchronisation retry. No I/O.
///
/// Wire format (§6.2.1, big-endian, bit-packed):
/// @code
///   byte  0..15  digest            MD5, 128 bits
///   byte 16..20  version(10) ui-mode(2) initiator(1) future-use(27, zero)
///   byte 21..22  session id (16)
///   byte 23      length of the server identifier (8)
///   byte 24..    server identifier (length bytes, CHAR), then vendor-specific bytes to the end
/// @endcode
/// trigger = bytes 16..end. Digest = H(B64(H(server-id ":" password)) ":" nonce ":" B64(H(trigger)))
/// with H = MD5 and B64 = base64 (§6.2.2.2).
#pragma once

#include "m2mdm/syncml/auth.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace m2mdm::syncml {

/// The only version a conforming 1.2 notification carries: 10-bit value '0000001011' = 11,
/// read as DEC(version)/10 = "1.1" (DM_Notification 1.2 §6.2.2.6).
inline constexpr std::uint16_t kNotificationVersion = 11;
/// MIME type and WSP content-type code of package 0 (§6.2).
inline constexpr std::string_view kNotificationContentType = "application/vnd.syncml.notification";
inline constexpr std::uint8_t kNotificationWspContentType = 0x44;
/// Bytes before the server identifier: digest (16) + fixed trigger header (8).
inline constexpr std::size_t kNotificationFixedSize = 24;

/// User interaction mode recommended by the server (§6.2.2.7); values are the 2-bit field.
enum class UiMode : std::uint8_t {
  not_specified = 0,     ///< "00"
  background = 1,        ///< "01"
  informative = 2,       ///< "10"
  user_interaction = 3,  ///< "11": prompt the user before the session
};

/// Who caused the session (§6.2.2.8); values are the 1-bit field.
enum class Initiator : std::uint8_t {
  client = 0,  ///< the end user
  server = 1,  ///< the operator / server
};

/// "not-specified", "background", "informative", "user-interaction".
std::string_view ui_mode_name(UiMode mode) noexcept;
/// Parses one of the ui_mode_name() strings or the digits "0".."3"; errc::invalid_value otherwise.
Result<UiMode> parse_ui_mode(std::string_view text);
/// "client" or "server".
std::string_view initiator_name(Initiator initiator) noexcept;
/// Parses "client"/"server" or "0"/"1"; errc::invalid_value otherwise.
Result<Initiator> parse_initiator(std::string_view text);

/// The fields of a package 0 (everything but the digest).
struct Notification {
  std::uint16_t version = kNotificationVersion;  ///< 10-bit field; 11 means 1.1
  UiMode ui_mode = UiMode::not_specified;
  Initiator initiator = Initiator::server;
  std::uint16_t session_id = 1;  ///< 1..0xFFFF (§6.2.2.10)
  std::string server_id;         ///< 1..255 bytes of CHAR (%x01-7F)
  Bytes vendor_specific;         ///< optional trigger-body, any length

  friend bool operator==(const Notification&, const Notification&) = default;
};

/// A decoded package 0: the fields plus what a verifier needs.
struct DecodedNotification {
  Notification fields;
  Md5Digest digest{};          ///< bytes 0..15 as received
  Bytes trigger;               ///< bytes 16..end, exactly as received (the digest's input)
  std::uint32_t reserved = 0;  ///< the 27 future-use bits (MUST be 0; tolerated and reported)
};

/// The trigger bytes (header + body) of @p n. Fails with errc::invalid_value when a field is out
/// of range: version > 1023, session id 0, empty or longer than 255 bytes server id, a server id
/// byte outside %x01-7F, or an out-of-range enum value.
Result<Bytes> encode_trigger(const Notification& n);

/// H(B64(H(server_id ":" password)) ":" nonce ":" B64(H(trigger))) (§6.2.2.2).
Result<Md5Digest> notification_digest(std::string_view server_id, std::string_view password, ByteView nonce,
                                      ByteView trigger);

/// A complete package 0: digest ‖ trigger, the digest keyed with n.server_id, @p server_password
/// and @p nonce (the client's stored server nonce; see kNotificationResetNonce).
Result<Bytes> encode_notification(const Notification& n, std::string_view server_password, ByteView nonce);

/// Decodes a package 0. Errors: errc::truncated (input ends inside the digest, the fixed header
/// or the server identifier), errc::unsupported_version (version field != 11),
/// errc::invalid_value (session id 0, empty server identifier, server identifier byte outside
/// %x01-7F). When @p detail is given it receives a one-line explanation naming the byte offset.
Result<DecodedNotification> decode_notification(ByteView bytes, std::string* detail = nullptr);

/// True when the received digest equals the one computed for @p server_id / @p password /
/// @p nonce over the received trigger bytes; constant-time comparison, false if MD5 fails.
bool verify_notification_digest(const DecodedNotification& n, std::string_view server_id,
                                std::string_view password, ByteView nonce);

// ----- Nonce resynchronisation (DM_Notification 1.2 §6.1, "Nonce Resynchronisation") -----
//
// After a digest failure with the stored server nonce the client SHOULD re-verify with the
// special nonce 0x00000000. The spec writes the value but not its encoding, and
// implementations differ; we accept these three forms, tried in this order:
//   reset_binary       4 octets 00 00 00 00  — the literal reading of a 32-bit value 0x00000000;
//                      what our server sends and what the CLI uses by default;
//   reset_text_hex     the 10 ASCII characters "0x00000000" — engines that keep nonces as text
//                      and copy the spec's notation;
//   reset_text_digits  the 8 ASCII characters "00000000" — engines that print the value as hex
//                      digits without the prefix.
// Each form is a fixed public value, so accepting three instead of one costs an attacker
// nothing (the password still has to be known). The client then builds its package 1
// credentials with the SAME nonce bytes that verified (step 3 of the flow).

/// Which nonce verified a package 0.
enum class NotificationNonce : std::uint8_t { session, reset_binary, reset_text_hex, reset_text_digits };

/// The reset nonce as 4 raw zero bytes.
inline constexpr std::array<std::uint8_t, 4> kNotificationResetNonce{0, 0, 0, 0};

/// The bytes of a reset form (empty for NotificationNonce::session, whose bytes the caller owns).
ByteView notification_reset_nonce(NotificationNonce kind) noexcept;
/// "session", "reset (4 zero bytes)", "reset (text \"0x00000000\")", "reset (text \"00000000\")".
std::string_view notification_nonce_name(NotificationNonce kind) noexcept;

/// Verifies @p n with @p session_nonce (if given), then with each reset form in the order above.
/// Returns the form that verified, or nullopt when none did (ignore the notification).
std::optional<NotificationNonce> verify_notification_with_reset(const DecodedNotification& n,
                                                                std::string_view server_id,
                                                                std::string_view password,
                                                                std::optional<ByteView> session_nonce);

/// The SessionID text the client puts in its SyncHdr for a session id from package 0:
/// upper-case hex, 1 to 4 digits, no leading zeros (§6.2.2.10). 0x00AB → "AB".
std::string session_id_hex(std::uint16_t session_id);
/// The inverse: 1 to 4 hex digits of either case, value 1..FFFF. errc::invalid_value otherwise.
Result<std::uint16_t> parse_session_id_hex(std::string_view text);

/// A fresh session id for a package 0 or a client-initiated session: random, 1..FFFF (0 is
/// not a SessionID parse_session_id_hex takes). errc::crypto_failed when the CSPRNG fails, never
/// a fixed fallback value.
Result<std::uint16_t> random_session_id();

}  // namespace m2mdm::syncml
