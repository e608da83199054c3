// The MCIM profile format: strict parsing with distinct errors, canonical serialization, no
// secrets in the summary.
#include "mcim_test_util.hpp"

#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/mcim_profile.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace m2mdm::mo {
namespace {

using json = nlohmann::json;

json example_json() {
  return json::parse(test::slurp(std::filesystem::path(M2MDM_SOURCE_DIR) / "docs/examples/mcim-profile.json"));
}

json bound_json() {
  json j = example_json();
  j["binding"] = {{"device", "dev-1"}, {"transaction_id", "tx-1"}, {"issued", 1000}, {"expires", 2000}, {"counter", 7}};
  return j;
}

Result<McimProfile> parse(const json& j, std::string* where = nullptr) {
  const std::string s = j.dump();
  return parse_profile(as_bytes(s), where);
}

void expect_error(const json& j, errc code, const std::string& where) {
  std::string w;
  auto r = parse(j, &w);
  ASSERT_FALSE(r.has_value()) << j.dump();
  EXPECT_EQ(r.error(), make_error_code(code)) << j.dump() << " -> " << r.error().message();
  EXPECT_EQ(w, where);
}

/// A field of a profile (its dotted name, as the parser reports it) and a value for it.
struct FieldValue {
  std::string path;
  json value;
};

/// The example profile (bound_json() for a field under "binding.") with @p f set: refused with
/// @p code, naming f.path.
void expect_set_refused(const FieldValue& f, errc code) {
  json j = f.path.starts_with("binding.") ? bound_json() : example_json();
  std::string pointer = "/" + f.path;
  std::replace(pointer.begin(), pointer.end(), '.', '/');
  j[json::json_pointer(pointer)] = f.value;
  expect_error(j, code, f.path);
}

TEST(McimProfile, ExampleParsesWithExpectedValues) {
  auto p = parse(example_json());
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(p->imsi, "001010000000001");
  EXPECT_EQ(p->iccid, "8999900000000000014");
  EXPECT_EQ(p->sho_id, "sho.example");
  EXPECT_EQ(hex_encode(p->k.view()), "465b5ce8b199b49faa5f0a2ee238a6bc");
  EXPECT_EQ(hex_encode(p->opc.view()), "cd63cb71954a9f4e48a5994e37a02baf");
  EXPECT_TRUE(p->op.empty());
  EXPECT_EQ(p->amf[0], 0xb9);
  EXPECT_EQ(p->sqn, 0xff9bb4d0b607ULL);
  EXPECT_EQ(p->ota.kvn, 1);
  EXPECT_FALSE(p->milenage.has_value());
  EXPECT_FALSE(p->binding.has_value());
}

TEST(McimProfile, CanonicalSerializationIsDeterministicAndRoundTrips) {
  json j = bound_json();
  j["k"] = "465B5CE8B199B49FAA5F0A2EE238A6BC";  // upper case in, lower case out
  auto p = parse(j);
  ASSERT_TRUE(p.has_value());
  const SecretBytes a = serialize_profile(*p);
  auto q = parse_profile(a.view());
  ASSERT_TRUE(q.has_value());
  const SecretBytes b = serialize_profile(*q);
  EXPECT_TRUE(a == b);
  EXPECT_EQ(as_chars(a.view()).find(' '), std::string_view::npos);
  EXPECT_NE(as_chars(a.view()).find("465b5ce8b199b49faa5f0a2ee238a6bc"), std::string_view::npos);
  EXPECT_EQ(q->binding, p->binding);
  // Key order of the input does not matter.
  json reordered = json::parse(j.dump());
  auto r = parse(reordered);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(serialize_profile(*r) == a);
}

TEST(McimProfile, MilenageConstantsAndOp) {
  json j = example_json();
  j.erase("opc");
  j["op"] = "cdc202d5123e20f62b6d676ac72cb318";
  j["milenage"] = {{"c1", "00000000000000000000000000000000"}, {"c2", "00000000000000000000000000000001"},
                   {"c3", "00000000000000000000000000000002"}, {"c4", "00000000000000000000000000000004"},
                   {"c5", "00000000000000000000000000000008"}, {"r1", 64}, {"r2", 0}, {"r3", 32}, {"r4", 64}, {"r5", 96}};
  auto p = parse(j);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(*p->milenage, MilenageConstants::defaults());
  EXPECT_EQ(hex_encode(p->op.view()), "cdc202d5123e20f62b6d676ac72cb318");
  auto again = parse_profile(serialize_profile(*p).view());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again->milenage, *p->milenage);
}

TEST(McimProfile, UnknownFieldsAreRefusedAtEveryLevel) {
  for (const auto& f :
       std::initializer_list<FieldValue>{{"comment", "x"}, {"ota.tar", "b00001"}, {"binding.imei", "1"}})
    expect_set_refused(f, errc::profile_unknown_field);
}

TEST(McimProfile, DuplicateFieldIsRefused) {
  const std::string text = example_json().dump();
  const std::string dup = "{\"imsi\":\"001010000000002\"," + text.substr(1);
  std::string where;
  auto r = parse_profile(as_bytes(dup), &where);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), make_error_code(errc::profile_duplicate_field));
  EXPECT_EQ(where, "imsi");
}

TEST(McimProfile, MissingFieldsAreRefused) {
  for (const char* f : {"version", "sho_id", "plmn_id", "imsi", "iccid", "k", "amf", "sqn", "ota"}) {
    json j = example_json();
    j.erase(f);
    expect_error(j, errc::profile_missing_field, f);
  }
  json j = example_json();
  j.erase("opc");
  expect_error(j, errc::profile_missing_field, "opc");
  for (const char* f : {"kic", "kic_algorithm", "kid", "kid_algorithm", "kvn"}) {
    j = example_json();
    j["ota"].erase(f);
    expect_error(j, errc::profile_missing_field, std::string("ota.") + f);
  }
  for (const char* f : {"device", "transaction_id", "issued", "expires", "counter"}) {
    j = bound_json();
    j["binding"].erase(f);
    expect_error(j, errc::profile_missing_field, std::string("binding.") + f);
  }
}

TEST(McimProfile, WrongLengthsAreRefused) {
  for (const auto& f : std::initializer_list<FieldValue>{{"k", "465b5ce8b199b49faa5f0a2ee238a6"},
                                                         {"opc", "cd63cb71954a9f4e48a5994e37a02bafaa"},
                                                         {"amf", "b9"},
                                                         {"sqn", "ff9bb4d0b6"},
                                                         {"imsi", "0010100000000011"},
                                                         {"imsi", "00101"},
                                                         {"iccid", "89999000000000014"},
                                                         {"plmn_id", "0010"},
                                                         {"ota.kic", "0001020304050607"},
                                                         {"k", "465b5ce8b199b49faa5f0a2ee238a6b"}})  // odd: 31 digits
    expect_set_refused(f, errc::profile_bad_length);
}

TEST(McimProfile, BadDigitsAreRefused) {
  for (const auto& f : std::initializer_list<FieldValue>{{"imsi", "00101000000000a"},
                                                         {"iccid", "899990000000000001x"},
                                                         {"iccid", "8999900000000000015"},  // Luhn check digit wrong
                                                         {"plmn_id", "0010x"},
                                                         {"k", "465b5ce8b199b49faa5f0a2ee238a6bz"},
                                                         {"amf", "b9g9"}})
    expect_set_refused(f, errc::profile_bad_digits);
}

TEST(McimProfile, BadValuesAreRefused) {
  for (const auto& f : std::initializer_list<FieldValue>{{"version", 2},
                                                         {"ota.kvn", 0},
                                                         {"ota.kic_algorithm", "xor"},
                                                         {"op", "cdc202d5123e20f62b6d676ac72cb318"},  // both OP and OPc
                                                         {"imsi", "002010000000001"},  // not under plmn_id
                                                         {"sho_id", "sho example"},
                                                         {"binding.expires", 1000},
                                                         {"binding.counter", 0},
                                                         {"binding.issued", -5}})
    expect_set_refused(f, errc::profile_bad_value);
}

TEST(McimProfile, WrongTypesAndBadJsonAreMalformed) {
  for (const auto& f : std::initializer_list<FieldValue>{{"k", 12}, {"ota", "keys"}, {"binding.counter", 1.5}})
    expect_set_refused(f, errc::profile_malformed);
  for (const char* text : {"", "{", "[]", "null", "{\"version\":1} x", "{\"version\":1,}"}) {
    auto r = parse_profile(as_bytes(text));
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_TRUE(r.error() == make_error_code(errc::profile_malformed) ||
                r.error() == make_error_code(errc::profile_missing_field))
        << text;
  }
}

TEST(McimProfile, SummaryNeverShowsSecrets) {
  auto p = parse(bound_json());
  ASSERT_TRUE(p.has_value());
  const auto summary = profile_summary(*p);
  std::map<std::string, std::string> m(summary.begin(), summary.end());
  EXPECT_EQ(m.at("imsi"), "001010000000001");
  EXPECT_EQ(m.at("device"), "dev-1");
  EXPECT_EQ(m.at("counter"), "7");
  EXPECT_EQ(m.at("issued"), "1970-01-01T00:16:40Z");
  for (const auto& [name, value] : summary) {
    for (ByteView secret : {p->k.view(), p->opc.view(), p->ota.kic.view(), p->ota.kid.view()}) {
      EXPECT_EQ(value.find(hex_encode(secret)), std::string::npos) << name;
      EXPECT_EQ(value.find(hex_encode(secret, true)), std::string::npos) << name;
    }
  }
}

TEST(McimProfile, ValidateCatchesProfilesBuiltInCode) {
  auto p = parse(example_json());
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(validate_profile(*p).has_value());
  p->k = SecretBytes(Bytes(15, 1));
  std::string where;
  auto v = validate_profile(*p, &where);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error(), make_error_code(errc::profile_bad_length));
  EXPECT_EQ(where, "k");
}

}  // namespace
}  // namespace m2mdm::mo
