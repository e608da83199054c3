// libFuzzer target: WSP connectionless push decode (WAP-230-WSP §8.2.4.1, §8.4.2). Must never
// crash or trip a sanitizer; a decoded PDU must re-encode, and the re-encoding must decode to
// the same model. The same bytes also go through the content type decoder, the uintvar reader
// and the WDP datagram wrapper.
#include "m2mdm/bootstrap/wdp.hpp"
#include "m2mdm/bootstrap/wsp.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wsp = m2mdm::bootstrap::wsp;
  const m2mdm::ByteView in{data, size};

  m2mdm::bootstrap::DecodeDetail detail;
  auto pdu = wsp::decode_push(in, &detail);
  if (!pdu) {
    if (detail.offset > size) __builtin_trap();  // the offset points into the input
  } else {
    auto enc = wsp::encode_push(*pdu);
    if (!enc) __builtin_trap();
    auto again = wsp::decode_push(*enc);
    if (!again || !(*again == *pdu)) __builtin_trap();
    auto enc2 = wsp::encode_push(*again);
    if (!enc2 || *enc2 != *enc) __builtin_trap();  // encoding is a function of the model
  }

  std::size_t pos = 0;
  auto ct = wsp::decode_content_type(in, pos);
  if (ct) {
    if (pos > size) __builtin_trap();
    auto enc = wsp::encode_content_type(*ct);
    if (!enc) __builtin_trap();
    std::size_t p2 = 0;
    auto back = wsp::decode_content_type(*enc, p2);
    if (!back || !(*back == *ct) || p2 != enc->size()) __builtin_trap();
  }

  pos = 0;
  auto v = wsp::read_uintvar(in, pos);
  if (v) {
    m2mdm::Bytes out;
    wsp::append_uintvar(out, *v);
    if (out.size() != pos || !std::equal(out.begin(), out.end(), data)) __builtin_trap();  // minimal
  }

  m2mdm::bootstrap::wdp::Datagram d{9200, 2948, m2mdm::Bytes(in.begin(), in.end())};
  (void)m2mdm::bootstrap::wdp::decode_push_datagram(d);
  return 0;
}
