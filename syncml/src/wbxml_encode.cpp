// WBXML encoding: a direct writer for SyncML 1.2 (no XML text in between).
//  - header 02 A4 01 6A 00: WBXML 1.2 (the version DM uses), public id 0x1201 as mb_u_int32
//    (A4 01), charset UTF-8 (MIBenum 106 = 0x6A), empty string table;
//  - tags from the hand-written SyncML 1.2 / MetInf tables in codec.cpp (code page 0 SyncML,
//    code page 1 MetInf, SWITCH_PAGE only when the page changes), cross-checked against
//    libwbxml's tables by the unit tests;
//  - text as STR_I; Item Data as STR_I when it is valid UTF-8 text, otherwise — or when its Meta
//    Format is bin — as OPAQUE, so binary data survives byte for byte;
//  - NextNonce stays STR_I (base64 text), as xml2wbxml writes it.
#include "codec_internal.hpp"

namespace m2mdm::syncml {
namespace {

using detail::Tag;
using detail::TokenSink;

constexpr std::uint8_t SWITCH_PAGE = 0x00, END = 0x01, STR_I = 0x03, OPAQUE = 0xC3;
constexpr std::uint8_t kContent = 0x40;

class WbxmlSink final : public TokenSink {
 public:
  WbxmlSink() {
    out_.reserve(512);
    out_ = {0x02, 0xA4, 0x01, 0x6A, 0x00};
  }

  void open(Tag t) override { tag(t, true); }
  void close(Tag) override { out_.push_back(END); }
  void empty(Tag t) override { tag(t, false); }
  void leaf(Tag t, std::string_view v, Content content) override {
    if (v.empty()) return tag(t, false);
    const bool text_ok = detail::xml_safe_text(v);
    bool opaque = false;
    switch (content) {
      case Content::Text:
        if (!text_ok) {
          // NextNonce OPAQUE would come back base64-encoded from libwbxml: refuse instead.
          if (t == Tag::NextNonce) failed_ = true;
          opaque = true;
        }
        break;
      case Content::Data: opaque = !text_ok; break;
      case Content::BinaryData: opaque = true; break;
    }
    tag(t, true);
    if (opaque) {
      out_.push_back(OPAQUE);
      mb_uint32(static_cast<std::uint32_t>(v.size()));
      out_.insert(out_.end(), v.begin(), v.end());
    } else {
      out_.push_back(STR_I);
      out_.insert(out_.end(), v.begin(), v.end());
      out_.push_back(0x00);
    }
    out_.push_back(END);
  }

  bool failed() const { return failed_; }
  Bytes& out() { return out_; }

 private:
  Bytes out_;
  std::uint8_t page_ = 0;
  bool failed_ = false;

  void tag(Tag t, bool content) {
    const auto& info = detail::tag_info(t);
    if (info.page != page_) {
      out_.push_back(SWITCH_PAGE);
      out_.push_back(info.page);
      page_ = info.page;
    }
    out_.push_back(static_cast<std::uint8_t>(info.token | (content ? kContent : 0)));
  }
  void mb_uint32(std::uint32_t v) {
    std::uint8_t tmp[5];
    int n = 0;
    do {
      tmp[n++] = static_cast<std::uint8_t>(v & 0x7F);
      v >>= 7;
    } while (v);
    while (n > 1) out_.push_back(static_cast<std::uint8_t>(tmp[--n] | 0x80));
    out_.push_back(tmp[0]);
  }
};

}  // namespace

Result<Bytes> encode_wbxml(const Message& message) {
  WbxmlSink sink;
  detail::serialize(message, sink);
  if (sink.failed()) return fail(make_error_code(errc::encode_failed));
  return std::move(sink.out());
}

}  // namespace m2mdm::syncml
