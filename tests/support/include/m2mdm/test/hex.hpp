/// @file hex.hpp
/// @brief Hex helpers of the GoogleTest suites (header-only): test vectors written as hex
///        (TS 35.208 sets, digests) in and out.
#pragma once

#include "m2mdm/syncml/encoding.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace m2mdm::test {

/// The bytes @p s spells in hex; a non-hex @p s fails the current test (and yields no bytes).
inline Bytes unhex(std::string_view s) {
  auto r = hex_decode(s);
  EXPECT_TRUE(r.has_value()) << s;
  return r.value_or(Bytes{});
}

/// Lower-case hex of any contiguous byte container (Bytes, std::array<std::uint8_t, N>).
template <class T>
std::string hex(const T& a) {
  return hex_encode(ByteView(a.data(), a.size()));
}

}  // namespace m2mdm::test
