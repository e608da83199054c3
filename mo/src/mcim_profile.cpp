#include "m2mdm/mo/mcim_profile.hpp"

#include "id_text.hpp"
#include "m2mdm/mo/luhn.hpp"
#include "m2mdm/mo/strict_json.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <initializer_list>
#include <set>
#include <string_view>

namespace m2mdm::mo {
namespace {

using json = nlohmann::json;

struct Failure {
  errc code;
  std::string where;
};

bool is_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

using detail::is_id_text;
using detail::luhn_ok;

// Reads one JSON object with a fixed set of allowed fields; the first failure is kept.
class ObjectReader {
 public:
  ObjectReader(const json& obj, std::string path, std::optional<Failure>& failure)
      : obj_(obj), path_(std::move(path)), failure_(failure) {}

  bool check_fields(std::initializer_list<std::string_view> allowed, std::initializer_list<std::string_view> required) {
    if (failure_) return false;
    if (!obj_.is_object()) return set(errc::profile_malformed, path_);
    for (const auto& [key, value] : obj_.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        return set(errc::profile_unknown_field, sub(key));
    }
    for (std::string_view r : required) {
      if (!obj_.contains(std::string(r))) return set(errc::profile_missing_field, sub(r));
    }
    return true;
  }

  bool has(std::string_view key) const { return obj_.contains(std::string(key)); }

  std::string text(std::string_view key, std::size_t min_len, std::size_t max_len) {
    const json* v = get(key);
    if (v == nullptr) return {};
    if (!v->is_string()) return set(errc::profile_malformed, sub(key)), std::string{};
    const auto& s = v->get_ref<const std::string&>();
    if (s.size() < min_len || s.size() > max_len) return set(errc::profile_bad_length, sub(key)), std::string{};
    return s;
  }

  std::string id_text(std::string_view key, std::size_t max_len) {
    std::string s = text(key, 1, max_len);
    if (!failure_ && !is_id_text(s)) set(errc::profile_bad_value, sub(key));
    return s;
  }

  std::string digits(std::string_view key, std::size_t min_len, std::size_t max_len) {
    std::string s = text(key, min_len, max_len);
    if (!failure_ && !is_digits(s)) set(errc::profile_bad_digits, sub(key));
    return s;
  }

  /// Hex of one of the byte lengths in @p lengths.
  Bytes hex(std::string_view key, std::initializer_list<std::size_t> lengths) {
    const json* v = get(key);
    if (v == nullptr) return {};
    if (!v->is_string()) return set(errc::profile_malformed, sub(key)), Bytes{};
    const auto& s = v->get_ref<const std::string&>();
    if (!is_hex(s)) return set(errc::profile_bad_digits, sub(key)), Bytes{};
    if (s.size() % 2 != 0 || std::find(lengths.begin(), lengths.end(), s.size() / 2) == lengths.end())
      return set(errc::profile_bad_length, sub(key)), Bytes{};
    auto b = hex_decode(s);
    if (!b) return set(errc::profile_bad_digits, sub(key)), Bytes{};
    return std::move(*b);
  }

  SecretBytes secret(std::string_view key, std::initializer_list<std::size_t> lengths) {
    Bytes b = hex(key, lengths);
    SecretBytes out(b);
    std::fill(b.begin(), b.end(), std::uint8_t{0});
    return out;
  }

  std::uint64_t unsigned_int(std::string_view key, std::uint64_t min, std::uint64_t max) {
    const json* v = get(key);
    if (v == nullptr) return 0;
    if (!v->is_number_unsigned()) {
      // A negative integer is a well-typed but out-of-range value; anything else is a type error.
      return set(v->is_number_integer() ? errc::profile_bad_value : errc::profile_malformed, sub(key)), 0;
    }
    const auto n = v->get<std::uint64_t>();
    if (n < min || n > max) return set(errc::profile_bad_value, sub(key)), 0;
    return n;
  }

  const json* object(std::string_view key) {
    const json* v = get(key);
    if (v != nullptr && !v->is_object()) return set(errc::profile_malformed, sub(key)), nullptr;
    return v;
  }

  std::string sub(std::string_view key) const { return path_.empty() ? std::string(key) : path_ + "." + std::string(key); }

  bool set(errc e, std::string where) {
    if (!failure_) failure_ = Failure{e, std::move(where)};
    return false;
  }

 private:
  const json* get(std::string_view key) {
    if (failure_) return nullptr;
    auto it = obj_.find(std::string(key));
    if (it == obj_.end()) return nullptr;
    return &*it;
  }

  const json& obj_;
  std::string path_;
  std::optional<Failure>& failure_;
};

constexpr std::int64_t kMaxTime = 253402300799;  // 9999-12-31T23:59:59Z

std::optional<Failure> check_semantics(const McimProfile& p) {
  auto bad = [](errc e, const char* w) { return std::optional<Failure>(Failure{e, w}); };
  if (p.sho_id.empty() || p.sho_id.size() > 64 || !is_id_text(p.sho_id)) return bad(errc::profile_bad_value, "sho_id");
  if (p.plmn_id.size() < 5 || p.plmn_id.size() > 6) return bad(errc::profile_bad_length, "plmn_id");
  if (!is_digits(p.plmn_id)) return bad(errc::profile_bad_digits, "plmn_id");
  if (p.imsi.size() < 6 || p.imsi.size() > 15) return bad(errc::profile_bad_length, "imsi");
  if (!is_digits(p.imsi)) return bad(errc::profile_bad_digits, "imsi");
  if (!p.imsi.starts_with(p.plmn_id)) return bad(errc::profile_bad_value, "imsi");  // TS 23.003 §2.2
  if (p.iccid.size() < 18 || p.iccid.size() > 20) return bad(errc::profile_bad_length, "iccid");
  if (!is_digits(p.iccid)) return bad(errc::profile_bad_digits, "iccid");
  if (!luhn_ok(p.iccid)) return bad(errc::profile_bad_digits, "iccid");  // E.118 check digit
  if (p.k.size() != 16) return bad(errc::profile_bad_length, "k");
  if (p.opc.empty() == p.op.empty()) return bad(errc::profile_missing_field, "opc");
  if (!p.opc.empty() && p.opc.size() != 16) return bad(errc::profile_bad_length, "opc");
  if (!p.op.empty() && p.op.size() != 16) return bad(errc::profile_bad_length, "op");
  if (p.sqn >= (std::uint64_t{1} << 48)) return bad(errc::profile_bad_value, "sqn");
  if (p.milenage) {
    for (auto r : p.milenage->r)
      if (r > 127) return bad(errc::profile_bad_value, "milenage.r");
  }
  auto key_len_ok = [](std::string_view alg, std::size_t n) {
    if (alg.starts_with("aes")) return n == 16 || n == 24 || n == 32;
    return n == 16 || n == 24;
  };
  if (p.ota.kic_algorithm != "aes-cbc" && p.ota.kic_algorithm != "des3-cbc")
    return bad(errc::profile_bad_value, "ota.kic_algorithm");
  if (p.ota.kid_algorithm != "aes-cmac" && p.ota.kid_algorithm != "des3-cbc-mac")
    return bad(errc::profile_bad_value, "ota.kid_algorithm");
  if (!key_len_ok(p.ota.kic_algorithm, p.ota.kic.size())) return bad(errc::profile_bad_length, "ota.kic");
  if (!key_len_ok(p.ota.kid_algorithm, p.ota.kid.size())) return bad(errc::profile_bad_length, "ota.kid");
  if (p.ota.kvn < 1 || p.ota.kvn > 15) return bad(errc::profile_bad_value, "ota.kvn");
  if (p.binding) {
    const auto& b = *p.binding;
    if (b.device_id.empty() || b.device_id.size() > 128 || !is_id_text(b.device_id))
      return bad(errc::profile_bad_value, "binding.device");
    if (b.pfc_spki_sha256 && b.pfc_spki_sha256->size() != 32) return bad(errc::profile_bad_length, "binding.pfc_spki_sha256");
    if (b.transaction_id.empty() || b.transaction_id.size() > 64 || !is_id_text(b.transaction_id))
      return bad(errc::profile_bad_value, "binding.transaction_id");
    if (b.issued < 0 || b.issued > kMaxTime) return bad(errc::profile_bad_value, "binding.issued");
    if (b.expires <= b.issued || b.expires > kMaxTime) return bad(errc::profile_bad_value, "binding.expires");
    if (b.counter < 1) return bad(errc::profile_bad_value, "binding.counter");
  }
  return std::nullopt;
}

std::string lower_hex(ByteView b) { return hex_encode(b, false); }

}  // namespace

MilenageConstants MilenageConstants::defaults() noexcept {
  MilenageConstants m;
  m.c[1][15] = 0x01;
  m.c[2][15] = 0x02;
  m.c[3][15] = 0x04;
  m.c[4][15] = 0x08;
  m.r = {64, 0, 32, 64, 96};
  return m;
}

Result<McimProfile> parse_profile(ByteView bytes, std::string* where) {
  std::optional<Failure> failure;
  auto report = [&](const Failure& f) -> Result<McimProfile> {
    if (where != nullptr) *where = f.where;
    return fail(f.code);
  };

  // Duplicate keys are refused (nlohmann would silently keep the last one).
  auto parsed = detail::parse_strict_json(bytes);
  if (parsed.doc.is_discarded()) return report({errc::profile_malformed, ""});
  if (!parsed.duplicate_key.empty()) return report({errc::profile_duplicate_field, parsed.duplicate_key});
  const json& doc = parsed.doc;

  McimProfile p;
  ObjectReader top(doc, "", failure);
  top.check_fields({"version", "sho_id", "plmn_id", "imsi", "iccid", "k", "opc", "op", "milenage", "amf", "sqn", "ota",
                    "binding"},
                   {"version", "sho_id", "plmn_id", "imsi", "iccid", "k", "amf", "sqn", "ota"});
  if (!failure && top.has("opc") == top.has("op"))
    top.set(top.has("opc") ? errc::profile_bad_value : errc::profile_missing_field, top.has("opc") ? "op" : "opc");
  top.unsigned_int("version", McimProfile::kVersion, McimProfile::kVersion);
  p.sho_id = top.id_text("sho_id", 64);
  p.plmn_id = top.digits("plmn_id", 5, 6);
  p.imsi = top.digits("imsi", 6, 15);
  p.iccid = top.digits("iccid", 18, 20);
  p.k = top.secret("k", {16});
  if (top.has("opc")) p.opc = top.secret("opc", {16});
  if (top.has("op")) p.op = top.secret("op", {16});
  if (const json* m = top.object("milenage")) {
    ObjectReader mr(*m, "milenage", failure);
    mr.check_fields({"c1", "c2", "c3", "c4", "c5", "r1", "r2", "r3", "r4", "r5"},
                    {"c1", "c2", "c3", "c4", "c5", "r1", "r2", "r3", "r4", "r5"});
    MilenageConstants mc;
    for (std::size_t i = 0; i < 5 && !failure; ++i) {
      const std::string ci = "c" + std::to_string(i + 1);
      const std::string ri = "r" + std::to_string(i + 1);
      Bytes c = mr.hex(ci, {16});
      if (c.size() == 16) std::copy(c.begin(), c.end(), mc.c[i].begin());
      mc.r[i] = static_cast<std::uint8_t>(mr.unsigned_int(ri, 0, 127));
    }
    p.milenage = mc;
  }
  Bytes amf = top.hex("amf", {2});
  if (amf.size() == 2) p.amf = {amf[0], amf[1]};
  Bytes sqn = top.hex("sqn", {6});
  for (auto b : sqn) p.sqn = (p.sqn << 8) | b;
  if (const json* o = top.object("ota")) {
    ObjectReader orr(*o, "ota", failure);
    orr.check_fields({"kic", "kic_algorithm", "kid", "kid_algorithm", "kvn"},
                     {"kic", "kic_algorithm", "kid", "kid_algorithm", "kvn"});
    p.ota.kic_algorithm = orr.text("kic_algorithm", 1, 32);
    p.ota.kid_algorithm = orr.text("kid_algorithm", 1, 32);
    p.ota.kic = orr.secret("kic", {16, 24, 32});
    p.ota.kid = orr.secret("kid", {16, 24, 32});
    p.ota.kvn = static_cast<std::uint8_t>(orr.unsigned_int("kvn", 1, 15));
  }
  if (const json* b = top.object("binding")) {
    ObjectReader br(*b, "binding", failure);
    br.check_fields({"device", "pfc_spki_sha256", "transaction_id", "issued", "expires", "counter"},
                    {"device", "transaction_id", "issued", "expires", "counter"});
    McimBinding mb;
    mb.device_id = br.id_text("device", 128);
    if (br.has("pfc_spki_sha256")) mb.pfc_spki_sha256 = br.hex("pfc_spki_sha256", {32});
    mb.transaction_id = br.id_text("transaction_id", 64);
    mb.issued = static_cast<std::int64_t>(br.unsigned_int("issued", 0, kMaxTime));
    mb.expires = static_cast<std::int64_t>(br.unsigned_int("expires", 0, kMaxTime));
    mb.counter = br.unsigned_int("counter", 1, UINT64_MAX);
    p.binding = std::move(mb);
  }
  if (failure) return report(*failure);
  if (auto f = check_semantics(p)) return report(*f);
  return p;
}

Result<void> validate_profile(const McimProfile& p, std::string* where) {
  if (auto f = check_semantics(p)) {
    if (where != nullptr) *where = f->where;
    return fail(f->code);
  }
  return {};
}

SecretBytes serialize_profile(const McimProfile& p) {
  json j = json::object();
  j["version"] = McimProfile::kVersion;
  j["sho_id"] = p.sho_id;
  j["plmn_id"] = p.plmn_id;
  j["imsi"] = p.imsi;
  j["iccid"] = p.iccid;
  j["k"] = lower_hex(p.k.view());
  if (!p.opc.empty()) j["opc"] = lower_hex(p.opc.view());
  if (!p.op.empty()) j["op"] = lower_hex(p.op.view());
  if (p.milenage) {
    json m = json::object();
    for (std::size_t i = 0; i < 5; ++i) {
      m["c" + std::to_string(i + 1)] = lower_hex(p.milenage->c[i]);
      m["r" + std::to_string(i + 1)] = p.milenage->r[i];
    }
    j["milenage"] = std::move(m);
  }
  j["amf"] = lower_hex(p.amf);
  std::array<std::uint8_t, 6> sqn{};
  for (std::size_t i = 0; i < 6; ++i) sqn[i] = static_cast<std::uint8_t>(p.sqn >> (8 * (5 - i)));
  j["sqn"] = lower_hex(sqn);
  j["ota"] = {{"kic", lower_hex(p.ota.kic.view())},
              {"kic_algorithm", p.ota.kic_algorithm},
              {"kid", lower_hex(p.ota.kid.view())},
              {"kid_algorithm", p.ota.kid_algorithm},
              {"kvn", p.ota.kvn}};
  if (p.binding) {
    const auto& b = *p.binding;
    json jb = {{"device", b.device_id},
               {"transaction_id", b.transaction_id},
               {"issued", b.issued},
               {"expires", b.expires},
               {"counter", b.counter}};
    if (b.pfc_spki_sha256) jb["pfc_spki_sha256"] = lower_hex(*b.pfc_spki_sha256);
    j["binding"] = std::move(jb);
  }
  std::string text = j.dump();
  SecretBytes out(as_bytes(text));
  std::fill(text.begin(), text.end(), '\0');
  return out;
}

std::string format_utc(std::int64_t seconds) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::vector<std::pair<std::string, std::string>> profile_summary(const McimProfile& p) {
  std::vector<std::pair<std::string, std::string>> out = {
      {"imsi", p.imsi}, {"iccid", p.iccid}, {"sho", p.sho_id}, {"plmn", p.plmn_id}};
  if (p.binding) {
    const auto& b = *p.binding;
    out.emplace_back("device", b.device_id);
    if (b.pfc_spki_sha256) out.emplace_back("pfc-spki-sha256", hex_encode(*b.pfc_spki_sha256));
    out.emplace_back("counter", std::to_string(b.counter));
    out.emplace_back("transaction-id", b.transaction_id);
    out.emplace_back("issued", format_utc(b.issued));
    out.emplace_back("expires", format_utc(b.expires));
  }
  return out;
}

}  // namespace m2mdm::mo
