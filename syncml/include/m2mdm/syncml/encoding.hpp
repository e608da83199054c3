/// @file encoding.hpp
/// @brief Byte helpers shared by every layer: base64 (RFC 4648), hex, constant-time compare.
#pragma once

#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

/// Views the characters of a string as bytes.
inline ByteView as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
/// Views bytes as characters.
inline std::string_view as_chars(ByteView b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// Standard base64 with padding (RFC 4648 §4), no line breaks.
std::string base64_encode(ByteView data);
/// Decodes standard base64; ASCII whitespace is skipped, padding is required to be correct.
/// Fails with syncml::errc::bad_base64.
Result<Bytes> base64_decode(std::string_view text);

/// Lower- or upper-case hex of @p data.
std::string hex_encode(ByteView data, bool upper = false);
/// Decodes hex of either case (no separators); fails with syncml::errc::bad_hex.
Result<Bytes> hex_decode(std::string_view text);

/// Compares two byte strings in time independent of their content (CRYPTO_memcmp).
/// Different lengths compare unequal (the length is not secret).
bool constant_time_equal(ByteView a, ByteView b) noexcept;

}  // namespace m2mdm
