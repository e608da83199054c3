// What the SyncML decoder fuzzers (fuzz_xml_decode, fuzz_wbxml_decode) check: whatever decodes
// must encode again, as XML and as WBXML, and each encoding must decode to the same model.
// Either encoding may refuse cleanly (XML cannot carry binary Data, WBXML a NextNonce that is
// not text); a wrong round trip aborts.
#pragma once

#include "m2mdm/syncml/codec.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace m2mdm::fuzz {

/// @p data decoded by @p decode (Result<Message>(ByteView, const DecodeLimits&, DecodeError*),
/// at most 256 KiB); a message that decodes must round-trip through both encodings. Returns 0.
template <typename Decode>
int decode_and_round_trip(const std::uint8_t* data, std::size_t size, Decode decode) {
  using namespace m2mdm::syncml;
  DecodeLimits limits;
  limits.max_bytes = 256 * 1024;
  DecodeError err;
  auto m = decode(ByteView(data, size), limits, &err);
  if (!m) return 0;
  if (auto x = encode_xml(*m)) {
    auto again = decode_xml(*x);
    if (!again || !(*again == *m)) std::abort();
  }
  if (auto w = encode_wbxml(*m)) {
    auto again = decode_wbxml(*w);
    if (!again || !(*again == *m)) std::abort();
  }
  return 0;
}

}  // namespace m2mdm::fuzz
