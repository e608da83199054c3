// WBXML decoding: a bounds-checking pre-scan of our own, then libwbxml's SAX parser straight
// into the codec's element tree (no XML text in between), then the same strict walk as XML.
//
// Why the pre-scan: libwbxml's parser recurses once per nested element with no limit (a few
// hundred kilobytes of 0x6D bytes overflow the stack: wbxml2xml crashes on such input) and in
// best-effort mode turns unknown tokens into an element named "unknown". The scan (one linear
// pass, no allocation) enforces DecodeLimits (size, depth), checks every length and index against
// the buffer, refuses what SyncML DM does not use (attributes, literal tags, extension tokens,
// processing instructions, mixed content, code pages other than 0 SyncML and 1 MetInf) and
// reports "byte N" plus the element path. Only input that passes reaches libwbxml.
//
// Public id (WBXML 1.2 §5.5): 0x1201 (SyncML 1.2), the unknown id 0x01, or a string-table
// reference to "-//SYNCML//DTD SyncML 1.2//EN" (compared case-insensitively). In every case the
// parser is forced to libwbxml's SyncML 1.2 language.
//
// OPAQUE content: libwbxml hands OPAQUE bytes to the characters callback unchanged (binary Data
// survives byte for byte), except under MetInf NextNonce, which it base64-encodes; that matches
// the model (next_nonce holds the base64 text, as in XML).
#include "codec_internal.hpp"
#include "wbxml_abi.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

namespace m2mdm::syncml {
namespace {

using detail::Node;
using detail::Space;
using detail::Tag;

constexpr std::uint32_t kPublicIdSyncml12 = 0x1201;
constexpr std::uint32_t kPublicIdUnknown = 0x01;
constexpr std::uint32_t kPublicIdSyncml10 = 0x0FD1;
constexpr std::uint32_t kPublicIdSyncml11 = 0x0FD3;
constexpr std::string_view kPublicIdText = "-//SYNCML//DTD SyncML 1.2//EN";

// WBXML 1.3 §7 global tokens.
constexpr std::uint8_t SWITCH_PAGE = 0x00, END = 0x01, ENTITY = 0x02, STR_I = 0x03, LITERAL = 0x04,
                       EXT_I_0 = 0x40, EXT_I_2 = 0x42, PI = 0x43, LITERAL_C = 0x44, EXT_T_0 = 0x80,
                       EXT_T_2 = 0x82, STR_T = 0x83, LITERAL_A = 0x84, EXT_0 = 0xC0, EXT_2 = 0xC2,
                       OPAQUE = 0xC3, LITERAL_AC = 0xC4;

struct ScanError {
  errc code;
  std::string what;
  std::size_t at;
};

class Scanner {
 public:
  Scanner(ByteView b, const DecodeLimits& lim) : b_(b), lim_(lim) {}

  // Returns true on success; on failure err_ is set.
  bool run() {
    try {
      header();
      body();
      return true;
    } catch (ScanError& e) {
      err_ = std::move(e);
      return false;
    }
  }

  const ScanError& error() const { return err_; }
  std::string path() const {
    std::string p;
    for (Tag t : stack_) {
      if (!p.empty()) p += '/';
      p += detail::tag_info(t).name;
    }
    return p;
  }

 private:
  ByteView b_;
  const DecodeLimits& lim_;
  std::size_t pos_ = 0;
  std::size_t strtbl_start_ = 0, strtbl_len_ = 0;
  std::vector<Tag> stack_;
  std::vector<std::uint8_t> state_;  // per open element: bit0 has text, bit1 has child element
  ScanError err_{};

  [[noreturn]] void fail(errc c, std::string what, std::size_t at) { throw ScanError{c, std::move(what), at}; }
  [[noreturn]] void truncated() {
    fail(errc::truncated, stack_.empty() ? "input ends inside the header"
                                         : "input ends inside <" + std::string(detail::tag_info(stack_.back()).name) + ">",
         b_.size());
  }

  std::uint8_t byte() {
    if (pos_ >= b_.size()) truncated();
    return b_[pos_++];
  }
  std::uint32_t mb_uint32() {
    const std::size_t start = pos_;
    std::uint64_t v = 0;
    for (int i = 0; i < 5; ++i) {
      const std::uint8_t c = byte();
      v = (v << 7) | (c & 0x7F);
      if (!(c & 0x80)) {
        if (v > 0xFFFFFFFFu) fail(errc::malformed_wbxml, "mb_u_int32 out of range", start);
        return static_cast<std::uint32_t>(v);
      }
    }
    fail(errc::malformed_wbxml, "mb_u_int32 longer than 5 bytes", start);
  }

  void header() {
    const std::uint8_t version = byte();
    if (version < 0x01 || version > 0x03)
      fail(errc::malformed_wbxml, "WBXML version byte " + std::to_string(version) + " (expected 1.1-1.3)", 0);
    const std::size_t pid_at = pos_;
    std::uint32_t public_id = mb_uint32();
    std::optional<std::uint32_t> pid_index;
    if (public_id == 0) pid_index = mb_uint32();
    const std::size_t cs_at = pos_;
    const std::uint32_t charset = mb_uint32();
    if (charset != 106 && charset != 0)  // UTF-8 (IANA MIBenum 106) or unknown, meaning UTF-8
      fail(errc::malformed_wbxml, "charset MIBenum " + std::to_string(charset) + " is not UTF-8", cs_at);
    strtbl_len_ = mb_uint32();
    strtbl_start_ = pos_;
    if (strtbl_len_ > b_.size() - pos_) truncated();
    pos_ += strtbl_len_;
    if (pid_index) {
      const std::string_view s = strtbl_string(*pid_index, pid_at);
      if (s.size() != kPublicIdText.size() || !std::equal(s.begin(), s.end(), kPublicIdText.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          }))
        fail(errc::malformed_wbxml, "public id '" + std::string(s.substr(0, 64)) + "' is not SyncML 1.2", pid_at);
    } else if (public_id == kPublicIdSyncml10 || public_id == kPublicIdSyncml11) {
      fail(errc::unsupported_version, "public id of SyncML 1.0/1.1; only SyncML 1.2 (0x1201) is spoken", pid_at);
    } else if (public_id != kPublicIdSyncml12 && public_id != kPublicIdUnknown) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%X", public_id);
      fail(errc::malformed_wbxml, std::string("public id ") + hex + " is not SyncML 1.2 (0x1201)", pid_at);
    }
  }

  std::string_view strtbl_string(std::uint32_t index, std::size_t at) {
    if (index >= strtbl_len_) fail(errc::malformed_wbxml, "string table index out of range", at);
    const char* base = reinterpret_cast<const char*>(b_.data()) + strtbl_start_;
    std::size_t end = index;
    while (end < strtbl_len_ && base[end] != '\0') ++end;
    return {base + index, end - index};
  }

  void text_here(std::size_t at) {
    if (stack_.empty()) fail(errc::malformed_wbxml, "content outside the root element", at);
    if (state_.back() & 2) fail(errc::malformed_wbxml, "text after a child element (mixed content)", at);
    state_.back() |= 1;
  }

  void body() {
    int page = 0;
    bool root_done = false;
    while (pos_ < b_.size()) {
      const std::size_t at = pos_;
      const std::uint8_t t = b_[pos_++];
      if (root_done) fail(errc::malformed_wbxml, "data after the root element", at);
      switch (t) {
        case SWITCH_PAGE:
          page = byte();
          continue;
        case END:
          if (stack_.empty()) fail(errc::malformed_wbxml, "END without an open element", at);
          stack_.pop_back();
          state_.pop_back();
          if (stack_.empty()) root_done = true;
          continue;
        case ENTITY: {
          // WBXML §5.8.4.3: a UCS-4 character code. Only characters XML can carry are taken
          // (libwbxml asserts, i.e. aborts the process, on codes >= 2^31).
          text_here(at);
          const std::uint32_t c = mb_uint32();
          const bool xml_char = c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
                                (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
          if (!xml_char) fail(errc::malformed_wbxml, "ENTITY code is not an XML character", at);
          continue;
        }
        case STR_I: {
          text_here(at);
          const void* nul = std::memchr(b_.data() + pos_, 0, b_.size() - pos_);
          if (!nul) truncated();
          pos_ = static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - b_.data()) + 1;
          continue;
        }
        case STR_T: {
          text_here(at);
          const std::uint32_t idx = mb_uint32();
          if (idx >= strtbl_len_) fail(errc::malformed_wbxml, "string table index out of range", at);
          continue;
        }
        case OPAQUE: {
          text_here(at);
          const std::uint32_t len = mb_uint32();
          if (len > b_.size() - pos_) truncated();
          pos_ += len;
          continue;
        }
        case LITERAL:
        case LITERAL_A:
        case LITERAL_C:
        case LITERAL_AC:
          fail(errc::unknown_element, "literal (string-table named) element", at);
        case PI:
          fail(errc::malformed_wbxml, "processing instructions are not used in SyncML", at);
        default:
          break;
      }
      if ((t >= EXT_I_0 && t <= EXT_I_2) || (t >= EXT_T_0 && t <= EXT_T_2) || (t >= EXT_0 && t <= EXT_2))
        fail(errc::malformed_wbxml, "extension tokens are not used in SyncML", at);
      // A tag token.
      if (t & 0x80) fail(errc::malformed_wbxml, "attributes are not used in SyncML", at);
      const Tag tag = detail::tag_from_token(static_cast<std::uint8_t>(page), t & 0x3F);
      if (tag == Tag::Unknown) {
        char tok[32];
        std::snprintf(tok, sizeof tok, "token 0x%02X on code page %d", t & 0x3F, page);
        fail(errc::unknown_element, std::string("unknown element: ") + tok, at);
      }
      if (!stack_.empty()) {
        if (state_.back() & 1) fail(errc::malformed_wbxml, "element after text (mixed content)", at);
        state_.back() |= 2;
      }
      if (t & 0x40) {
        if (stack_.size() >= lim_.max_depth)
          fail(errc::too_deep, "elements nested deeper than " + std::to_string(lim_.max_depth), at);
        stack_.push_back(tag);
        state_.push_back(0);
      } else if (stack_.empty()) {
        root_done = true;
      }
    }
    if (!stack_.empty() || !root_done) truncated();
  }
};

// ----- libwbxml SAX → Node tree ------------------------------------------------------------

struct Builder {
  Node root;
  std::vector<Node*> stack;
  bool started = false;
  bool bad = false;
};

void on_start(void* ctx, WBXMLTag* tag, WBXMLAttribute**, WB_BOOL) {
  auto* b = static_cast<Builder*>(ctx);
  Node* n = nullptr;
  if (!b->started) {
    b->started = true;
    n = &b->root;
  } else if (b->stack.empty()) {
    b->bad = true;
    return;
  } else {
    b->stack.back()->children.emplace_back();
    n = &b->stack.back()->children.back();
  }
  if (tag && tag->type == WBXML_VALUE_TOKEN && tag->u.token) {
    const auto* e = tag->u.token;
    n->tag = detail::tag_from_token(e->wbxmlCodePage, e->wbxmlToken);
    n->space = e->wbxmlCodePage == 1 ? Space::MetInf : Space::SyncML;
  } else {
    n->tag = Tag::Unknown;
    n->space = Space::Other;
  }
  if (n->tag != Tag::Unknown) n->name = detail::tag_info(n->tag).name;
  else if (tag) n->name = reinterpret_cast<const char*>(wbxml_tag_get_xml_name(tag));
  b->stack.push_back(n);
}

void on_end(void* ctx, WBXMLTag*, WB_BOOL) {
  auto* b = static_cast<Builder*>(ctx);
  if (b->stack.empty()) {
    b->bad = true;
    return;
  }
  b->stack.pop_back();
}

void on_characters(void* ctx, WB_UTINY* ch, WB_ULONG start, WB_ULONG length) {
  auto* b = static_cast<Builder*>(ctx);
  if (b->stack.empty()) return;
  Node* n = b->stack.back();
  const char* p = reinterpret_cast<const char*>(ch) + start;
  n->text.append(p, length);
  if (!n->has_text)
    for (WB_ULONG i = 0; i < length; ++i)
      if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') {
        n->has_text = true;
        break;
      }
}

struct ParserDeleter {
  void operator()(WBXMLParser* p) const { wbxml_parser_destroy(p); }
};

}  // namespace

Result<Message> decode_wbxml(ByteView bytes, const DecodeLimits& limits, DecodeError* error) {
  using detail::decode_fail;
  if (bytes.size() > limits.max_bytes || bytes.size() > 0x7FFFFFFFu)
    return decode_fail(error, errc::too_large,
                       "message of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                           std::to_string(limits.max_bytes),
                       "byte " + std::to_string(limits.max_bytes));
  if (bytes.empty()) return decode_fail(error, errc::truncated, "empty message", "byte 0");

  Scanner scan(bytes, limits);
  if (!scan.run()) {
    const auto& e = scan.error();
    std::string where = "byte " + std::to_string(e.at);
    if (const std::string p = scan.path(); !p.empty()) where += " (" + p + ")";
    return decode_fail(error, e.code, e.what, std::move(where));
  }

  std::unique_ptr<WBXMLParser, ParserDeleter> parser(wbxml_parser_create());
  if (!parser) return decode_fail(error, errc::malformed_wbxml, "cannot create a WBXML parser", "");
  Builder b;
  WBXMLContentHandler handler{nullptr, nullptr, on_start, on_end, on_characters, nullptr};
  wbxml_parser_set_user_data(parser.get(), &b);
  wbxml_parser_set_content_handler(parser.get(), &handler);
  wbxml_parser_set_language(parser.get(), WBXML_LANG_SYNCML_SYNCML12);
  // libwbxml copies the input into its own buffer; it does not modify ours.
  const WBXMLError rc = wbxml_parser_parse(parser.get(), const_cast<WB_UTINY*>(bytes.data()),
                                           static_cast<WB_ULONG>(bytes.size()));
  if (rc != WBXML_OK || b.bad || !b.started || !b.stack.empty()) {
    const WB_LONG at = wbxml_parser_get_current_byte_index(parser.get());
    std::string why = rc != WBXML_OK ? std::string("libwbxml: ") + reinterpret_cast<const char*>(wbxml_errors_string(rc))
                                     : std::string("unbalanced elements");
    return decode_fail(error, errc::malformed_wbxml, std::move(why), "byte " + std::to_string(at < 0 ? 0 : at));
  }
  parser.reset();
  return detail::build_message(b.root, limits, error);
}

}  // namespace m2mdm::syncml
