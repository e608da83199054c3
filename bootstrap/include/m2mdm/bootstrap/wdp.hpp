/// @file wdp.hpp
/// @brief WDP over UDP (WAP-259-WDP Annex B, WAP-230-WSP §7.1): port numbers and a datagram
/// wrapper for connectionless WSP push. No sockets here: the push listener / sender in
/// client/ and server/ own the I/O.
#pragma once

#include "m2mdm/bootstrap/wsp.hpp"

#include <cstdint>

namespace m2mdm::bootstrap::wdp {

// WAP-259-WDP Appendix B (IANA registered WAP ports).
inline constexpr std::uint16_t kPortWspConnectionless = 9200;      ///< wap-wsp (connectionless WSP)
inline constexpr std::uint16_t kPortWspConnection = 9201;          ///< wap-wsp-wtp
inline constexpr std::uint16_t kPortWspSecureConnectionless = 9202;///< wap-wsp-s (WTLS)
inline constexpr std::uint16_t kPortWspSecureConnection = 9203;    ///< wap-wsp-wtp-s
inline constexpr std::uint16_t kPortPush = 2948;                   ///< wap-push (connectionless push)
inline constexpr std::uint16_t kPortPushSecure = 2949;             ///< wap-pushsecure (WTLS)

/// One WDP datagram: ports plus the payload (for push: the connectionless WSP PDU, TID first).
/// Over UDP the ports are the UDP ports; over SMS they travel in the UDH IE 0x05.
struct Datagram {
  std::uint16_t src_port = kPortWspConnectionless;
  std::uint16_t dst_port = kPortPush;
  Bytes payload;

  bool operator==(const Datagram&) const = default;
};

/// Encodes `pdu` (wsp::encode_push) into a datagram addressed to the push port 2948.
Result<Datagram> make_push_datagram(const wsp::PushPdu& pdu,
                                    std::uint16_t src_port = kPortWspConnectionless);

/// Decodes a datagram received on the push port: fails with invalid_argument when dst_port is
/// neither 2948 nor 2949, otherwise with wsp::decode_push's errors.
Result<wsp::PushPdu> decode_push_datagram(const Datagram& d, DecodeDetail* detail = nullptr);

}  // namespace m2mdm::bootstrap::wdp
