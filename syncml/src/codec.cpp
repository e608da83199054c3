// The codec entry points shared by both encodings: tag table, encoding detection, dispatch, and
// the model→token serializer both encoders drive (elements in DTD order).
#include "codec_internal.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <string_view>

namespace m2mdm::syncml {
namespace detail {
namespace {

// SyncML RepPro 1.2 WBXML code page 0 and MetInf 1.2 code page 1 (see codec_internal.hpp).
constexpr std::array<TagInfo, static_cast<std::size_t>(Tag::Unknown) + 1> kTags{{
    {"Add", 0, 0x05},        {"Alert", 0, 0x06},      {"Atomic", 0, 0x08},
    {"Chal", 0, 0x09},       {"Cmd", 0, 0x0A},        {"CmdID", 0, 0x0B},
    {"CmdRef", 0, 0x0C},     {"Copy", 0, 0x0D},       {"Cred", 0, 0x0E},
    {"Data", 0, 0x0F},       {"Delete", 0, 0x10},     {"Exec", 0, 0x11},
    {"Final", 0, 0x12},      {"Get", 0, 0x13},        {"Item", 0, 0x14},
    {"Lang", 0, 0x15},       {"LocName", 0, 0x16},    {"LocURI", 0, 0x17},
    {"Meta", 0, 0x1A},       {"MsgID", 0, 0x1B},      {"MsgRef", 0, 0x1C},
    {"NoResp", 0, 0x1D},     {"Replace", 0, 0x20},    {"RespURI", 0, 0x21},
    {"Results", 0, 0x22},    {"Sequence", 0, 0x24},   {"SessionID", 0, 0x25},
    {"Source", 0, 0x27},     {"SourceRef", 0, 0x28},  {"Status", 0, 0x29},
    {"SyncBody", 0, 0x2B},   {"SyncHdr", 0, 0x2C},    {"SyncML", 0, 0x2D},
    {"Target", 0, 0x2E},     {"TargetRef", 0, 0x2F},  {"VerDTD", 0, 0x31},
    {"VerProto", 0, 0x32},   {"MoreData", 0, 0x34},   {"Correlator", 0, 0x3C},
    {"EMI", 1, 0x06},        {"Format", 1, 0x07},     {"Mark", 1, 0x0B},
    {"MaxMsgSize", 1, 0x0C}, {"NextNonce", 1, 0x10},  {"Size", 1, 0x12},
    {"Type", 1, 0x13},       {"Version", 1, 0x14},    {"MaxObjSize", 1, 0x15},
    {"?", 0xFF, 0xFF},
}};

// Direct lookup by (page, token): tokens are 6 bits.
constexpr std::array<std::array<Tag, 64>, 2> make_token_index() {
  std::array<std::array<Tag, 64>, 2> idx{};
  for (auto& page : idx)
    for (auto& t : page) t = Tag::Unknown;
  for (std::size_t i = 0; i + 1 < kTags.size(); ++i) idx[kTags[i].page][kTags[i].token] = static_cast<Tag>(i);
  return idx;
}
constexpr auto kTokenIndex = make_token_index();

// The XML decoder looks up every element's name: (page, name) pairs sorted at compile time for a
// binary search (names as string_views, their lengths computed once).
struct NameEntry {
  std::uint8_t page;
  std::string_view name;
  Tag tag;
  constexpr bool operator<(const NameEntry& o) const { return page != o.page ? page < o.page : name < o.name; }
};
constexpr std::array<NameEntry, kTags.size() - 1> make_name_index() {
  std::array<NameEntry, kTags.size() - 1> idx{};
  for (std::size_t i = 0; i + 1 < kTags.size(); ++i) idx[i] = {kTags[i].page, kTags[i].name, static_cast<Tag>(i)};
  std::sort(idx.begin(), idx.end());
  return idx;
}
constexpr auto kNameIndex = make_name_index();

}  // namespace

const TagInfo& tag_info(Tag t) noexcept { return kTags[static_cast<std::size_t>(t)]; }

Tag tag_from_name(std::string_view name, int page) noexcept {
  if (page < 0 || page > 1) return Tag::Unknown;
  const NameEntry key{static_cast<std::uint8_t>(page), name, Tag::Unknown};
  const auto* it = std::lower_bound(kNameIndex.begin(), kNameIndex.end(), key);
  return it != kNameIndex.end() && it->page == key.page && it->name == name ? it->tag : Tag::Unknown;
}

Tag tag_from_token(std::uint8_t page, std::uint8_t token) noexcept {
  if (page > 1 || token >= 64) return Tag::Unknown;
  return kTokenIndex[page][token];
}

std::unexpected<std::error_code> decode_fail(DecodeError* out, errc code, std::string what, std::string where) {
  if (out) {
    out->code = code;
    out->what = std::move(what);
    out->where = std::move(where);
  }
  return std::unexpected(make_error_code(code));
}

bool xml_safe_text(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned c = p[i];
    if (c < 0x80) {
      if (c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D) return false;
      ++i;
      continue;
    }
    std::uint32_t cp = 0;
    std::size_t len = 0;
    if ((c & 0xE0) == 0xC0) { cp = c & 0x1F; len = 2; }
    else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; len = 3; }
    else if ((c & 0xF8) == 0xF0) { cp = c & 0x07; len = 4; }
    else return false;
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, surrogates, out of range, and the two non-characters XML excludes.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF || cp == 0xFFFE || cp == 0xFFFF) return false;
    i += len;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Model → tokens, in the element order of the SyncML RepPro 1.2 DTD (DM_RepPro 1.2 §6).
namespace {

using Content = TokenSink::Content;

void put_meta(const Meta& m, TokenSink& s) {
  if (m.empty()) {
    s.empty(Tag::Meta);
    return;
  }
  // MetInf 1.2 DTD: (Format?, Type?, Mark?, Size?, Anchor?, Version?, NextNonce?, MaxMsgSize?,
  // MaxObjSize?, EMI*, Mem?, ...)
  s.open(Tag::Meta);
  if (m.format) s.leaf(Tag::Format, *m.format, Content::Text);
  if (m.type) s.leaf(Tag::Type, *m.type, Content::Text);
  if (m.mark) s.leaf(Tag::Mark, *m.mark, Content::Text);
  if (m.size) s.leaf(Tag::Size, std::to_string(*m.size), Content::Text);
  if (m.version) s.leaf(Tag::Version, *m.version, Content::Text);
  if (m.next_nonce) s.leaf(Tag::NextNonce, *m.next_nonce, Content::Text);
  if (m.max_msg_size) s.leaf(Tag::MaxMsgSize, std::to_string(*m.max_msg_size), Content::Text);
  if (m.max_obj_size) s.leaf(Tag::MaxObjSize, std::to_string(*m.max_obj_size), Content::Text);
  for (const auto& e : m.emi) s.leaf(Tag::EMI, e, Content::Text);
  s.close(Tag::Meta);
}

void put_location(Tag t, const Location& l, TokenSink& s) {
  s.open(t);
  s.leaf(Tag::LocURI, l.loc_uri, Content::Text);
  if (l.loc_name) s.leaf(Tag::LocName, *l.loc_name, Content::Text);
  s.close(t);
}

void put_cred(const Cred& c, TokenSink& s) {
  s.open(Tag::Cred);  // (Meta?, Data)
  if (!c.meta.empty()) put_meta(c.meta, s);
  s.leaf(Tag::Data, c.data, Content::Text);
  s.close(Tag::Cred);
}

void put_item(const Item& it, const std::optional<Meta>& cmd_meta, TokenSink& s) {
  s.open(Tag::Item);  // (Target?, Source?, Meta?, Data?, MoreData?)
  if (it.target) put_location(Tag::Target, *it.target, s);
  if (it.source) put_location(Tag::Source, *it.source, s);
  if (it.meta) put_meta(*it.meta, s);
  if (it.data) {
    const std::optional<std::string>* format = nullptr;
    if (it.meta && it.meta->format) format = &it.meta->format;
    else if (cmd_meta && cmd_meta->format) format = &cmd_meta->format;
    const bool bin = format && **format == "bin";
    s.leaf(Tag::Data, *it.data, bin ? Content::BinaryData : Content::Data);
  }
  if (it.more_data) s.empty(Tag::MoreData);
  s.close(Tag::Item);
}

void put_items(const std::vector<Item>& items, const std::optional<Meta>& cmd_meta, TokenSink& s) {
  for (const auto& it : items) put_item(it, cmd_meta, s);
}

void put_command(const Command& c, TokenSink& s);

// CmdID, NoResp?: how Alert, Add/Copy/Delete/Exec/Get/Replace, Atomic and Sequence begin.
void put_head(std::uint32_t cmd_id, bool no_resp, TokenSink& s) {
  s.leaf(Tag::CmdID, std::to_string(cmd_id), Content::Text);
  if (no_resp) s.empty(Tag::NoResp);
}

Tag tag_of(CommandKind k) {
  switch (k) {
    case CommandKind::Add: return Tag::Add;
    case CommandKind::Alert: return Tag::Alert;
    case CommandKind::Atomic: return Tag::Atomic;
    case CommandKind::Copy: return Tag::Copy;
    case CommandKind::Delete: return Tag::Delete;
    case CommandKind::Exec: return Tag::Exec;
    case CommandKind::Get: return Tag::Get;
    case CommandKind::Replace: return Tag::Replace;
    case CommandKind::Results: return Tag::Results;
    case CommandKind::Sequence: return Tag::Sequence;
    case CommandKind::Status: return Tag::Status;
  }
  return Tag::Unknown;
}

struct CommandWriter {
  TokenSink& s;

  void operator()(const Alert& a) const {
    // (CmdID, NoResp?, Cred?, Data?, Correlator?, Item*)
    s.open(Tag::Alert);
    put_head(a.cmd_id, a.no_resp, s);
    if (a.cred) put_cred(*a.cred, s);
    if (a.data) s.leaf(Tag::Data, std::to_string(*a.data), Content::Text);
    if (a.correlator) s.leaf(Tag::Correlator, *a.correlator, Content::Text);
    put_items(a.items, std::nullopt, s);
    s.close(Tag::Alert);
  }
  void operator()(const ItemCommand& c) const {
    // Get: (CmdID, NoResp?, Lang?, Cred?, Meta?, Item+)
    // Exec: (CmdID, NoResp?, Cred?, Meta?, Correlator?, Item)
    // Add/Copy/Delete/Replace: (CmdID, NoResp?, Cred?, Meta?, Item+)
    const Tag t = tag_of(c.kind);
    s.open(t);
    put_head(c.cmd_id, c.no_resp, s);
    if (c.lang) s.leaf(Tag::Lang, *c.lang, Content::Text);
    if (c.cred) put_cred(*c.cred, s);
    if (c.meta) put_meta(*c.meta, s);
    if (c.correlator) s.leaf(Tag::Correlator, *c.correlator, Content::Text);
    put_items(c.items, c.meta, s);
    s.close(t);
  }
  void operator()(const Status& st) const {
    // (CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Cred?, Chal?, Data, Item*)
    s.open(Tag::Status);
    s.leaf(Tag::CmdID, std::to_string(st.cmd_id), Content::Text);
    s.leaf(Tag::MsgRef, std::to_string(st.msg_ref), Content::Text);
    s.leaf(Tag::CmdRef, std::to_string(st.cmd_ref), Content::Text);
    s.leaf(Tag::Cmd, st.cmd, Content::Text);
    for (const auto& r : st.target_refs) s.leaf(Tag::TargetRef, r, Content::Text);
    for (const auto& r : st.source_refs) s.leaf(Tag::SourceRef, r, Content::Text);
    if (st.cred) put_cred(*st.cred, s);
    if (st.chal) {
      s.open(Tag::Chal);  // (Meta)
      put_meta(st.chal->meta, s);
      s.close(Tag::Chal);
    }
    s.leaf(Tag::Data, std::to_string(st.data), Content::Text);
    put_items(st.items, std::nullopt, s);
    s.close(Tag::Status);
  }
  void operator()(const Results& r) const {
    // (CmdID, MsgRef?, CmdRef, Meta?, TargetRef?, SourceRef?, Item+)
    s.open(Tag::Results);
    s.leaf(Tag::CmdID, std::to_string(r.cmd_id), Content::Text);
    if (r.msg_ref) s.leaf(Tag::MsgRef, std::to_string(*r.msg_ref), Content::Text);
    s.leaf(Tag::CmdRef, std::to_string(r.cmd_ref), Content::Text);
    if (r.meta) put_meta(*r.meta, s);
    if (r.target_ref) s.leaf(Tag::TargetRef, *r.target_ref, Content::Text);
    if (r.source_ref) s.leaf(Tag::SourceRef, *r.source_ref, Content::Text);
    put_items(r.items, r.meta, s);
    s.close(Tag::Results);
  }
  void operator()(const Container& c) const {
    // Atomic/Sequence: (CmdID, NoResp?, Meta?, (commands)+)
    const Tag t = tag_of(c.kind);
    s.open(t);
    put_head(c.cmd_id, c.no_resp, s);
    if (c.meta) put_meta(*c.meta, s);
    for (const auto& sub : c.commands) put_command(sub, s);
    s.close(t);
  }
};

void put_command(const Command& c, TokenSink& s) { std::visit(CommandWriter{s}, c.value); }

}  // namespace

void serialize(const Message& m, TokenSink& s) {
  s.open(Tag::SyncML);
  // SyncHdr: (VerDTD, VerProto, SessionID, MsgID, Target, Source, RespURI?, NoResp?, Cred?, Meta?)
  const SyncHdr& h = m.hdr;
  s.open(Tag::SyncHdr);
  s.leaf(Tag::VerDTD, h.ver_dtd, Content::Text);
  s.leaf(Tag::VerProto, h.ver_proto, Content::Text);
  s.leaf(Tag::SessionID, h.session_id, Content::Text);
  s.leaf(Tag::MsgID, std::to_string(h.msg_id), Content::Text);
  put_location(Tag::Target, h.target, s);
  put_location(Tag::Source, h.source, s);
  if (h.resp_uri) s.leaf(Tag::RespURI, *h.resp_uri, Content::Text);
  if (h.no_resp) s.empty(Tag::NoResp);
  if (h.cred) put_cred(*h.cred, s);
  if (h.meta) put_meta(*h.meta, s);
  s.close(Tag::SyncHdr);
  // SyncBody: (commands+, Final?)
  if (m.body.empty() && !m.final) {
    s.empty(Tag::SyncBody);
  } else {
    s.open(Tag::SyncBody);
    for (const auto& c : m.body) put_command(c, s);
    if (m.final) s.empty(Tag::Final);
    s.close(Tag::SyncBody);
  }
  s.close(Tag::SyncML);
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------

const char* content_type(Encoding e) noexcept {
  return e == Encoding::Wbxml ? kContentTypeWbxml : kContentTypeXml;
}

std::optional<Encoding> encoding_from_content_type(std::string_view ct) noexcept {
  if (auto semi = ct.find(';'); semi != std::string_view::npos) ct = ct.substr(0, semi);
  while (!ct.empty() && (ct.front() == ' ' || ct.front() == '\t')) ct.remove_prefix(1);
  while (!ct.empty() && (ct.back() == ' ' || ct.back() == '\t')) ct.remove_suffix(1);
  auto iequals = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
        return false;
    return true;
  };
  if (iequals(ct, kContentTypeXml)) return Encoding::Xml;
  if (iequals(ct, kContentTypeWbxml)) return Encoding::Wbxml;
  return std::nullopt;
}

std::optional<Encoding> detect_encoding(ByteView b) noexcept {
  if (b.empty()) return std::nullopt;
  // WBXML starts with its version byte: 0x00..0x03 (WBXML 1.0-1.3).
  if (b[0] <= 0x03) return Encoding::Wbxml;
  // XML: optional UTF-8 BOM, then optional whitespace, then '<'.
  std::size_t i = 0;
  if (b.size() >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) i = 3;
  while (i < b.size() && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')) ++i;
  if (i < b.size() && b[i] == '<') return Encoding::Xml;
  return std::nullopt;
}

Result<Message> decode(ByteView bytes, const DecodeLimits& limits, DecodeError* error) {
  return decode_received(bytes, {}, limits, error);
}

Result<Message> decode_received(ByteView bytes, std::string_view content_type, const DecodeLimits& limits,
                                DecodeError* error, Encoding* encoding) {
  auto enc = encoding_from_content_type(content_type);
  if (!enc) enc = detect_encoding(bytes);
  if (!enc)
    return detail::decode_fail(error, errc::malformed_xml, "neither XML nor WBXML (unrecognised first byte)",
                               "byte 0");
  if (encoding != nullptr) *encoding = *enc;
  return *enc == Encoding::Wbxml ? decode_wbxml(bytes, limits, error) : decode_xml(bytes, limits, error);
}

Result<Bytes> encode(const Message& message, Encoding encoding) {
  return encoding == Encoding::Wbxml ? encode_wbxml(message) : encode_xml(message);
}

}  // namespace m2mdm::syncml
