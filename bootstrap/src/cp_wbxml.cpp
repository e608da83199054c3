// PROV 1.0 WBXML codec: our token walker (bounds, public id, old value tokens) + libwbxml2's
// conversion API (WBXML <-> XML text) + the libxml2 reader of cp_document.cpp.
// Token values: WAP-192-WBXML 1.3 §5.8 (global tokens), OMA-WAP-ProvCont 1.1 §7 (PROV tables).
#include "m2mdm/bootstrap/cp_document.hpp"

#include "libwbxml_conv.hpp"

#include <wbxml.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace m2mdm::bootstrap {
namespace {

// WBXML 1.3 §5.8.1 global tokens.
constexpr std::uint8_t kSwitchPage = 0x00, kEnd = 0x01, kEntity = 0x02, kStrI = 0x03, kLiteral = 0x04,
                       kExtI0 = 0x40, kExtI2 = 0x42, kPi = 0x43, kLiteralC = 0x44, kExtT0 = 0x80,
                       kExtT2 = 0x82, kStrT = 0x83, kLiteralA = 0x84, kExt0 = 0xC0, kExt2 = 0xC2,
                       kOpaque = 0xC3, kLiteralAC = 0xC4;
constexpr std::uint32_t kPublicIdProv10 = 0x0B;  // "-//WAPFORUM//DTD PROV 1.0//EN"
constexpr std::uint32_t kPublicIdUnknown = 0x01;
constexpr std::string_view kProvFpi = "-//WAPFORUM//DTD PROV 1.0//EN";

class Reader {
 public:
  Reader(ByteView in, const CpLimits& limits) : in_(in), limits_(limits) {}

  Result<Bytes> run() {
    if (in_.size() > limits_.max_bytes) return fail(errc::cp_too_large);
    out_.assign(in_.begin(), in_.end());
    if (auto r = header(); !r) return fail(r.error());
    if (auto r = body(); !r) return fail(r.error());
    if (drop_.empty()) return std::move(out_);
    Bytes compact;
    compact.reserve(out_.size());
    std::size_t next = 0;
    for (std::size_t at : drop_) {
      compact.insert(compact.end(), out_.begin() + static_cast<std::ptrdiff_t>(next),
                     out_.begin() + static_cast<std::ptrdiff_t>(at));
      next = at + 2;
    }
    compact.insert(compact.end(), out_.begin() + static_cast<std::ptrdiff_t>(next), out_.end());
    return compact;
  }

 private:
  ByteView in_;
  const CpLimits& limits_;
  Bytes out_;
  std::size_t pos_ = 0;
  std::uint32_t strtbl_len_ = 0;
  std::size_t strtbl_start_ = 0;
  std::uint8_t attr_page_ = 0;
  std::size_t nodes_ = 0;
  std::vector<std::size_t> drop_;  // offsets of 2-byte SWITCH_PAGEs to remove (ascending)

  /// libwbxml 0.11.8 misreads a SWITCH_PAGE directly followed by another one (it loses the
  /// attribute), so a switch that is immediately superseded is dropped: same meaning.
  void drop_if_superseded(std::size_t switch_at) {
    if (pos_ < in_.size() && in_[pos_] == kSwitchPage) drop_.push_back(switch_at);
  }

  static std::error_code bad() { return make_error_code(errc::cp_bad_wbxml); }

  Result<std::uint8_t> byte() {
    if (pos_ >= in_.size()) return fail(bad());
    return in_[pos_++];
  }
  // WBXML §5.1 mb_u_int32: at most 5 octets, 32 bits.
  Result<std::uint32_t> mb() {
    std::uint64_t v = 0;
    for (int i = 0; i < 5; ++i) {
      auto b = byte();
      if (!b) return fail(b.error());
      v = (v << 7) | (*b & 0x7Fu);
      if ((*b & 0x80u) == 0) {
        if (v > 0xFFFFFFFFu) return fail(bad());
        return static_cast<std::uint32_t>(v);
      }
    }
    return fail(bad());
  }
  Result<void> termstr() {
    while (true) {
      auto b = byte();
      if (!b) return fail(b.error());
      if (*b == 0) return {};
    }
  }
  // WBXML §5.8.4.3 ENTITY: a UCS-4 character code. Only Unicode scalar values XML can carry
  // (libwbxml asserts on codes >= 2^31).
  Result<void> entity() {
    auto e = mb();
    if (!e) return fail(e.error());
    const std::uint32_t c = *e;
    const bool xml_char = c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
                          (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
    if (!xml_char) return fail(bad());
    return {};
  }
  Result<void> strtbl_ref() {
    auto off = mb();
    if (!off) return fail(off.error());
    if (*off >= strtbl_len_) return fail(bad());
    return {};
  }

  Result<void> header() {
    auto version = byte();
    if (!version) return fail(version.error());
    if (*version > 0x03) return fail(bad());
    auto pid = mb();
    if (!pid) return fail(pid.error());
    std::uint32_t pid_index = 0;
    const bool pid_in_table = *pid == 0;
    if (pid_in_table) {
      if (*version == 0x00) return fail(bad());  // WBXML 1.0 has no string-table public id
      auto idx = mb();
      if (!idx) return fail(idx.error());
      pid_index = *idx;
    }
    if (*version >= 0x01) {
      auto charset = mb();
      if (!charset) return fail(charset.error());
      // 0 = unknown, 3 = US-ASCII, 106 = UTF-8: the only ones we hand to libxml2 as UTF-8.
      if (*charset != 0 && *charset != 3 && *charset != 106) return fail(bad());
    }
    auto len = mb();
    if (!len) return fail(len.error());
    if (*len > in_.size() - pos_) return fail(bad());
    strtbl_len_ = *len;
    strtbl_start_ = pos_;
    pos_ += *len;
    if (pid_in_table) {
      if (pid_index >= strtbl_len_) return fail(bad());
      const auto* s = reinterpret_cast<const char*>(in_.data() + strtbl_start_ + pid_index);
      const std::size_t max = strtbl_len_ - pid_index;
      std::string_view fpi(s, strnlen(s, max));
      if (fpi != kProvFpi) return fail(bad());
    } else if (*pid != kPublicIdProv10 && *pid != kPublicIdUnknown) {
      return fail(bad());
    }
    return {};
  }

  // Attribute list up to and including its END (WBXML §5.8.3 attribute production).
  Result<void> attributes() {
    while (true) {
      auto t = byte();
      if (!t) return fail(t.error());
      switch (*t) {
        case kEnd: return {};
        case kSwitchPage: {
          const std::size_t at = pos_ - 1;
          auto p = byte();
          if (!p) return fail(p.error());
          attr_page_ = *p;
          drop_if_superseded(at);
          break;
        }
        case kEntity:
          if (auto r = entity(); !r) return r;
          break;
        case kStrI:
          if (auto r = termstr(); !r) return r;
          break;
        case kLiteral:
          if (auto r = strtbl_ref(); !r) return r;
          break;
        case kStrT:
          if (attr_page_ == 1 && strtbl_len_ == 0) {
            out_[pos_ - 1] = 0x93;  // old page-1 value token 0x83 = "DIGEST" (ProvCont 1.0 table)
            break;
          }
          if (auto r = strtbl_ref(); !r) return r;
          break;
        case kOpaque: {
          auto n = mb();
          if (!n) return fail(n.error());
          if (*n > in_.size() - pos_) return fail(bad());
          pos_ += *n;
          break;
        }
        default:
          if (*t >= kExtI0 && *t <= kExtI2) {
            if (auto r = termstr(); !r) return r;
          } else if (*t >= kExtT0 && *t <= kExtT2) {
            if (attr_page_ == 1) {
              // Old value tokens 0x80-0x82 (',', "HTTP-", "BASIC") now sit at 0x90-0x92; PROV
              // defines no EXT_T use, so on page 1 these octets can only be the old tokens.
              out_[pos_ - 1] = static_cast<std::uint8_t>(*t + 0x10);
              break;
            }
            auto e = mb();
            if (!e) return fail(e.error());
          } else if (*t == kPi || *t == kLiteralA || *t == kLiteralC || *t == kLiteralAC) {
            return fail(bad());
          }
          // otherwise an attribute start (< 0x80) or value (>= 0x85) token of the current page
          break;
      }
    }
  }

  Result<void> body() {
    std::size_t depth = 0;  // open elements with content
    bool seen_root = false;
    while (pos_ < in_.size()) {
      auto t = byte();
      if (!t) return fail(t.error());
      if (*t == kSwitchPage) {
        const std::size_t at = pos_ - 1;
        if (auto p = byte(); !p) return fail(p.error());
        drop_if_superseded(at);
        continue;
      }
      if (*t == kPi) {  // PI: attrStart attribute* END
        if (auto r = attributes(); !r) return r;
        continue;
      }
      if (depth == 0 && seen_root) return fail(bad());  // trailing element after the root
      if (*t == kEnd) {
        if (depth == 0) return fail(bad());
        --depth;
        if (depth == 0) {
          // only PIs may follow the root element
          while (pos_ < in_.size()) {
            auto u = byte();
            if (!u || *u != kPi) return fail(bad());
            if (auto r = attributes(); !r) return r;
          }
          return {};
        }
        continue;
      }
      if (*t == kEntity) {
        if (depth == 0) return fail(bad());
        if (auto r = entity(); !r) return r;
        continue;
      }
      if (*t == kStrI || (*t >= kExtI0 && *t <= kExtI2)) {
        if (depth == 0) return fail(bad());
        if (auto r = termstr(); !r) return r;
        continue;
      }
      if (*t == kStrT || (*t >= kExtT0 && *t <= kExtT2)) {
        if (depth == 0) return fail(bad());
        if (*t == kStrT) {
          if (auto r = strtbl_ref(); !r) return r;
        } else if (auto e = mb(); !e) {
          return fail(e.error());
        }
        continue;
      }
      if (*t == kOpaque) {
        if (depth == 0) return fail(bad());
        auto n = mb();
        if (!n) return fail(n.error());
        if (*n > in_.size() - pos_) return fail(bad());
        pos_ += *n;
        continue;
      }
      if (*t >= kExt0 && *t <= kExt2) {
        if (depth == 0) return fail(bad());
        continue;
      }
      // A tag: literal or tokenised, bit 7 = attributes follow, bit 6 = content follows.
      if (*t == kLiteral || *t == kLiteralA || *t == kLiteralC || *t == kLiteralAC) {
        if (auto r = strtbl_ref(); !r) return r;
      }
      if (++nodes_ > limits_.max_nodes) return fail(errc::cp_too_large);
      seen_root = true;
      if ((*t & 0x80u) != 0) {
        if (auto r = attributes(); !r) return r;
      }
      if ((*t & 0x40u) != 0) {
        ++depth;
        // wap-provisioningdoc + max_depth characteristics, each holding parms
        if (depth > limits_.max_depth + 2) return fail(errc::cp_too_deep);
      } else if (depth == 0) {
        // an empty root element: the document is complete
        while (pos_ < in_.size()) {
          auto u = byte();
          if (!u || *u != kPi) return fail(bad());
          if (auto r = attributes(); !r) return r;
        }
        return {};
      }
    }
    return fail(bad());  // ended inside an element (or no root at all)
  }
};

}  // namespace

bool looks_like_cp_wbxml(ByteView data) noexcept {
  return data.size() >= 4 && data[0] <= 0x03 && (data[1] == kPublicIdProv10 || data[1] == kPublicIdUnknown ||
                                                  (data[1] == 0x00 && data[0] != 0x00));
}

Result<Bytes> normalize_cp_wbxml(ByteView wbxml, const CpLimits& limits) {
  return Reader(wbxml, limits).run();
}

Result<ProvisioningDoc> decode_cp_wbxml(ByteView wbxml, const CpLimits& limits) {
  auto norm = normalize_cp_wbxml(wbxml, limits);
  if (!norm) return fail(norm.error());
  // Public id 0x01 (unknown) is decoded with the PROV 1.0 tables too.
  const detail::XmlOutput output{.language = WBXML_LANG_PROV10, .indent = false, .utf8 = true};
  auto xml = detail::wbxml_to_xml(*norm, output, errc::cp_bad_wbxml);
  if (!xml) return fail(xml.error());
  // The XML libwbxml writes can be longer than the WBXML; bound it by the document limits.
  CpLimits xml_limits = limits;
  xml_limits.max_bytes = limits.max_bytes * 16 + 4096;
  return parse_cp_xml(*xml, xml_limits);
}

Result<Bytes> encode_cp_wbxml(const ProvisioningDoc& doc) {
  // No string table, so the header is 03 0B 6A 00 (ProvBoot receivers vary in string-table support).
  auto bytes = detail::xml_to_wbxml13(to_cp_xml(doc), errc::cp_encode_failed);
  if (!bytes) return bytes;
  const Bytes& b = *bytes;
  if (b.size() < 4 || b[0] != 0x03 || b[1] != 0x0B || b[2] != 0x6A || b[3] != 0x00)
    return fail(errc::cp_encode_failed);
  return bytes;
}

}  // namespace m2mdm::bootstrap
