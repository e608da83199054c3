/// @file codec.hpp
/// @brief Encoding and decoding SyncML DM 1.2 messages as XML (libxml2) and WBXML (libwbxml2).
///
/// Bytes in, bytes out; no I/O. Decoders are hardened for bytes from the network: no DTD
/// loading, no entity expansion, no network access, bounded size and depth. A decode failure
/// returns an error code and, when asked, a `DecodeError` that says what and where.
#pragma once

#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/message.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace m2mdm::syncml {

/// The two wire encodings of DM messages.
enum class Encoding { Xml, Wbxml };

/// The content type of an encoding (application/vnd.syncml.dm+xml or +wbxml).
const char* content_type(Encoding e) noexcept;
/// Maps an HTTP Content-Type value (parameters ignored, case-insensitive) to an encoding.
std::optional<Encoding> encoding_from_content_type(std::string_view content_type) noexcept;
/// Guesses the encoding of a message from its first bytes (WBXML version byte vs '<' / BOM).
std::optional<Encoding> detect_encoding(ByteView bytes) noexcept;

/// Bounds applied while decoding bytes from the network.
struct DecodeLimits {
  std::size_t max_bytes = 8u * 1024u * 1024u;  ///< larger input is refused (too_large)
  std::size_t max_depth = 24;                  ///< element nesting (too_deep)
  std::size_t max_commands = 10000;            ///< commands in a SyncBody, containers included
};

/// What went wrong and where, for logs and CLI messages.
struct DecodeError {
  std::error_code code;
  std::string what;   ///< human-readable reason
  std::string where;  ///< element path ("SyncML/SyncBody/Status[2]/Data") or "byte N"
};

/// Decodes an XML message.
Result<Message> decode_xml(ByteView bytes, const DecodeLimits& limits = {}, DecodeError* error = nullptr);
/// Decodes a WBXML message (SyncML 1.2 public id 0x1201, an unknown public id 0x01 or the
/// literal "-//SYNCML//DTD SyncML 1.2//EN").
Result<Message> decode_wbxml(ByteView bytes, const DecodeLimits& limits = {}, DecodeError* error = nullptr);
/// Detects the encoding and decodes.
Result<Message> decode(ByteView bytes, const DecodeLimits& limits = {}, DecodeError* error = nullptr);
/// Decodes a message as it came over HTTP: in the encoding its Content-Type names, or, when the
/// type names neither, in the one its first bytes show. The one decoding step of both session
/// engines. @p encoding, when given, receives the encoding the message was read in (a server
/// answers in it).
Result<Message> decode_received(ByteView bytes, std::string_view content_type, const DecodeLimits& limits = {},
                                DecodeError* error = nullptr, Encoding* encoding = nullptr);

/// Encodes canonical XML (elements in DTD order, UTF-8, no indentation unless @p pretty).
Result<Bytes> encode_xml(const Message& message, bool pretty = false);
/// Encodes WBXML 1.2 with SyncML 1.2 public id, MetInf on code page 1.
Result<Bytes> encode_wbxml(const Message& message);
/// Encodes in the given encoding.
Result<Bytes> encode(const Message& message, Encoding encoding);

}  // namespace m2mdm::syncml
