// Independent cross-check: Wireshark's WSP and WBXML dissectors (tshark) read the pushes m2mdm
// encodes. The pushes travel as UDP datagrams 9200 -> 2948 in a pcap built here byte by byte
// (pcap global header, Ethernet II, IPv4, UDP). One tshark invocation for all packets.
#include "m2mdm/bootstrap/wdp.hpp"
#include "m2mdm/bootstrap/wsp.hpp"

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

Bytes pcap(const std::vector<wdp::Datagram>& ds) {
  Bytes p;
  le32(p, 0xA1B2C3D4);  // microsecond pcap, written little-endian
  le16(p, 2);
  le16(p, 4);
  le32(p, 0);
  le32(p, 0);
  le32(p, 65535);
  le32(p, 1);  // LINKTYPE_ETHERNET
  std::uint32_t ts = 1700000000;
  for (const auto& d : ds) {
    const Bytes f = frame(d);
    le32(p, ts++);
    le32(p, 0);
    le32(p, static_cast<std::uint32_t>(f.size()));
    le32(p, static_cast<std::uint32_t>(f.size()));
    p.insert(p.end(), f.begin(), f.end());
  }
  return p;
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

  std::ifstream f(std::string(M2MDM_SHARED_DIR) + "/vectors/cp/cht-userpin-0000.wbxml", std::ios::binary);
  const Bytes body((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
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

  const auto dir = std::filesystem::temp_directory_path() / ("m2mdm-push-tshark-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "push.pcap";
  {
    const Bytes cap = pcap({*cp, *note, *text});
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(cap.data()), static_cast<std::streamsize>(cap.size()));
  }
  const std::string cmd = "tshark -r '" + file.string() +
                          "' -T fields -E separator='|' -e frame.number -e wsp.TID -e wsp.pdu_type"
                          " -e wsp.header.content_type -e wsp.parameter.sec -e wsp.parameter.mac"
                          " -e wsp.header.x_wap_application_id -e wbxml.public_id.known -e wbxml.str_i"
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
  ASSERT_EQ(lines.size(), 3u) << output;
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
}

}  // namespace
}  // namespace m2mdm::bootstrap
