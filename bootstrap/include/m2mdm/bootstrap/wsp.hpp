/// @file wsp.hpp
/// @brief WSP connectionless Push PDU encode/decode (WAP-230-WSP §8.2.4.1, §8.4, §8.5), no I/O.
///
/// A connectionless push (WAP-230-WSP §8.2.4.1, §8.2.4.2) is
/// `TID PDU-type(0x06) HeadersLen(uintvar) ContentType Headers Data`. For an OMA CP bootstrap
/// (OMA ProvBoot 1.1 §5.3) the Content-Type is the general form
/// `1F <uintvar len> B6 91 <0x80|SEC> 92 <40 upper-case hex> 00`:
/// 0xB6 = well-known media 0x36 "application/vnd.wap.connectivity-wbxml", 0x91 = typed
/// parameter SEC (0x11, Short-integer), 0x92 = typed parameter MAC (0x12, Text-value).
///
/// Every decoder reports malformed input as a specific `bootstrap::errc` and, when the caller
/// passes a DecodeDetail, the byte offset (from the start of the buffer handed to the decoder)
/// where the problem was found.
#pragma once

#include "m2mdm/bootstrap/error.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::bootstrap {

/// Where and why a decoder refused its input (filled only on failure).
struct DecodeDetail {
  std::size_t offset = 0;  ///< byte offset into the decoded buffer
  std::string what;        ///< short description, e.g. "header length runs past the end"
};

/// "what at offset N" — a one-line reason for logs and the CLI.
std::string to_string(const DecodeDetail& d);

namespace wsp {

// --- WAP-230-WSP Table 34: PDU type assignments -------------------------------------------
inline constexpr std::uint8_t kPduPush = 0x06;           ///< Push
inline constexpr std::uint8_t kPduConfirmedPush = 0x07;  ///< ConfirmedPush (connection mode only)

// --- OMNA / WAP-230-WSP Table 40: well-known content types (the 7-bit code; on the wire 0x80|code)
inline constexpr std::uint32_t kCtConnectivityXml = 0x35;    ///< text/vnd.wap.connectivity-xml
inline constexpr std::uint32_t kCtConnectivityWbxml = 0x36;  ///< application/vnd.wap.connectivity-wbxml
inline constexpr std::uint32_t kCtSyncmlDmWbxml = 0x42;      ///< application/vnd.syncml.dm+wbxml
inline constexpr std::uint32_t kCtSyncmlDmXml = 0x43;        ///< application/vnd.syncml.dm+xml
inline constexpr std::uint32_t kCtSyncmlNotification = 0x44; ///< application/vnd.syncml.notification

// --- WAP-230-WSP Table 38: well-known parameter assignments (typed parameters) -------------
inline constexpr std::uint32_t kParamSec = 0x11;  ///< SEC (Short-integer), encoding version 1.4
inline constexpr std::uint32_t kParamMac = 0x12;  ///< MAC (Text-value), encoding version 1.4

// --- WAP-230-WSP Table 39: header field name assignments ------------------------------------
inline constexpr std::uint8_t kHeaderXWapApplicationId = 0x2F;  ///< X-Wap-Application-Id

// --- OMNA push application ids (X-Wap-Application-Id App-assigned-code) ---------------------
inline constexpr std::uint32_t kAppIdSyncmlDm = 0x07;  ///< x-wap-application:syncml.dm ("AF 87")

// --- OMA ProvBoot 1.1 §5.3: SEC method values ------------------------------------------------
inline constexpr std::uint32_t kSecNetwpin = 0;
inline constexpr std::uint32_t kSecUserpin = 1;
inline constexpr std::uint32_t kSecUsernetwpin = 2;
inline constexpr std::uint32_t kSecUserpinmac = 3;

/// Name of a well-known content type code ("" when the code is not in our table).
std::string_view content_type_name(std::uint32_t code) noexcept;
/// Code of a well-known content type name (case-insensitive), if it has one.
std::optional<std::uint32_t> content_type_code(std::string_view name) noexcept;
/// Name of a well-known push application id (e.g. 7 -> "x-wap-application:syncml.dm"), or "".
std::string_view app_id_name(std::uint32_t code) noexcept;
/// Name of a CP SEC method value (0 -> "NETWPIN" ... 3 -> "USERPINMAC"), or "".
std::string_view sec_method_name(std::uint32_t code) noexcept;
/// Value of a CP SEC method name (case-insensitive), if known.
std::optional<std::uint32_t> sec_method_code(std::string_view name) noexcept;

/// A parameter value: Integer-value (Short- or Long-integer) or Text-value.
/// (A struct rather than std::variant<uint64_t, string>: g++ 12 -Werror trips on the latter.)
struct Value {
  std::optional<std::uint64_t> integer;  ///< set for an Integer-value (then `text` is empty)
  std::string text;                      ///< the Text-value when `integer` is unset; "" = No-value

  static Value num(std::uint64_t v) { return Value{v, {}}; }
  static Value str(std::string s) { return Value{std::nullopt, std::move(s)}; }
  bool is_integer() const noexcept { return integer.has_value(); }
  bool operator==(const Value&) const = default;
};

/// One Content-Type parameter (WAP-230-WSP §8.4.2.4 Parameter).
struct Parameter {
  /// Typed parameter: its well-known code (e.g. kParamSec); nullopt for an untyped parameter.
  std::optional<std::uint32_t> code;
  /// Untyped parameter: its Token-text name. For typed parameters decode fills the spec name
  /// ("SEC", "MAC", ...) for display and encode ignores it.
  std::string name;
  /// The value. A Text-value of "" is encoded as No-value (0x00).
  Value value{};

  bool operator==(const Parameter&) const = default;
};

/// A Content-Type value (WAP-230-WSP §8.4.2.24): a media type plus parameters in wire order.
struct ContentType {
  /// The media type name. For a well-known code decode fills the table name ("" if unknown).
  std::string media;
  /// When set, the media type is encoded as this well-known code (Integer-value) and `media` is
  /// only informative; when unset `media` is encoded as Extension-media (text).
  std::optional<std::uint32_t> code;
  /// Parameters in wire order. Empty -> encoded as Constrained-media (one octet or text);
  /// otherwise the Content-general-form (Value-length, media, parameters).
  std::vector<Parameter> params;

  /// The SEC parameter: typed 0x11 (integer) or untyped "SEC" (case-insensitive, text/int).
  std::optional<Value> sec() const;
  /// The MAC parameter text: typed 0x12 or untyped "MAC".
  std::optional<std::string> mac() const;

  bool operator==(const ContentType&) const = default;
};

/// X-Wap-Application-Id value: App-assigned-code (integer) or Uri-value (text).
struct AppId {
  std::optional<std::uint32_t> code;  ///< App-assigned-code, e.g. kAppIdSyncmlDm
  std::string uri;                    ///< Uri-value when `code` is unset (non-empty)

  static AppId of(std::uint32_t c) { return AppId{c, {}}; }
  static AppId of(std::string u) { return AppId{std::nullopt, std::move(u)}; }
  bool operator==(const AppId&) const = default;
};

/// A decoded (or to-be-encoded) connectionless WSP Push PDU.
struct PushPdu {
  std::uint8_t tid = 0;                 ///< transaction id (connectionless: first octet)
  ContentType content_type;             ///< the Content-Type (first field of the headers)
  std::optional<AppId> app_id;          ///< X-Wap-Application-Id, when present
  /// Every other header, each the exact wire bytes of one header (field name + value) or of a
  /// shift sequence, in wire order. Encode writes them after the application id; each entry
  /// must parse as exactly one header.
  std::vector<Bytes> other_headers;
  Bytes body;                           ///< the data (e.g. the WBXML CP document)

  bool operator==(const PushPdu&) const = default;
};

/// Encodes a connectionless Push PDU: TID, 0x06, uintvar header length, content type,
/// X-Wap-Application-Id (when set), other headers, body. Fails with invalid_argument for a
/// text containing NUL / non-ASCII in a token, an unparseable other header, or a typed
/// parameter whose value type is not allowed (SEC must be an integer < 128, MAC text).
Result<Bytes> encode_push(const PushPdu& pdu);

/// Decodes a connectionless Push PDU (PDU type 0x06 only). Parameters may come in any order.
/// Errors: wsp_truncated, wsp_bad_uintvar, wsp_bad_pdu_type, wsp_bad_content_type,
/// wsp_bad_header; `detail` (optional) receives the offset.
Result<PushPdu> decode_push(ByteView pdu, DecodeDetail* detail = nullptr);

/// Encodes a Content-Type value alone (the bytes that follow TID/type/headers-length).
Result<Bytes> encode_content_type(const ContentType& ct);
/// Decodes one Content-Type value starting at `pos` (advanced past it on success).
Result<ContentType> decode_content_type(ByteView in, std::size_t& pos, DecodeDetail* detail = nullptr);

/// The OMA CP bootstrap push: content type 0xB6 with SEC (Short-integer) and, when given, MAC
/// (40 hex characters, emitted as given). Produces exactly `1F <len> B6 91 8n 92 <mac> 00`.
/// No X-Wap-Application-Id (CP pushes are routed by content type).
PushPdu make_cp_push(std::uint8_t tid, Bytes wbxml_body, std::uint32_t sec,
                     std::optional<std::string> mac);

/// A DM package 0 (DM_Notification 1.2) push: content type 0xC4
/// (application/vnd.syncml.notification), X-Wap-Application-Id 0x87 (syncml.dm).
PushPdu make_dm_notification_push(std::uint8_t tid, Bytes package0);

/// A DM-profile bootstrap push (DM Bootstrap 1.2): content type 0xC2
/// (application/vnd.syncml.dm+wbxml), SEC and MAC as untyped text parameters when given,
/// X-Wap-Application-Id 0x87.
PushPdu make_dm_bootstrap_push(std::uint8_t tid, Bytes wbxml_body, std::optional<std::string> sec,
                               std::optional<std::string> mac);

// --- uintvar (WAP-230-WSP §8.1.2): 7 bits per octet, MSB = continue, at most 5 octets -----------

/// Appends the minimal uintvar encoding of `v`.
void append_uintvar(Bytes& out, std::uint32_t v);
/// Reads a uintvar at `pos` (advanced on success). Rejects more than 5 octets, a leading 0x80
/// (overlong), values above 32 bits (wsp_bad_uintvar) and a missing last octet (wsp_truncated).
Result<std::uint32_t> read_uintvar(ByteView in, std::size_t& pos, DecodeDetail* detail = nullptr);

}  // namespace wsp
}  // namespace m2mdm::bootstrap
