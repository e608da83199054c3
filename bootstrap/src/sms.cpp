// WAP over SMS framing: WAP-259-WDP Annex A (GSM SMS bearer) and 3GPP TS 23.040 §9.2.3.24
// (user-data header information elements 0x00, 0x04, 0x05, 0x08).
#include "m2mdm/bootstrap/sms.hpp"

#include <algorithm>
#include <utility>

namespace m2mdm::bootstrap::sms {
namespace {

std::unexpected<std::error_code> err(DecodeDetail* d, errc e, std::size_t at, std::string what) {
  if (d != nullptr) {
    d->offset = at;
    d->what = std::move(what);
  }
  return fail(make_error_code(e));
}

void put16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xFF));
}

}  // namespace

Result<std::vector<Bytes>> segment_push(ByteView wsp_pdu, const SegmentOptions& opt) {
  if (wsp_pdu.empty() || opt.max_user_data < 20 || opt.max_user_data > kMaxUserData ||
      (!opt.use_16bit_ref && opt.reference > 0xFF)) {
    return fail(make_error_code(errc::invalid_argument));
  }
  // IE 0x05: application port addressing, 16-bit (TS 23.040 §9.2.3.24.4).
  Bytes port_ie{kIePort16, 4};
  put16(port_ie, opt.dst_port);
  put16(port_ie, opt.src_port);

  std::vector<Bytes> out;
  if (!opt.always_concat && 1 + port_ie.size() + wsp_pdu.size() <= opt.max_user_data) {
    Bytes seg;
    seg.push_back(static_cast<std::uint8_t>(port_ie.size()));
    seg.insert(seg.end(), port_ie.begin(), port_ie.end());
    seg.insert(seg.end(), wsp_pdu.begin(), wsp_pdu.end());
    out.push_back(std::move(seg));
    return out;
  }
  // IE 0x00 (8-bit reference, §9.2.3.24.1) or 0x08 (16-bit reference, §9.2.3.24.8).
  const std::size_t concat_len = opt.use_16bit_ref ? 6 : 5;
  const std::size_t udhl = port_ie.size() + concat_len;
  const std::size_t per = opt.max_user_data - 1 - udhl;
  const std::size_t n = (wsp_pdu.size() + per - 1) / per;
  if (n > 255) return fail(make_error_code(errc::push_too_large));
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    Bytes seg;
    seg.reserve(opt.max_user_data);
    seg.push_back(static_cast<std::uint8_t>(udhl));
    seg.insert(seg.end(), port_ie.begin(), port_ie.end());
    if (opt.use_16bit_ref) {
      seg.push_back(kIeConcat16);
      seg.push_back(4);
      put16(seg, opt.reference);
    } else {
      seg.push_back(kIeConcat8);
      seg.push_back(3);
      seg.push_back(static_cast<std::uint8_t>(opt.reference));
    }
    seg.push_back(static_cast<std::uint8_t>(n));
    seg.push_back(static_cast<std::uint8_t>(i + 1));
    const std::size_t from = i * per;
    const std::size_t len = std::min(per, wsp_pdu.size() - from);
    seg.insert(seg.end(), wsp_pdu.begin() + static_cast<std::ptrdiff_t>(from),
               wsp_pdu.begin() + static_cast<std::ptrdiff_t>(from + len));
    out.push_back(std::move(seg));
  }
  return out;
}

Result<Segment> decode_segment(ByteView ud, DecodeDetail* detail) {
  if (ud.empty()) return err(detail, errc::wsp_truncated, 0, "missing UDHL");
  const std::size_t udh_end = 1 + static_cast<std::size_t>(ud[0]);
  if (udh_end > ud.size()) return err(detail, errc::wsp_truncated, 0, "UDH runs past the end of the user data");
  Segment seg;
  bool have_port = false;
  std::size_t pos = 1;
  while (pos < udh_end) {
    if (pos + 2 > udh_end) return err(detail, errc::sms_bad_udh, pos, "IE header runs past the UDH");
    const std::uint8_t iei = ud[pos];
    const std::size_t len = ud[pos + 1];
    const std::size_t data = pos + 2;
    if (data + len > udh_end) return err(detail, errc::sms_bad_udh, pos, "IE data runs past the UDH");
    auto need_len = [&](std::size_t want) -> Result<void> {
      if (len != want) {
        return err(detail, errc::sms_bad_udh, pos,
                   "IE 0x" + hex_encode(ByteView(&ud[pos], 1)) + " has length " + std::to_string(len) +
                       ", expected " + std::to_string(want));
      }
      return {};
    };
    switch (iei) {
      case kIeConcat8:
      case kIeConcat16: {
        const bool is16 = iei == kIeConcat16;
        if (auto r = need_len(is16 ? 4 : 3); !r) return fail(r.error());
        if (seg.concatenated) return err(detail, errc::sms_bad_udh, pos, "repeated concatenation IE");
        seg.concatenated = true;
        seg.ref16 = is16;
        seg.reference = is16 ? static_cast<std::uint16_t>((ud[data] << 8) | ud[data + 1]) : ud[data];
        seg.total = ud[data + (is16 ? 2 : 1)];
        seg.seq = ud[data + (is16 ? 3 : 2)];
        if (seg.total == 0) return err(detail, errc::sms_bad_udh, data, "concatenation total is 0");
        if (seg.seq == 0 || seg.seq > seg.total) {
          return err(detail, errc::sms_bad_udh, data, "sequence number " + std::to_string(seg.seq) +
                                                          " outside 1.." + std::to_string(seg.total));
        }
        break;
      }
      case kIePort8:
      case kIePort16: {
        const bool is16 = iei == kIePort16;
        if (auto r = need_len(is16 ? 4 : 2); !r) return fail(r.error());
        if (have_port) return err(detail, errc::sms_bad_udh, pos, "repeated port addressing IE");
        have_port = true;
        if (is16) {
          seg.dst_port = static_cast<std::uint16_t>((ud[data] << 8) | ud[data + 1]);
          seg.src_port = static_cast<std::uint16_t>((ud[data + 2] << 8) | ud[data + 3]);
        } else {
          seg.dst_port = ud[data];
          seg.src_port = ud[data + 1];
        }
        break;
      }
      default:
        break;  // TS 23.040 §9.2.3.24: unknown IEs are ignored
    }
    pos = data + len;
  }
  seg.payload.assign(ud.begin() + static_cast<std::ptrdiff_t>(udh_end), ud.end());
  return seg;
}

Reassembler::Reassembler(ReassemblerLimits limits) : limits_(limits) {}

void Reassembler::drop(std::map<Key, Pending>::iterator it) {
  bytes_ -= it->second.bytes;
  pending_.erase(it);
}

bool Reassembler::evict_oldest_except(const Key* keep) {
  auto oldest = pending_.end();
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (keep != nullptr && it->first == *keep) continue;
    if (oldest == pending_.end() || it->second.order < oldest->second.order) oldest = it;
  }
  if (oldest == pending_.end()) return false;
  drop(oldest);
  return true;
}

std::size_t Reassembler::expire(TimePoint now) {
  std::size_t n = 0;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now - it->second.first_seen >= limits_.timeout) {
      auto next = std::next(it);
      drop(it);
      it = next;
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

Result<std::optional<Reassembled>> Reassembler::feed(std::string_view originator, ByteView user_data,
                                                     TimePoint now, DecodeDetail* detail) {
  auto seg = decode_segment(user_data, detail);
  if (!seg) return fail(seg.error());
  return feed(originator, *seg, now);
}

Result<std::optional<Reassembled>> Reassembler::feed(std::string_view originator, const Segment& seg,
                                                     TimePoint now) {
  expire(now);
  if (!seg.concatenated || seg.total == 1) {
    if (seg.seq != 1) return fail(make_error_code(errc::sms_bad_udh));
    return std::optional<Reassembled>(Reassembled{seg.dst_port, seg.src_port, seg.payload});
  }
  if (seg.seq == 0 || seg.seq > seg.total) return fail(make_error_code(errc::sms_bad_udh));
  if (seg.total > limits_.max_parts) return fail(make_error_code(errc::sms_reassembly_limit));
  if (seg.payload.size() > limits_.max_total_bytes) return fail(make_error_code(errc::sms_reassembly_limit));

  Key key{std::string(originator), seg.ref16, seg.reference, seg.total};
  auto it = pending_.find(key);
  if (it != pending_.end()) {
    auto& slot = it->second.parts[seg.seq - 1];
    if (slot) {
      if (*slot == seg.payload) return std::optional<Reassembled>();  // identical duplicate
      drop(it);
      return fail(make_error_code(errc::sms_segment_conflict));
    }
    if (it->second.bytes + seg.payload.size() > limits_.max_total_bytes) {
      drop(it);
      return fail(make_error_code(errc::sms_reassembly_limit));
    }
  } else {
    if (limits_.max_messages == 0) return fail(make_error_code(errc::sms_reassembly_limit));
    while (pending_.size() >= limits_.max_messages && evict_oldest_except(nullptr)) {
    }
    Pending p;
    p.first_seen = now;
    p.order = counter_++;
    p.parts.resize(seg.total);
    it = pending_.emplace(key, std::move(p)).first;
  }
  // Keep the total buffered payload bounded: evict the oldest other messages first.
  while (bytes_ + seg.payload.size() > limits_.max_total_bytes && evict_oldest_except(&key)) {
  }
  it = pending_.find(key);  // evictions never touch `key`, but keep the iterator honest
  Pending& p = it->second;
  p.parts[seg.seq - 1] = seg.payload;
  p.bytes += seg.payload.size();
  bytes_ += seg.payload.size();
  ++p.received;
  if (!p.dst_port && seg.dst_port) {
    p.dst_port = seg.dst_port;
    p.src_port = seg.src_port;
  }
  if (p.received < p.parts.size()) return std::optional<Reassembled>();

  Reassembled done{p.dst_port, p.src_port, {}};
  done.payload.reserve(p.bytes);
  for (const auto& part : p.parts) done.payload.insert(done.payload.end(), part->begin(), part->end());
  drop(it);
  return std::optional<Reassembled>(std::move(done));
}

}  // namespace m2mdm::bootstrap::sms
