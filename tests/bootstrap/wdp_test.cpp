// WDP over UDP: the push datagram goes to port 2948 (WAP-259-WDP Annex B).
#include "m2mdm/bootstrap/wdp.hpp"

#include <gtest/gtest.h>

namespace m2mdm::bootstrap::wdp {
namespace {

TEST(Wdp, PortsAreTheRegisteredOnes) {
  EXPECT_EQ(kPortPush, 2948);
  EXPECT_EQ(kPortPushSecure, 2949);
  EXPECT_EQ(kPortWspConnectionless, 9200);
}

TEST(Wdp, PushDatagramRoundTrip) {
  auto pdu = wsp::make_dm_notification_push(0x11, Bytes{0xDE, 0xAD});
  auto d = make_push_datagram(pdu);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->dst_port, 2948);
  EXPECT_EQ(d->src_port, 9200);
  EXPECT_EQ(hex_encode(d->payload, true), "110603C4AF87DEAD");  // the connectionless PDU, TID first
  auto back = decode_push_datagram(*d);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, pdu);
  d->dst_port = kPortPushSecure;
  EXPECT_TRUE(decode_push_datagram(*d));
}

TEST(Wdp, WrongPortOrBadPduIsRefused) {
  Datagram d{9200, 9200, {0x11, 0x06, 0x01, 0xC4}};
  DecodeDetail det;
  auto r = decode_push_datagram(d, &det);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::invalid_argument));
  EXPECT_NE(det.what.find("9200"), std::string::npos);
  d.dst_port = kPortPush;
  d.payload = {0x11, 0x06, 0x05, 0xC4};
  r = decode_push_datagram(d, &det);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::wsp_truncated));
  EXPECT_EQ(make_push_datagram(wsp::PushPdu{}).error(), make_error_code(errc::invalid_argument));
}

}  // namespace
}  // namespace m2mdm::bootstrap::wdp
