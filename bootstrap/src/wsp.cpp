// WSP connectionless Push PDU codec (WAP-230-WSP-20010705-a §8.2.4.1, §8.4.1, §8.4.2).
#include "m2mdm/bootstrap/wsp.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <utility>

namespace m2mdm::bootstrap {

std::string to_string(const DecodeDetail& d) {
  return (d.what.empty() ? std::string("malformed input") : d.what) + " at offset " +
         std::to_string(d.offset);
}

namespace wsp {
namespace {

// OMNA "WSP Content Type Codes" (WAP-230-WSP Table 40 and its registry extensions).
constexpr std::array<std::string_view, 0x46> kContentTypes = {
    "*/*",
    "text/*",
    "text/html",
    "text/plain",
    "text/x-hdml",
    "text/x-ttml",
    "text/x-vCalendar",
    "text/x-vCard",
    "text/vnd.wap.wml",
    "text/vnd.wap.wmlscript",
    "text/vnd.wap.wta-event",
    "multipart/*",
    "multipart/mixed",
    "multipart/form-data",
    "multipart/byteranges",
    "multipart/alternative",
    "application/*",
    "application/java-vm",
    "application/x-www-form-urlencoded",
    "application/x-hdmlc",
    "application/vnd.wap.wmlc",
    "application/vnd.wap.wmlscriptc",
    "application/vnd.wap.wta-eventc",
    "application/vnd.wap.uaprof",
    "application/vnd.wap.wtls-ca-certificate",
    "application/vnd.wap.wtls-user-certificate",
    "application/x-x509-ca-cert",
    "application/x-x509-user-cert",
    "image/*",
    "image/gif",
    "image/jpeg",
    "image/tiff",
    "image/png",
    "image/vnd.wap.wbmp",
    "application/vnd.wap.multipart.*",
    "application/vnd.wap.multipart.mixed",
    "application/vnd.wap.multipart.form-data",
    "application/vnd.wap.multipart.byteranges",
    "application/vnd.wap.multipart.alternative",
    "application/xml",
    "text/xml",
    "application/vnd.wap.wbxml",
    "application/x-x968-cross-cert",
    "application/x-x968-ca-cert",
    "application/x-x968-user-cert",
    "text/vnd.wap.si",
    "application/vnd.wap.sic",
    "text/vnd.wap.sl",
    "application/vnd.wap.slc",
    "text/vnd.wap.co",
    "application/vnd.wap.coc",
    "application/vnd.wap.multipart.related",
    "application/vnd.wap.sia",
    "text/vnd.wap.connectivity-xml",
    "application/vnd.wap.connectivity-wbxml",
    "application/pkcs7-mime",
    "application/vnd.wap.hashed-certificate",
    "application/vnd.wap.signed-certificate",
    "application/vnd.wap.cert-response",
    "application/xhtml+xml",
    "application/wml+xml",
    "text/css",
    "application/vnd.wap.mms-message",
    "application/vnd.wap.rollover-certificate",
    "application/vnd.wap.locc+wbxml",
    "application/vnd.wap.loc+xml",
    "application/vnd.syncml.dm+wbxml",
    "application/vnd.syncml.dm+xml",
    "application/vnd.syncml.notification",
    "application/vnd.wap.xhtml+xml",
};
static_assert(kContentTypes[kCtConnectivityWbxml] == "application/vnd.wap.connectivity-wbxml");
static_assert(kContentTypes[kCtSyncmlDmWbxml] == "application/vnd.syncml.dm+wbxml");
static_assert(kContentTypes[kCtSyncmlNotification] == "application/vnd.syncml.notification");

// OMNA "Push Application ID" registry (well-known App-assigned-codes).
constexpr std::array<std::string_view, 9> kAppIds = {
    "x-wap-application:*",        "x-wap-application:push.sia", "x-wap-application:wml.ua",
    "x-wap-application:wta.ua",   "x-wap-application:mms.ua",   "x-wap-application:push.syncml",
    "x-wap-application:loc.ua",   "x-wap-application:syncml.dm", "x-wap-application:drm.ua",
};

// WAP-230-WSP Table 38: well-known parameter names (encoding versions 1.1 - 1.4).
constexpr std::array<std::string_view, 0x1E> kParamNames = {
    "Q",         "Charset",     "Level",   "Type",    "",           "Name",
    "Filename",  "Differences", "Padding", "Type",    "Start",      "Start-info",
    "Comment",   "Domain",      "Max-Age", "Path",    "Secure",     "SEC",
    "MAC",       "Creation-date", "Modification-date", "Read-date", "Size", "Name",
    "Filename",  "Start",       "Start-info", "Comment", "Domain",   "Path",
};
static_assert(kParamNames[kParamSec] == "SEC" && kParamNames[kParamMac] == "MAC");

constexpr std::array<std::string_view, 4> kSecMethods = {"NETWPIN", "USERPIN", "USERNETWPIN",
                                                         "USERPINMAC"};

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The name a well-known code stands for in @p table; "" for a code the table does not hold.
template <std::size_t N>
std::string_view name_in(const std::array<std::string_view, N>& table, std::uint32_t code) noexcept {
  return code < table.size() ? table[code] : std::string_view();
}

// The code of @p name (ASCII case-insensitive) in @p table.
template <std::size_t N>
std::optional<std::uint32_t> code_in(const std::array<std::string_view, N>& table, std::string_view name) noexcept {
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (iequals(table[i], name)) return static_cast<std::uint32_t>(i);
  }
  return std::nullopt;
}

std::string param_name(std::uint32_t code) { return std::string(name_in(kParamNames, code)); }

// ----------------------------------------------------------------------------------------------
// Decoding: a cursor over a region [pos, end) of a buffer. Running past `end` is reported as
// wsp_truncated when `end` is the end of the whole buffer (the input was cut short) and as the
// structure's own error code otherwise (a length field inside the PDU is inconsistent).
// ----------------------------------------------------------------------------------------------
struct Reader {
  ByteView buf;
  std::size_t pos = 0;
  std::size_t end = 0;
  errc code = errc::malformed;  // error for malformed structure in this region
  DecodeDetail* detail = nullptr;
  bool end_is_input_end = true;  // running past `end` means the input was cut short

  std::unexpected<std::error_code> err(errc e, std::size_t at, std::string what) const {
    if (detail != nullptr) {
      detail->offset = at;
      detail->what = std::move(what);
    }
    return fail(make_error_code(e));
  }
  std::unexpected<std::error_code> bad(std::string what) const { return err(code, pos, std::move(what)); }
  std::unexpected<std::error_code> short_of(std::size_t at, std::string what) const {
    return err(end_is_input_end ? errc::wsp_truncated : code, at, std::move(what));
  }
  bool at_end() const noexcept { return pos >= end; }
  std::size_t left() const noexcept { return pos < end ? end - pos : 0; }

  Result<std::uint8_t> peek(const char* what) const {
    if (pos >= end) return short_of(pos, std::string("missing ") + what);
    return buf[pos];
  }
  Result<std::uint8_t> take(const char* what) {
    auto b = peek(what);
    if (b) ++pos;
    return b;
  }
  Result<ByteView> take_n(std::size_t n, const char* what) {
    if (n > left()) return short_of(pos, std::string(what) + " runs past the end");
    ByteView v = buf.subspan(pos, n);
    pos += n;
    return v;
  }

  // WAP-230-WSP §8.1.2 uintvar.
  Result<std::uint32_t> uintvar(const char* what) {
    const std::size_t start = pos;
    std::uint64_t v = 0;
    for (int i = 0; i < 5; ++i) {
      if (pos >= end) return short_of(pos, std::string("uintvar (") + what + ") cut short");
      const std::uint8_t b = buf[pos];
      if (i == 0 && b == 0x80) {
        return err(errc::wsp_bad_uintvar, start, std::string("overlong uintvar (") + what + ")");
      }
      ++pos;
      v = (v << 7) | (b & 0x7Fu);
      if ((b & 0x80) == 0) {
        if (v > std::numeric_limits<std::uint32_t>::max()) {
          return err(errc::wsp_bad_uintvar, start, std::string("uintvar (") + what + ") exceeds 32 bits");
        }
        return static_cast<std::uint32_t>(v);
      }
    }
    return err(errc::wsp_bad_uintvar, start, std::string("uintvar (") + what + ") longer than 5 octets");
  }

  // Text-string / Token-text / Quoted-string / Extension-media: octets up to End-of-string
  // (0x00). A leading Quote (0x7F) is dropped (§8.4.2.1).
  Result<std::string> text(const char* what, bool allow_quote = true) {
    const std::size_t start = pos;
    if (allow_quote && pos < end && buf[pos] == 0x7F) ++pos;
    const auto* first = buf.data() + pos;
    const auto* last = buf.data() + end;
    const auto* nul = std::find(first, last, std::uint8_t{0});
    if (nul == last) return short_of(start, std::string(what) + ": text without End-of-string");
    std::string s(reinterpret_cast<const char*>(first), static_cast<std::size_t>(nul - first));
    pos += s.size() + 1;
    return s;
  }

  // Long-integer = Short-length Multi-octet-integer (§8.4.2.1); we accept 1..8 octets.
  Result<std::uint64_t> long_integer(const char* what) {
    const std::size_t start = pos;
    auto len = take(what);
    if (!len) return fail(len.error());
    if (*len == 0 || *len > 30) return err(code, start, std::string(what) + ": bad Long-integer length");
    if (*len > 8) return err(code, start, std::string(what) + ": Long-integer longer than 8 octets");
    auto v = take_n(*len, what);
    if (!v) return fail(v.error());
    std::uint64_t r = 0;
    for (std::uint8_t b : *v) r = (r << 8) | b;
    return r;
  }

  // Integer-value = Short-integer | Long-integer.
  Result<std::uint64_t> integer_value(const char* what) {
    auto b = peek(what);
    if (!b) return fail(b.error());
    if (*b >= 0x80) {
      ++pos;
      return static_cast<std::uint64_t>(*b & 0x7F);
    }
    if (*b >= 1 && *b <= 30) return long_integer(what);
    return bad(std::string(what) + ": not an Integer-value");
  }

  // Typed-value / Untyped-value: Integer-value | Text-value (No-value, Token-text, Quoted-string).
  Result<void> value(const char* what, Value& out) {
    auto b = peek(what);
    if (!b) return fail(b.error());
    if (*b == 0x00) {
      ++pos;
      out = Value::str({});
      return {};
    }
    if (*b >= 0x80 || *b <= 30) {
      auto i = integer_value(what);
      if (!i) return fail(i.error());
      out = Value::num(*i);
      return {};
    }
    if (*b == 0x1F) return bad(std::string(what) + ": Value-length where a value is expected");
    auto t = text(what);
    if (!t) return fail(t.error());
    out = Value::str(std::move(*t));
    return {};
  }

  // Value-length = Short-length | Length-quote Length (§8.4.2.2).
  Result<std::size_t> value_length(const char* what) {
    auto b = take(what);
    if (!b) return fail(b.error());
    if (*b <= 30) return static_cast<std::size_t>(*b);
    if (*b == 0x1F) {
      auto n = uintvar(what);
      if (!n) return fail(n.error());
      return static_cast<std::size_t>(*n);
    }
    return err(code, pos - 1, std::string(what) + ": not a Value-length");
  }
};

Result<std::uint32_t> to_u32(const Reader& r, std::size_t at, std::uint64_t v, const char* what) {
  if (v > std::numeric_limits<std::uint32_t>::max()) return r.err(r.code, at, std::string(what) + " exceeds 32 bits");
  return static_cast<std::uint32_t>(v);
}

// Parameter = Typed-parameter | Untyped-parameter (§8.4.2.4).
Result<Parameter> read_parameter(Reader& r) {
  const std::size_t start = r.pos;
  auto b = r.peek("parameter");
  if (!b) return fail(b.error());
  Parameter p;
  if (*b >= 0x80 || (*b >= 1 && *b <= 30)) {
    auto code = r.integer_value("parameter code");
    if (!code) return fail(code.error());
    auto c32 = to_u32(r, start, *code, "parameter code");
    if (!c32) return fail(c32.error());
    p.code = *c32;
    p.name = param_name(*c32);
    if (*c32 == 0) {  // Q-value: a 1- or 2-octet uintvar (§8.4.2.3)
      auto q = r.uintvar("Q-value");
      if (!q) return fail(q.error());
      p.value = Value::num(*q);
      return p;
    }
    auto v = r.value(p.name.empty() ? "parameter value" : p.name.c_str(), p.value);
    if (!v) return fail(v.error());
    return p;
  }
  if (*b < 0x20 || *b == 0x7F) return r.bad("parameter starts with neither a code nor a token");
  auto name = r.text("parameter name", false);
  if (!name) return fail(name.error());
  p.name = std::move(*name);
  auto v = r.value("parameter value", p.value);
  if (!v) return fail(v.error());
  return p;
}

// Content-type-value (§8.4.2.24) within r's region; r.code should be wsp_bad_content_type.
Result<ContentType> read_content_type(Reader& r) {
  const std::size_t start = r.pos;
  auto b = r.peek("content type");
  if (!b) return fail(b.error());
  ContentType ct;
  if (*b >= 0x80) {  // Constrained-media: Short-integer
    ++r.pos;
    ct.code = *b & 0x7Fu;
    ct.media = std::string(content_type_name(*ct.code));
    return ct;
  }
  if (*b >= 0x20) {  // Constrained-media: Extension-media
    auto t = r.text("content type");
    if (!t) return fail(t.error());
    if (t->empty()) return r.err(r.code, start, "empty media type");
    ct.media = std::move(*t);
    return ct;
  }
  // Content-general-form = Value-length Media-type
  auto len = r.value_length("content type length");
  if (!len) return fail(len.error());
  if (*len == 0) return r.err(r.code, start, "empty Content-general-form");
  if (*len > r.left()) return r.short_of(start, "content type runs past the end of the headers");
  Reader sub = r;
  sub.end = r.pos + *len;
  // Inside the general form, running past its length is a malformed length, not truncation.
  sub.end_is_input_end = false;
  auto m = sub.peek("media type");
  if (!m) return fail(m.error());
  if (*m >= 0x80 || (*m >= 1 && *m <= 30)) {
    const std::size_t at = sub.pos;
    auto code = sub.integer_value("media type");
    if (!code) return fail(code.error());
    auto c32 = to_u32(sub, at, *code, "media type");
    if (!c32) return fail(c32.error());
    ct.code = *c32;
    ct.media = std::string(content_type_name(*c32));
  } else if (*m >= 0x20) {
    const std::size_t at = sub.pos;
    auto t = sub.text("media type");
    if (!t) return fail(t.error());
    if (t->empty()) return sub.err(sub.code, at, "empty media type");
    ct.media = std::move(*t);
  } else {
    return sub.bad("media type is neither well-known nor text");
  }
  while (!sub.at_end()) {
    auto p = read_parameter(sub);
    if (!p) return fail(p.error());
    ct.params.push_back(std::move(*p));
  }
  r.pos = sub.end;
  return ct;
}

// One header (§8.4.2.6): Message-header or Shift-sequence. Returns its raw span; `page` tracks
// the current header code page (1 initially).
Result<ByteView> read_header(Reader& r, std::uint8_t& page) {
  const std::size_t start = r.pos;
  auto b = r.take("header");
  if (!b) return fail(b.error());
  if (*b == 0x7F) {  // Shift-delimiter Page-identity
    auto pg = r.take("header page identity");
    if (!pg) return fail(pg.error());
    page = *pg;
  } else if (*b >= 0x01 && *b <= 0x1F) {  // Short-cut-shift-delimiter
    page = *b;
  } else if (*b == 0x00) {
    return r.err(r.code, start, "header starts with 0x00");
  } else if (*b >= 0x80) {  // Well-known-header: generic Wap-value
    auto v = r.peek("header value");
    if (!v) return fail(v.error());
    if (*v <= 0x1F) {
      auto len = r.value_length("header value length");
      if (!len) return fail(len.error());
      auto data = r.take_n(*len, "header value");
      if (!data) return fail(data.error());
    } else if (*v >= 0x80) {
      ++r.pos;
    } else {
      auto t = r.text("header value");
      if (!t) return fail(t.error());
    }
  } else {  // Application-header: Token-text Application-specific-value
    --r.pos;
    auto name = r.text("header name", false);
    if (!name) return fail(name.error());
    auto t = r.text("header value");
    if (!t) return fail(t.error());
  }
  return r.buf.subspan(start, r.pos - start);
}

// X-Wap-Application-Id value (WAP-230-WSP §8.4.2.54): App-assigned-code | Uri-value.
Result<void> read_app_id(Reader& r, std::optional<AppId>& out) {
  const std::size_t at = r.pos;
  auto b = r.peek("X-Wap-Application-Id value");
  if (!b) return fail(b.error());
  if (*b >= 0x80 || (*b >= 1 && *b <= 30)) {
    auto v = r.integer_value("X-Wap-Application-Id");
    if (!v) return fail(v.error());
    auto v32 = to_u32(r, at, *v, "X-Wap-Application-Id");
    if (!v32) return fail(v32.error());
    out = AppId::of(*v32);
    return {};
  }
  if (*b >= 0x20) {
    auto t = r.text("X-Wap-Application-Id");
    if (!t) return fail(t.error());
    if (t->empty()) return r.err(r.code, at, "empty X-Wap-Application-Id URI");
    out = AppId::of(std::move(*t));
    return {};
  }
  return r.bad("X-Wap-Application-Id is neither a code nor a URI");
}

// ----------------------------------------------------------------------------------------------
// Encoding
// ----------------------------------------------------------------------------------------------
std::unexpected<std::error_code> invalid() { return fail(make_error_code(errc::invalid_argument)); }

void put_integer(Bytes& out, std::uint64_t v) {
  if (v < 0x80) {
    out.push_back(static_cast<std::uint8_t>(0x80 | v));
    return;
  }
  std::array<std::uint8_t, 8> tmp{};
  std::size_t n = 0;
  while (v != 0) {
    tmp[n++] = static_cast<std::uint8_t>(v & 0xFF);
    v >>= 8;
  }
  out.push_back(static_cast<std::uint8_t>(n));
  for (std::size_t i = n; i-- > 0;) out.push_back(tmp[i]);
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// Text-string with a Quote when the first octet could be read as something else.
Result<void> put_text(Bytes& out, std::string_view s) {
  if (has_nul(s)) return invalid();
  if (!s.empty()) {
    const auto first = static_cast<unsigned char>(s.front());
    if (first >= 0x7F || first < 0x20) out.push_back(0x7F);
    out.insert(out.end(), s.begin(), s.end());
  }
  out.push_back(0x00);
  return {};
}

// Token-text (names): must start with a printable ASCII character.
Result<void> put_token(Bytes& out, std::string_view s) {
  if (s.empty() || has_nul(s)) return invalid();
  const auto first = static_cast<unsigned char>(s.front());
  if (first < 0x20 || first >= 0x7F) return invalid();
  out.insert(out.end(), s.begin(), s.end());
  out.push_back(0x00);
  return {};
}

Result<void> put_value(Bytes& out, const Value& v) {
  if (v.integer) {
    if (!v.text.empty()) return invalid();
    put_integer(out, *v.integer);
    return {};
  }
  return put_text(out, v.text);
}

Result<void> put_parameter(Bytes& out, const Parameter& p) {
  if (p.code) {
    put_integer(out, *p.code);
    if (*p.code == 0) {  // Q-value
      const auto& q = p.value.integer;
      if (!q || *q > std::numeric_limits<std::uint32_t>::max()) return invalid();
      append_uintvar(out, static_cast<std::uint32_t>(*q));
      return {};
    }
    return put_value(out, p.value);
  }
  if (auto r = put_token(out, p.name); !r) return r;
  return put_value(out, p.value);
}

}  // namespace

std::string_view content_type_name(std::uint32_t code) noexcept { return name_in(kContentTypes, code); }

std::optional<std::uint32_t> content_type_code(std::string_view name) noexcept {
  return code_in(kContentTypes, name);
}

std::string_view app_id_name(std::uint32_t code) noexcept { return name_in(kAppIds, code); }

std::string_view sec_method_name(std::uint32_t code) noexcept { return name_in(kSecMethods, code); }

std::optional<std::uint32_t> sec_method_code(std::string_view name) noexcept { return code_in(kSecMethods, name); }

std::optional<Value> ContentType::sec() const {
  for (const auto& p : params) {
    if ((p.code && *p.code == kParamSec) || (!p.code && iequals(p.name, "SEC"))) return p.value;
  }
  return std::nullopt;
}

std::optional<std::string> ContentType::mac() const {
  for (const auto& p : params) {
    if ((p.code && *p.code == kParamMac) || (!p.code && iequals(p.name, "MAC"))) {
      if (!p.value.integer) return p.value.text;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

void append_uintvar(Bytes& out, std::uint32_t v) {
  std::array<std::uint8_t, 5> tmp{};
  std::size_t n = 0;
  do {
    tmp[n++] = static_cast<std::uint8_t>(v & 0x7F);
    v >>= 7;
  } while (v != 0);
  for (std::size_t i = n; i-- > 0;) out.push_back(static_cast<std::uint8_t>(tmp[i] | (i != 0 ? 0x80 : 0)));
}

Result<std::uint32_t> read_uintvar(ByteView in, std::size_t& pos, DecodeDetail* detail) {
  Reader r{in, pos, in.size(), errc::wsp_bad_uintvar, detail, true};
  auto v = r.uintvar("uintvar");
  if (v) pos = r.pos;
  return v;
}

Result<Bytes> encode_content_type(const ContentType& ct) {
  Bytes media;
  if (ct.code) {
    if (ct.params.empty() && *ct.code < 0x80) return Bytes{static_cast<std::uint8_t>(0x80 | *ct.code)};
    put_integer(media, *ct.code);
  } else {
    if (ct.media.empty()) return invalid();
    if (auto r = put_text(media, ct.media); !r) return fail(r.error());
    if (ct.params.empty()) return media;  // Constrained-media as Extension-media
  }
  for (const auto& p : ct.params) {
    if (auto r = put_parameter(media, p); !r) return fail(r.error());
  }
  Bytes out;
  if (media.size() <= 30) {
    out.push_back(static_cast<std::uint8_t>(media.size()));
  } else {
    if (media.size() > std::numeric_limits<std::uint32_t>::max()) return invalid();
    out.push_back(0x1F);
    append_uintvar(out, static_cast<std::uint32_t>(media.size()));
  }
  out.insert(out.end(), media.begin(), media.end());
  return out;
}

Result<ContentType> decode_content_type(ByteView in, std::size_t& pos, DecodeDetail* detail) {
  Reader r{in, pos, in.size(), errc::wsp_bad_content_type, detail, true};
  auto ct = read_content_type(r);
  if (ct) pos = r.pos;
  return ct;
}

Result<Bytes> encode_push(const PushPdu& pdu) {
  auto headers = encode_content_type(pdu.content_type);
  if (!headers) return fail(headers.error());
  if (pdu.app_id) {
    headers->push_back(0x80 | kHeaderXWapApplicationId);
    if (pdu.app_id->code) {
      if (!pdu.app_id->uri.empty()) return invalid();
      put_integer(*headers, *pdu.app_id->code);
    } else {
      const auto& uri = pdu.app_id->uri;
      if (uri.empty()) return invalid();
      if (auto r = put_text(*headers, uri); !r) return fail(r.error());
    }
  }
  for (const auto& h : pdu.other_headers) {
    // Each entry must be exactly one well-formed header.
    Reader r{h, 0, h.size(), errc::wsp_bad_header, nullptr, false};
    std::uint8_t page = 1;
    auto one = read_header(r, page);
    if (!one || r.pos != h.size()) return invalid();
    headers->insert(headers->end(), h.begin(), h.end());
  }
  if (headers->size() > std::numeric_limits<std::uint32_t>::max()) {
    return fail(make_error_code(errc::push_too_large));
  }
  Bytes out;
  out.reserve(headers->size() + pdu.body.size() + 7);
  out.push_back(pdu.tid);
  out.push_back(kPduPush);
  append_uintvar(out, static_cast<std::uint32_t>(headers->size()));
  out.insert(out.end(), headers->begin(), headers->end());
  out.insert(out.end(), pdu.body.begin(), pdu.body.end());
  return out;
}

Result<PushPdu> decode_push(ByteView in, DecodeDetail* detail) {
  Reader r{in, 0, in.size(), errc::wsp_truncated, detail, true};
  PushPdu pdu;
  auto tid = r.take("TID");
  if (!tid) return fail(tid.error());
  pdu.tid = *tid;
  auto type = r.take("PDU type");
  if (!type) return fail(type.error());
  if (*type != kPduPush) {
    return r.err(errc::wsp_bad_pdu_type, 1,
                 "PDU type 0x" + hex_encode(ByteView(&*type, 1)) + " is not Push (0x06)");
  }
  r.code = errc::wsp_bad_uintvar;
  auto hl = r.uintvar("HeadersLen");
  if (!hl) return fail(hl.error());
  const std::size_t headers_at = r.pos;
  if (*hl > r.left()) {
    return r.err(errc::wsp_truncated, headers_at,
                 "headers (" + std::to_string(*hl) + " octets) run past the end");
  }
  if (*hl == 0) return r.err(errc::wsp_bad_content_type, headers_at, "no content type (HeadersLen 0)");

  Reader h = r;
  h.end = headers_at + *hl;
  h.end_is_input_end = false;  // HeadersLen fits the input: overruns are malformed lengths
  h.code = errc::wsp_bad_content_type;
  auto ct = read_content_type(h);
  if (!ct) return fail(ct.error());
  pdu.content_type = std::move(*ct);

  h.code = errc::wsp_bad_header;
  std::uint8_t page = 1;
  while (!h.at_end()) {
    const std::size_t start = h.pos;
    if (page == 1 && !pdu.app_id && h.buf[start] == (0x80 | kHeaderXWapApplicationId)) {
      ++h.pos;
      auto id = read_app_id(h, pdu.app_id);
      if (!id) return fail(id.error());
      continue;
    }
    auto raw = read_header(h, page);
    if (!raw) return fail(raw.error());
    pdu.other_headers.emplace_back(raw->begin(), raw->end());
  }
  pdu.body.assign(in.begin() + static_cast<std::ptrdiff_t>(h.end), in.end());
  return pdu;
}

PushPdu make_cp_push(std::uint8_t tid, Bytes wbxml_body, std::uint32_t sec, std::optional<std::string> mac) {
  PushPdu p;
  p.tid = tid;
  p.content_type.code = kCtConnectivityWbxml;
  p.content_type.media = std::string(content_type_name(kCtConnectivityWbxml));
  p.content_type.params.push_back(Parameter{kParamSec, "SEC", Value::num(sec)});
  if (mac) p.content_type.params.push_back(Parameter{kParamMac, "MAC", Value::str(std::move(*mac))});
  p.body = std::move(wbxml_body);
  return p;
}

PushPdu make_dm_notification_push(std::uint8_t tid, Bytes package0) {
  PushPdu p;
  p.tid = tid;
  p.content_type.code = kCtSyncmlNotification;
  p.content_type.media = std::string(content_type_name(kCtSyncmlNotification));
  p.app_id = AppId::of(kAppIdSyncmlDm);
  p.body = std::move(package0);
  return p;
}

PushPdu make_dm_bootstrap_push(std::uint8_t tid, Bytes wbxml_body, std::optional<std::string> sec,
                               std::optional<std::string> mac) {
  PushPdu p;
  p.tid = tid;
  p.content_type.code = kCtSyncmlDmWbxml;
  p.content_type.media = std::string(content_type_name(kCtSyncmlDmWbxml));
  if (sec) p.content_type.params.push_back(Parameter{std::nullopt, "SEC", Value::str(std::move(*sec))});
  if (mac) p.content_type.params.push_back(Parameter{std::nullopt, "MAC", Value::str(std::move(*mac))});
  p.app_id = AppId::of(kAppIdSyncmlDm);
  p.body = std::move(wbxml_body);
  return p;
}

}  // namespace wsp
}  // namespace m2mdm::bootstrap
