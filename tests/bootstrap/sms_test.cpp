// WAP over SMS: UDH port addressing and concatenation (3GPP TS 23.040 §9.2.3.24), segmenting
// and bounded reassembly.
#include "m2mdm/bootstrap/sms.hpp"
#include "m2mdm/test/files.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace m2mdm::bootstrap::sms {
namespace {

using namespace std::chrono_literals;
using TP = Reassembler::TimePoint;

Bytes hex(std::string_view h) { return hex_decode(h).value_or(Bytes{}); }

Bytes cht_push() {
  Bytes body = m2mdm::test::slurp_bytes(m2mdm::test::cp_vectors_dir() / "cht-userpin-0000.wbxml");
  auto pdu = wsp::encode_push(
      wsp::make_cp_push(0x01, body, wsp::kSecUserpin, std::string("AA2DC41FC48AEEF3FED7351B1EE704461A8894D4")));
  EXPECT_TRUE(pdu);
  return pdu.value_or(Bytes{});
}

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return b;
}

TEST(SmsSegment, SingleSegmentUdh) {
  const Bytes pdu = hex("420603C4AF870102");
  auto segs = segment_push(pdu);
  ASSERT_TRUE(segs);
  ASSERT_EQ(segs->size(), 1u);
  // UDHL 06, IE 05 (16-bit ports) length 04, dst 0B84 (2948), src 23F0 (9200), then the PDU.
  EXPECT_EQ(hex_encode((*segs)[0], true), "0605040B8423F0420603C4AF870102");
  auto seg = decode_segment((*segs)[0]);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->dst_port, 2948);
  EXPECT_EQ(seg->src_port, 9200);
  EXPECT_FALSE(seg->concatenated);
  EXPECT_EQ(seg->payload, pdu);
}

TEST(SmsSegment, LargestSingleSegmentIs133Octets) {
  EXPECT_EQ(segment_push(pattern(133))->size(), 1u);
  EXPECT_EQ(segment_push(pattern(133))->at(0).size(), 140u);
  EXPECT_EQ(segment_push(pattern(134))->size(), 2u);
}

TEST(SmsSegment, ChtPushEightBitReference) {
  const Bytes pdu = cht_push();
  ASSERT_EQ(pdu.size(), 551u);
  auto segs = segment_push(pdu, SegmentOptions{.reference = 0x2A});
  ASSERT_TRUE(segs);
  // UDHL 0B: 05 04 0B84 23F0 + 00 03 <ref> <total> <seq>; 140 - 12 = 128 payload octets each,
  // 551 = 4 * 128 + 39 -> 5 segments.
  ASSERT_EQ(segs->size(), 5u);
  EXPECT_EQ(hex_encode(ByteView((*segs)[0]).first(12), true), "0B05040B8423F000032A0501");
  EXPECT_EQ(hex_encode(ByteView((*segs)[4]).first(12), true), "0B05040B8423F000032A0505");
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ((*segs)[i].size(), 140u);
  EXPECT_EQ((*segs)[4].size(), 12u + 39u);
  Bytes joined;
  for (const auto& s : *segs) joined.insert(joined.end(), s.begin() + 12, s.end());
  EXPECT_EQ(joined, pdu);
}

TEST(SmsSegment, ChtPushSixteenBitReference) {
  const Bytes pdu = cht_push();
  auto segs = segment_push(pdu, SegmentOptions{.reference = 0x1234, .use_16bit_ref = true});
  ASSERT_TRUE(segs);
  // UDHL 0C: ports + 08 04 1234 <total> <seq>; 127 payload octets: 551 = 4 * 127 + 43.
  ASSERT_EQ(segs->size(), 5u);
  EXPECT_EQ(hex_encode(ByteView((*segs)[2]).first(13), true), "0C05040B8423F00804123405" "03");
  EXPECT_EQ((*segs)[4].size(), 13u + 43u);
  auto seg = decode_segment((*segs)[2]);
  ASSERT_TRUE(seg);
  EXPECT_TRUE(seg->concatenated);
  EXPECT_TRUE(seg->ref16);
  EXPECT_EQ(seg->reference, 0x1234);
  EXPECT_EQ(seg->total, 5);
  EXPECT_EQ(seg->seq, 3);
  EXPECT_EQ(seg->payload.size(), 127u);
}

TEST(SmsSegment, RefusesBadOptions) {
  const Bytes pdu = pattern(10);
  EXPECT_EQ(segment_push(Bytes{}).error(), make_error_code(errc::invalid_argument));
  EXPECT_EQ(segment_push(pdu, SegmentOptions{.reference = 256}).error(), make_error_code(errc::invalid_argument));
  EXPECT_EQ(segment_push(pdu, SegmentOptions{.max_user_data = 19}).error(), make_error_code(errc::invalid_argument));
  EXPECT_EQ(segment_push(pdu, SegmentOptions{.max_user_data = 141}).error(), make_error_code(errc::invalid_argument));
  // 255 segments of 128 octets fit, one more octet does not.
  EXPECT_EQ(segment_push(pattern(255 * 128))->size(), 255u);
  EXPECT_EQ(segment_push(pattern(255 * 128 + 1)).error(), make_error_code(errc::push_too_large));
}

TEST(SmsSegment, DecodeErrorsWithOffsets) {
  DecodeDetail d;
  EXPECT_EQ(decode_segment(Bytes{}, &d).error(), make_error_code(errc::wsp_truncated));
  EXPECT_EQ(decode_segment(hex("0605040B84"), &d).error(), make_error_code(errc::wsp_truncated));
  // IE 05 with length 3.
  EXPECT_EQ(decode_segment(hex("0505030B8423FF"), &d).error(), make_error_code(errc::sms_bad_udh));
  EXPECT_EQ(d.offset, 1u);
  // IE data running past UDHL.
  EXPECT_EQ(decode_segment(hex("0300050B84FF"), &d).error(), make_error_code(errc::sms_bad_udh));
  EXPECT_EQ(d.offset, 1u);
  // Lone IEI at the end of the UDH.
  EXPECT_EQ(decode_segment(hex("047001AA05"), &d).error(), make_error_code(errc::sms_bad_udh));
  EXPECT_EQ(d.offset, 4u);
  // seq 0, seq > total, total 0.
  EXPECT_EQ(decode_segment(hex("0500030103" "00FF"), &d).error(), make_error_code(errc::sms_bad_udh));
  EXPECT_EQ(decode_segment(hex("0500030102" "03FF"), &d).error(), make_error_code(errc::sms_bad_udh));
  EXPECT_EQ(decode_segment(hex("0500030100" "00FF"), &d).error(), make_error_code(errc::sms_bad_udh));
  EXPECT_EQ(d.offset, 3u);
  // Two concatenation IEs.
  EXPECT_EQ(decode_segment(hex("0A0003010201" "0003010201FF"), &d).error(), make_error_code(errc::sms_bad_udh));
  EXPECT_EQ(d.offset, 6u);
}

TEST(SmsSegment, UnknownIeSkippedAndEightBitPorts) {
  // IE 0x70 (unknown, 2 octets) then IE 04 (8-bit ports 0x10 -> 0x20), payload AB.
  auto seg = decode_segment(hex("0870020102040210" "20AB"));
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->dst_port, 0x10);
  EXPECT_EQ(seg->src_port, 0x20);
  EXPECT_EQ(seg->payload, hex("AB"));
}

// ---------------------------------------------------------------------------------------------

TEST(SmsReassembly, ReorderedWithDuplicates) {
  const Bytes pdu = cht_push();
  auto segs = *segment_push(pdu, SegmentOptions{.reference = 7});
  Reassembler r;
  const TP t0{};
  const std::size_t order[] = {4, 2, 2, 0, 3, 0};  // then 1 completes
  for (std::size_t i : order) {
    auto out = r.feed("+886900000000", segs[i], t0);
    ASSERT_TRUE(out) << i;
    EXPECT_FALSE(*out) << i;
  }
  EXPECT_EQ(r.pending_messages(), 1u);
  EXPECT_EQ(r.buffered_bytes(), 128u * 3 + 39u);
  auto out = r.feed("+886900000000", segs[1], t0 + 1s);
  ASSERT_TRUE(out);
  ASSERT_TRUE(*out);
  EXPECT_EQ((*out)->payload, pdu);
  EXPECT_EQ((*out)->dst_port, 2948);
  EXPECT_EQ((*out)->src_port, 9200);
  EXPECT_EQ(r.pending_messages(), 0u);
  EXPECT_EQ(r.buffered_bytes(), 0u);
  auto decoded = wsp::decode_push((*out)->payload);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->content_type.mac(), "AA2DC41FC48AEEF3FED7351B1EE704461A8894D4");
}

TEST(SmsReassembly, SixteenBitReferencesAndOriginatorsDoNotMix) {
  const Bytes a = pattern(300), b = pattern(301);
  auto sa = *segment_push(a, SegmentOptions{.reference = 0x0107, .use_16bit_ref = true});
  auto sb = *segment_push(b, SegmentOptions{.reference = 0x0107, .use_16bit_ref = true});
  auto sc = *segment_push(a, SegmentOptions{.reference = 0x07});  // same low byte, 8-bit
  ASSERT_EQ(sa.size(), 3u);
  ASSERT_EQ(sb.size(), 3u);
  Reassembler r;
  const TP t0{};
  std::vector<Bytes> done;
  for (std::size_t i = 0; i < 3; ++i) {
    for (auto [orig, segs] : {std::pair{"A", &sa}, std::pair{"B", &sb}, std::pair{"A", &sc}}) {
      auto out = r.feed(orig, (*segs)[2 - i], t0);
      ASSERT_TRUE(out);
      if (*out) done.push_back((*out)->payload);
    }
  }
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0], a);
  EXPECT_EQ(done[1], b);
  EXPECT_EQ(done[2], a);
}

TEST(SmsReassembly, ConflictingDuplicateDropsMessage) {
  auto segs = *segment_push(pattern(400), SegmentOptions{.reference = 1});
  Reassembler r;
  ASSERT_TRUE(r.feed("x", segs[0], TP{}));
  Bytes evil = segs[0];
  evil.back() ^= 0x01;
  auto out = r.feed("x", evil, TP{});
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error(), make_error_code(errc::sms_segment_conflict));
  EXPECT_EQ(r.pending_messages(), 0u);
  EXPECT_EQ(r.buffered_bytes(), 0u);
}

TEST(SmsReassembly, IncompleteMessagesExpire) {
  auto segs = *segment_push(pattern(300), SegmentOptions{.reference = 3});
  ReassemblerLimits lim;
  lim.timeout = 30s;
  Reassembler r(lim);
  const TP t0{};
  ASSERT_TRUE(r.feed("x", segs[0], t0));
  ASSERT_TRUE(r.feed("x", segs[1], t0 + 29s));
  EXPECT_EQ(r.expire(t0 + 29s), 0u);
  EXPECT_EQ(r.expire(t0 + 30s), 1u);
  EXPECT_EQ(r.pending_messages(), 0u);
  // The last part alone, after expiry, starts a new incomplete message.
  auto out = r.feed("x", segs[2], t0 + 31s);
  ASSERT_TRUE(out);
  EXPECT_FALSE(*out);
  EXPECT_EQ(r.pending_messages(), 1u);
  // feed() expires on its own too.
  out = r.feed("y", segs[0], t0 + 61s);
  ASSERT_TRUE(out);
  EXPECT_EQ(r.pending_messages(), 1u);
}

TEST(SmsReassembly, MessageCountBoundEvictsOldest) {
  ReassemblerLimits lim;
  lim.max_messages = 2;
  Reassembler r(lim);
  std::vector<std::vector<Bytes>> msgs;
  for (std::uint16_t ref = 0; ref < 3; ++ref) {
    msgs.push_back(*segment_push(pattern(200 + ref), SegmentOptions{.reference = ref}));
    ASSERT_TRUE(r.feed("x", msgs.back()[0], TP{} + std::chrono::seconds(ref)));
    EXPECT_LE(r.pending_messages(), 2u);
  }
  // Message 0 was evicted: its second part starts a new message rather than completing.
  auto out = r.feed("x", msgs[0][1], TP{} + 5s);
  ASSERT_TRUE(out);
  EXPECT_FALSE(*out);
  // Message 2 survived and completes.
  out = r.feed("x", msgs[2][1], TP{} + 5s);
  ASSERT_TRUE(out);
  ASSERT_TRUE(*out);
  EXPECT_EQ((*out)->payload, pattern(202));
}

TEST(SmsReassembly, ByteBoundAndPartBound) {
  ReassemblerLimits lim;
  lim.max_total_bytes = 300;
  lim.max_parts = 3;
  Reassembler r(lim);
  auto big = *segment_push(pattern(128 * 3), SegmentOptions{.reference = 1});  // 384 > 300
  ASSERT_TRUE(r.feed("x", big[0], TP{}));
  ASSERT_TRUE(r.feed("x", big[1], TP{}));
  auto out = r.feed("x", big[2], TP{});
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error(), make_error_code(errc::sms_reassembly_limit));
  EXPECT_EQ(r.buffered_bytes(), 0u);
  // Two messages that do not fit together: the older one is evicted.
  auto m1 = *segment_push(pattern(250), SegmentOptions{.reference = 2});
  auto m2 = *segment_push(pattern(250), SegmentOptions{.reference = 3});
  ASSERT_TRUE(r.feed("x", m1[0], TP{}));
  ASSERT_TRUE(r.feed("x", m2[0], TP{}));
  ASSERT_TRUE(r.feed("x", m2[1], TP{}));  // 128 + 122 = 250 of m2; m1's 128 had to go
  EXPECT_LE(r.buffered_bytes(), 300u);
  EXPECT_EQ(r.pending_messages(), 0u);  // m2 completed, m1 evicted
  // More parts than allowed.
  auto many = *segment_push(pattern(128 * 4), SegmentOptions{.reference = 4});
  ASSERT_EQ(many.size(), 4u);
  EXPECT_EQ(r.feed("x", many[0], TP{}).error(), make_error_code(errc::sms_reassembly_limit));
}

TEST(SmsReassembly, UnsegmentedPassesThrough) {
  Reassembler r;
  auto out = r.feed("x", hex("0605040B8423F0AABB"), TP{});
  ASSERT_TRUE(out);
  ASSERT_TRUE(*out);
  EXPECT_EQ((*out)->payload, hex("AABB"));
  EXPECT_EQ(r.pending_messages(), 0u);
  DecodeDetail d;
  auto bad = r.feed("x", hex("0705040B8423F0"), TP{}, &d);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), make_error_code(errc::wsp_truncated));
}

}  // namespace
}  // namespace m2mdm::bootstrap::sms
