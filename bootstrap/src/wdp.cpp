// WDP over UDP for connectionless WSP push (WAP-259-WDP Annex B; WAP-230-WSP §7.1.1).
#include "m2mdm/bootstrap/wdp.hpp"

namespace m2mdm::bootstrap::wdp {

Result<Datagram> make_push_datagram(const wsp::PushPdu& pdu, std::uint16_t src_port) {
  auto bytes = wsp::encode_push(pdu);
  if (!bytes) return fail(bytes.error());
  return Datagram{src_port, kPortPush, std::move(*bytes)};
}

Result<wsp::PushPdu> decode_push_datagram(const Datagram& d, DecodeDetail* detail) {
  if (d.dst_port != kPortPush && d.dst_port != kPortPushSecure) {
    if (detail != nullptr) {
      detail->offset = 0;
      detail->what = "datagram to port " + std::to_string(d.dst_port) + " is not a WAP push port";
    }
    return fail(make_error_code(errc::invalid_argument));
  }
  return wsp::decode_push(d.payload, detail);
}

}  // namespace m2mdm::bootstrap::wdp
