// Independent cross-check: Wireshark's WSP, WBXML and GSM SMS dissectors (tshark) read the
// pushes m2mdm encodes. A pcapng built here byte by byte holds two interfaces: Ethernet with
// UDP datagrams 9200 -> 2948 (WDP over UDP), and DLT_USER0 mapped to Wireshark's "gsm_sms"
// dissector with SMS-DELIVER TPDUs whose user data comes from sms::segment_push (Wireshark
// parses the UDH, reassembles the concatenated segments and hands the result to WSP).
// One tshark invocation for all packets.
#include "m2mdm/bootstrap/sms.hpp"
#include "m2mdm/bootstrap/wdp.hpp"
#include "m2mdm/bootstrap/wsp.hpp"
#include "m2mdm/test/files.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unistd.h>

namespace m2mdm::bootstrap {
namespace {

constexpr std::string_view kChtMac = "AA2DC41FC48AEEF3FED7351B1EE704461A8894D4";

void le32(Bytes& o, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) o.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void le16(Bytes& o, std::uint16_t v) {
  o.push_back(static_cast<std::uint8_t>(v));
  o.push_back(static_cast<std::uint8_t>(v >> 8));
}
void be16(Bytes& o, std::uint16_t v) {
  o.push_back(static_cast<std::uint8_t>(v >> 8));
  o.push_back(static_cast<std::uint8_t>(v));
}

// One Ethernet/IPv4/UDP frame carrying a WDP datagram from 127.0.0.1 to 127.0.0.1.
Bytes frame(const wdp::Datagram& d) {
  Bytes f = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00};  // dst, src, IPv4
  const auto udp_len = static_cast<std::uint16_t>(8 + d.payload.size());
  Bytes ip = {0x45, 0x00};
  be16(ip, static_cast<std::uint16_t>(20 + udp_len));
  ip.insert(ip.end(), {0x00, 0x01, 0x40, 0x00, 64, 17, 0x00, 0x00, 127, 0, 0, 1, 127, 0, 0, 1});
  std::uint32_t sum = 0;  // RFC 791 header checksum
  for (std::size_t i = 0; i < ip.size(); i += 2) sum += static_cast<std::uint32_t>((ip[i] << 8) | ip[i + 1]);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  ip[10] = static_cast<std::uint8_t>(~sum >> 8);
  ip[11] = static_cast<std::uint8_t>(~sum);
  f.insert(f.end(), ip.begin(), ip.end());
  be16(f, d.src_port);
  be16(f, d.dst_port);
  be16(f, udp_len);
  be16(f, 0);  // no UDP checksum (allowed over IPv4)
  f.insert(f.end(), d.payload.begin(), d.payload.end());
  return f;
}

// An SMS-DELIVER TPDU (3GPP TS 23.040 §9.2.2.1): TP-MTI 00 with TP-UDHI (0x40) and TP-MMS
// (0x04), TP-OA +886900000000, TP-PID 00, TP-DCS 04 (8-bit data), TP-SCTS, TP-UDL, TP-UD.
Bytes sms_deliver(const Bytes& user_data) {
  Bytes t = {0x44, 0x0C, 0x91, 0x88, 0x96, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04,
             0x52, 0x11, 0x52, 0x41, 0x00, 0x00, 0x00};
  t.push_back(static_cast<std::uint8_t>(user_data.size()));
  t.insert(t.end(), user_data.begin(), user_data.end());
  return t;
}

// pcapng (draft-ietf-opsawg-pcapng): SHB, one IDB per link type, EPBs (little-endian).
void block(Bytes& out, std::uint32_t type, const Bytes& body) {
  const auto len = static_cast<std::uint32_t>(12 + body.size());
  le32(out, type);
  le32(out, len);
  out.insert(out.end(), body.begin(), body.end());
  le32(out, len);
}

struct Packet {
  std::uint32_t interface;
  Bytes data;
};

Bytes pcapng(const std::vector<std::uint16_t>& link_types, const std::vector<Packet>& packets) {
  Bytes out;
  Bytes shb;
  le32(shb, 0x1A2B3C4D);  // byte-order magic
  le16(shb, 1);
  le16(shb, 0);
  le32(shb, 0xFFFFFFFF);  // section length unknown
  le32(shb, 0xFFFFFFFF);
  block(out, 0x0A0D0D0A, shb);
  for (std::uint16_t lt : link_types) {
    Bytes idb;
    le16(idb, lt);
    le16(idb, 0);
    le32(idb, 65535);
    block(out, 1, idb);
  }
  std::uint32_t ts = 1700000000;
  for (const auto& p : packets) {
    Bytes epb;
    le32(epb, p.interface);
    const std::uint64_t us = std::uint64_t{ts++} * 1000000u;
    le32(epb, static_cast<std::uint32_t>(us >> 32));
    le32(epb, static_cast<std::uint32_t>(us));
    le32(epb, static_cast<std::uint32_t>(p.data.size()));
    le32(epb, static_cast<std::uint32_t>(p.data.size()));
    epb.insert(epb.end(), p.data.begin(), p.data.end());
    while (epb.size() % 4 != 0) epb.push_back(0);
    block(out, 6, epb);
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

TEST(PushTshark, WiresharkDecodesOurPushes) {
  if (std::system("command -v tshark >/dev/null 2>&1") != 0) GTEST_SKIP() << "tshark not installed";

  const Bytes body = m2mdm::test::slurp_bytes(m2mdm::test::cp_vectors_dir() / "cht-userpin-0000.wbxml");
  ASSERT_EQ(body.size(), 501u);

  // 1: the CP bootstrap (SEC USERPIN, MAC) with the CHT document.
  auto cp = wdp::make_push_datagram(wsp::make_cp_push(0x01, body, wsp::kSecUserpin, std::string(kChtMac)));
  ASSERT_TRUE(cp);
  // 2: a DM notification push (content type 0xC4, X-Wap-Application-Id syncml.dm).
  auto note = wdp::make_push_datagram(wsp::make_dm_notification_push(0x02, Bytes(20, 0x00)));
  ASSERT_TRUE(note);
  // 3: textual media type in the general form with MAC before SEC (NETWPIN vector).
  wsp::PushPdu p3;
  p3.tid = 0x03;
  p3.content_type.media = "application/vnd.wap.connectivity-wbxml";
  p3.content_type.params = {
      wsp::Parameter{wsp::kParamMac, "MAC", wsp::Value::str("1AF545FE2823DC9347064450F90FF1BBF957E146")},
      wsp::Parameter{wsp::kParamSec, "SEC", wsp::Value::num(wsp::kSecNetwpin)}};
  p3.body = {0x03, 0x0B, 0x6A, 0x00, 0x45, 0x01};
  auto text = wdp::make_push_datagram(p3);
  ASSERT_TRUE(text);

  // Over SMS: the notification push in one segment; the CP push in 5 segments with an 8-bit
  // reference (in order) and again with a 16-bit reference (in reverse order).
  auto sms_note = sms::segment_push(note->payload);
  auto sms_cp8 = sms::segment_push(cp->payload, sms::SegmentOptions{.reference = 0x2A});
  auto sms_cp16 = sms::segment_push(cp->payload, sms::SegmentOptions{.reference = 0x1234, .use_16bit_ref = true});
  ASSERT_TRUE(sms_note && sms_cp8 && sms_cp16);
  ASSERT_EQ(sms_note->size(), 1u);
  ASSERT_EQ(sms_cp8->size(), 5u);
  ASSERT_EQ(sms_cp16->size(), 5u);
  std::vector<Packet> packets = {{0, frame(*cp)}, {0, frame(*note)}, {0, frame(*text)}};
  packets.push_back({1, sms_deliver(sms_note->front())});
  for (const auto& s : *sms_cp8) packets.push_back({1, sms_deliver(s)});
  for (auto it = sms_cp16->rbegin(); it != sms_cp16->rend(); ++it) packets.push_back({1, sms_deliver(*it)});

  const auto dir = std::filesystem::temp_directory_path() / ("m2mdm-push-tshark-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "push.pcapng";
  {
    const Bytes cap = pcapng({1 /* LINKTYPE_ETHERNET */, 147 /* LINKTYPE_USER0 */}, packets);
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(cap.data()), static_cast<std::streamsize>(cap.size()));
  }
  const std::string cmd = "tshark -r '" + file.string() +
                          "' -o 'uat:user_dlts:\"User 0 (DLT=147)\",\"gsm_sms\",\"0\",\"\",\"0\",\"\"'"
                          " -T fields -E separator='|' -e frame.number -e wsp.TID -e wsp.pdu_type"
                          " -e wsp.header.content_type -e wsp.parameter.sec -e wsp.parameter.mac"
                          " -e wsp.header.x_wap_application_id -e wbxml.public_id.known -e wbxml.str_i"
                          " -e gsm_sms.destination_port -e gsm_sms.originator_port -e gsm_sms.udh.mm.msg_id"
                          " -e gsm_sms.udh.mm.msg_parts -e gsm_sms.udh.mm.msg_part"
                          " 2>/dev/null";
  std::string output;
  if (FILE* pipe = ::popen(cmd.c_str(), "r")) {
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) output.append(buf.data(), n);
    EXPECT_EQ(::pclose(pipe), 0);
  }
  std::filesystem::remove_all(dir);

  const auto lines = split(output, '\n');
  ASSERT_EQ(lines.size(), packets.size()) << output;
  const auto a = split(lines[0], '|');
  ASSERT_GE(a.size(), 9u) << lines[0];
  EXPECT_EQ(a[1], "0x01");
  EXPECT_EQ(a[2], "0x06");  // Push
  EXPECT_EQ(a[3], "application/vnd.wap.connectivity-wbxml");
  EXPECT_EQ(a[4], "0x01");  // SEC = USERPIN
  EXPECT_EQ(a[5], kChtMac);
  EXPECT_EQ(a[6], "");
  EXPECT_EQ(a[7], "0x0000000b");  // WBXML public id 0x0B: PROV 1.0 -> the WBXML dissector ran
  EXPECT_NE(a[8].find("CHT_emome"), std::string::npos) << a[8];
  EXPECT_NE(a[8].find("http://wap.emome.net/"), std::string::npos) << a[8];

  const auto b = split(lines[1], '|');
  ASSERT_GE(b.size(), 7u) << lines[1];
  EXPECT_EQ(b[2], "0x06");
  EXPECT_EQ(b[3], "application/vnd.syncml.notification");
  EXPECT_EQ(b[6], "x-wap-application:syncml.dm");

  const auto c = split(lines[2], '|');
  ASSERT_GE(c.size(), 8u) << lines[2];
  EXPECT_EQ(c[3], "application/vnd.wap.connectivity-wbxml");
  EXPECT_EQ(c[4], "0x00");  // SEC = NETWPIN, after the MAC
  EXPECT_EQ(c[5], "1AF545FE2823DC9347064450F90FF1BBF957E146");
  EXPECT_EQ(c[7], "0x0000000b");

  // SMS, single segment: ports from IE 0x05, no concatenation, WSP dissected.
  const auto d = split(lines[3], '|');
  ASSERT_GE(d.size(), 11u) << lines[3];  // trailing empty fields are not split out
  EXPECT_EQ(d[3], "application/vnd.syncml.notification");
  EXPECT_EQ(d[6], "x-wap-application:syncml.dm");
  EXPECT_EQ(d[9], "2948");
  EXPECT_EQ(d[10], "9200");
  EXPECT_EQ(d.size() > 11 ? d[11] : std::string(), "");
  // SMS, concatenated: every segment shows ports, reference, total and its number; the WSP
  // push (SEC, MAC) and the WBXML body appear in the frame that completes the reassembly.
  for (std::size_t i = 0; i < 10; ++i) {
    const auto e = split(lines[4 + i], '|');
    ASSERT_GE(e.size(), 14u) << lines[4 + i];
    EXPECT_EQ(e[9], "2948") << i;
    EXPECT_EQ(e[10], "9200") << i;
    EXPECT_EQ(e[11], i < 5 ? "42" : "4660") << i;  // 0x2A, 0x1234
    EXPECT_EQ(e[12], "5") << i;
    EXPECT_EQ(e[13], std::to_string(i < 5 ? i + 1 : 10 - i)) << i;
    const bool completes = i == 4 || i == 9;
    EXPECT_EQ(e[2], completes ? "0x06" : "") << i;
    if (completes) {
      EXPECT_EQ(e[3], "application/vnd.wap.connectivity-wbxml");
      EXPECT_EQ(e[4], "0x01");
      EXPECT_EQ(e[5], kChtMac);
      EXPECT_EQ(e[7], "0x0000000b");
      EXPECT_NE(e[8].find("CHT_emome"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace m2mdm::bootstrap
