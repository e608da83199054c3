#include "bootstrap_framing.hpp"

#include "cli_support.hpp"
#include "m2mdm/bootstrap/cp_document.hpp"
#include "m2mdm/bootstrap/dm_profile.hpp"
#include "m2mdm/bootstrap/sms.hpp"
#include "m2mdm/bootstrap/wsp.hpp"

#include <cctype>
#include <chrono>
#include <sstream>

namespace m2mdm::cli {
namespace {

using Err = std::unexpected<std::string>;
namespace wsp = bootstrap::wsp;

/// Lines of hex (blank lines and '#' comments ignored); nullopt when the input is not that.
std::optional<std::vector<Bytes>> hex_lines(const Bytes& input) {
  if (input.empty()) return std::nullopt;
  for (std::uint8_t b : input)
    if (!(std::isxdigit(b) || b == '\n' || b == '\r' || b == ' ' || b == '\t' || b == '#')) return std::nullopt;
  std::vector<Bytes> out;
  std::istringstream in(std::string(as_chars(input)));
  std::string line;
  while (std::getline(in, line)) {
    std::string hex;
    for (char c : line) {
      if (c == '#') break;
      if (!std::isspace(static_cast<unsigned char>(c))) hex += c;
    }
    if (hex.empty()) continue;
    auto b = hex_decode(hex);
    if (!b) return std::nullopt;
    out.push_back(std::move(*b));
  }
  if (out.empty()) return std::nullopt;
  return out;
}

bool looks_like_syncml_wbxml(const Bytes& b) {
  // WBXML 1.x, public id 0x1201 (SyncML 1.2: mb_u_int32 A4 01) or 0x01/0x00 (unknown/string table).
  return b.size() >= 4 && b[0] >= 0x01 && b[0] <= 0x03 && ((b[1] == 0xA4 && b[2] == 0x01) || b[1] == 0x9F);
}

std::expected<Unframed, std::string> from_push(const Bytes& pdu, const std::string& framing) {
  bootstrap::DecodeDetail detail;
  auto push = wsp::decode_push(pdu, &detail);
  if (!push) return Err("not a WBXML document or WSP push PDU: " + push.error().message() + " (" +
                        bootstrap::to_string(detail) + ")");
  Unframed u;
  u.framing = framing;
  u.body = push->body;
  const auto& ct = push->content_type;
  if (ct.code == wsp::kCtSyncmlDmWbxml) {
    u.dm_profile = true;
  } else if (ct.code != wsp::kCtConnectivityWbxml) {
    return Err("push content type is not application/vnd.wap.connectivity-wbxml or application/vnd.syncml.dm+wbxml");
  }
  if (auto sec = ct.sec()) {
    std::string name = sec->is_integer() ? std::to_string(*sec->integer) : sec->text;
    auto m = bootstrap::parse_sec_method(name);
    if (!m) return Err("push carries an unknown SEC value '" + name + "'");
    u.sec = *m;
  }
  u.mac = ct.mac();
  return u;
}

}  // namespace

std::expected<void, std::string> frame_cp_bootstrap(const std::string& format, const Bytes& body,
                                                    bootstrap::SecMethod sec, const std::optional<std::string>& mac,
                                                    const std::string& out) {
  if (format == "wbxml") {
    write_file_or_fail(out, body);
    return {};
  }
  auto pdu = wsp::encode_push(wsp::make_cp_push(0x00, body, static_cast<std::uint32_t>(sec), mac));
  if (!pdu) return Err("cannot encode the push PDU: " + pdu.error().message());
  if (format == "push") {
    write_file_or_fail(out, *pdu);
    return {};
  }
  // sms: one segment per line, hex of the TP-User-Data (UDH included), 8-bit data coding.
  bootstrap::sms::SegmentOptions opt;
  opt.reference = static_cast<std::uint16_t>(body.size() % 251 + 1);
  auto segs = bootstrap::sms::segment_push(*pdu, opt);
  if (!segs) return Err("cannot segment the push: " + segs.error().message());
  std::string text;
  for (const auto& s : *segs) text += hex_encode(s, true) + "\n";
  write_file_or_fail(out, text);
  return {};
}

std::expected<Unframed, std::string> unframe_bootstrap(const Bytes& input) {
  if (auto lines = hex_lines(input)) {
    bootstrap::sms::Reassembler r;
    const auto now = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < lines->size(); ++i) {
      bootstrap::DecodeDetail detail;
      auto done = r.feed("file", (*lines)[i], now, &detail);
      if (!done) return Err("SMS segment " + std::to_string(i + 1) + ": " + done.error().message());
      if (*done) {
        if (i + 1 != lines->size()) return Err("SMS segments after a complete message");
        return from_push((*done)->payload, "sms");
      }
    }
    return Err("SMS segments incomplete: " + std::to_string(lines->size()) + " line(s), message not complete");
  }
  if (bootstrap::looks_like_cp_wbxml(input)) return Unframed{input, std::nullopt, std::nullopt, false, "wbxml"};
  if (looks_like_syncml_wbxml(input)) return Unframed{input, std::nullopt, std::nullopt, true, "wbxml"};
  return from_push(input, "push");
}

std::expected<std::string, std::string> body_to_xml(const Unframed& in) {
  if (in.dm_profile) {
    auto xml = bootstrap::dm_bootstrap_to_xml(in.body);
    if (!xml) return Err(xml.error().message());
    return *xml;
  }
  auto doc = bootstrap::decode_cp_wbxml(in.body);
  if (!doc) return Err(doc.error().message());
  return bootstrap::to_cp_xml(*doc);
}

}  // namespace m2mdm::cli
