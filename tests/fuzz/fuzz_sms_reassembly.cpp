// libFuzzer target: SMS user-data decoding and concatenated-SMS reassembly (3GPP TS 23.040
// §9.2.3.24). The input is split into segments fed to a small Reassembler; it must never crash,
// and its memory bounds must hold after every call. The tail of the input is also segmented
// with segment_push, fed back in a shuffled order with duplicates, and must come back intact.
#include "m2mdm/bootstrap/sms.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sms = m2mdm::bootstrap::sms;
  using namespace std::chrono_literals;
  if (size < 2) return 0;

  sms::ReassemblerLimits lim;
  lim.max_messages = 1 + (data[0] & 0x07);
  lim.max_total_bytes = 64 + 64 * static_cast<std::size_t>(data[1] & 0x0F);
  lim.max_parts = 1 + (data[1] >> 4) * 16;
  lim.timeout = 10s;
  sms::Reassembler r(lim);
  sms::Reassembler::TimePoint now{};

  // Records: [flags][len][len octets]: flags low 2 bits = originator, bit 2 = advance clock.
  std::size_t pos = 2;
  while (pos + 2 <= size) {
    const std::uint8_t flags = data[pos];
    const std::size_t len = std::min<std::size_t>(data[pos + 1], size - pos - 2);
    const m2mdm::ByteView ud{data + pos + 2, len};
    pos += 2 + len;
    if (flags & 0x04) now += std::chrono::seconds(flags >> 3);
    const std::string orig(1, static_cast<char>('a' + (flags & 0x03)));
    m2mdm::bootstrap::DecodeDetail detail;
    auto out = r.feed(orig, ud, now, &detail);
    if (!out && detail.offset > len) __builtin_trap();
    if (r.pending_messages() > lim.max_messages) __builtin_trap();
    if (r.buffered_bytes() > lim.max_total_bytes) __builtin_trap();
    // A completed message was buffered (<= max_total_bytes) or is a single segment (< 256 octets).
    if (out && *out && (*out)->payload.size() > std::max<std::size_t>(lim.max_total_bytes, 255)) __builtin_trap();
  }

  // Round trip of the whole input through segment_push and a roomy reassembler.
  const m2mdm::ByteView whole{data, std::min<std::size_t>(size, 4000)};
  const bool wide = (data[0] & 0x80) != 0;
  auto segs = sms::segment_push(whole, sms::SegmentOptions{.reference = static_cast<std::uint16_t>(data[1]),
                                                           .use_16bit_ref = wide,
                                                           .max_user_data = 20u + data[0] % 121u});
  if (!segs) return 0;
  sms::Reassembler big;
  std::vector<std::size_t> order(segs->size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = (i * 7 + data[size - 1]) % order.size();
  std::size_t completed = 0;
  m2mdm::Bytes result;
  for (std::size_t i : order) {  // a permutation when gcd(7, n) == 1, with repeats otherwise
    auto out = big.feed("z", (*segs)[i], now);
    if (!out) __builtin_trap();
    if (*out) {
      ++completed;
      result = (*out)->payload;
    }
  }
  for (std::size_t i = 0; i < segs->size() && completed == 0; ++i) {
    auto out = big.feed("z", (*segs)[i], now);
    if (!out) __builtin_trap();
    if (*out) {
      ++completed;
      result = (*out)->payload;
    }
  }
  if (completed != 1 || !std::equal(result.begin(), result.end(), whole.begin(), whole.end())) __builtin_trap();
  return 0;
}
