// Conformance runner for conformance/vectors/security/*.json: the authentication examples of
// OMA-TS-DM_Protocol-V1_2 / DM_Security-V1_2 and the package 0 rules of DM_Notification-V1_2.
//
// One JSON object per file, named after the spec section it transcribes:
//   {"spec": "...", "description": "...", "operation": "<op>", "input": {...}, "expect": {...}}
// Byte strings are given as "<name>" (text, taken byte for byte), "<name>_hex" or "<name>_b64".
// Operations and their fields:
//   basic_credential   input user, password              expect credential
//   md5_credential     input user, password, nonce*      expect credential
//   hmac_mac           input user, password, nonce*, body*  expect mac, header
//   hmac_header_parse  input header                      expect algorithm, username, mac | error
//   hmac_verify        input header, password, nonce*, body*  expect valid (bool)
//   pkg0_encode        input server_id, password, nonce*, session_id (hex), ui_mode, initiator,
//                      vendor*  expect package_hex
//   pkg0_decode        input package_hex [, server_id, password, session_nonce*]
//                      expect version, ui_mode, initiator, session_id (hex text), server_id,
//                      vendor_hex, digest_hex, digest_nonce (name or null) | error
//   session_id_hex     input value (int)                 expect text
// "error" is the name of an m2mdm::syncml::errc value (e.g. "truncated").
#include "m2mdm/syncml/auth.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/error.hpp"
#include "m2mdm/syncml/notification.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace m2mdm::syncml {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path vectors_dir() { return fs::path(M2MDM_VECTORS_DIR) / "security"; }

std::vector<std::string> vector_files() {
  std::vector<std::string> out;
  if (fs::is_directory(vectors_dir())) {
    for (const auto& e : fs::directory_iterator(vectors_dir())) {
      if (e.path().extension() == ".json") out.push_back(e.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<errc> errc_by_name(const std::string& name) {
  static const std::map<std::string, errc> names = {
      {"invalid_value", errc::invalid_value}, {"unsupported_version", errc::unsupported_version},
      {"bad_base64", errc::bad_base64},       {"bad_hex", errc::bad_hex},
      {"truncated", errc::truncated},         {"bad_header", errc::bad_header},
      {"auth_failed", errc::auth_failed}};
  const auto it = names.find(name);
  if (it == names.end()) return std::nullopt;
  return it->second;
}

/// Byte string field @p name given as text, _hex or _b64; absent → empty.
Bytes bytes_field(const json& in, const std::string& name) {
  if (in.contains(name)) {
    const auto s = in.at(name).get<std::string>();
    return Bytes(s.begin(), s.end());
  }
  if (in.contains(name + "_hex")) return hex_decode(in.at(name + "_hex").get<std::string>()).value();
  if (in.contains(name + "_b64")) return base64_decode(in.at(name + "_b64").get<std::string>()).value();
  return {};
}
bool has_bytes_field(const json& in, const std::string& name) {
  return in.contains(name) || in.contains(name + "_hex") || in.contains(name + "_b64");
}

std::string str(const json& j, const char* key) { return j.at(key).get<std::string>(); }

void expect_error(const std::error_code& got, const json& expect) {
  const auto want = errc_by_name(str(expect, "error"));
  ASSERT_TRUE(want.has_value()) << "unknown error name in vector: " << expect.at("error");
  EXPECT_EQ(got, *want) << got.message();
}

class SecurityVector : public ::testing::TestWithParam<std::string> {};

TEST_P(SecurityVector, Holds) {
  std::ifstream f(vectors_dir() / GetParam());
  ASSERT_TRUE(f) << GetParam();
  const json v = json::parse(f);
  ASSERT_TRUE(v.contains("spec")) << "every vector names its spec section";
  const std::string op = str(v, "operation");
  const json& in = v.at("input");
  const json& ex = v.at("expect");
  SCOPED_TRACE(str(v, "spec") + ": " + v.value("description", ""));

  if (op == "basic_credential") {
    EXPECT_EQ(basic_credential(str(in, "user"), str(in, "password")), str(ex, "credential"));
    auto back = parse_basic_credential(str(ex, "credential"));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->user, str(in, "user"));
    EXPECT_EQ(back->password, str(in, "password"));
  } else if (op == "md5_credential") {
    const Bytes nonce = bytes_field(in, "nonce");
    auto cred = md5_digest_credential(str(in, "user"), str(in, "password"), nonce);
    ASSERT_TRUE(cred);
    EXPECT_EQ(*cred, str(ex, "credential"));
    EXPECT_TRUE(verify_md5_digest_credential(str(ex, "credential"), str(in, "user"), str(in, "password"), nonce));
  } else if (op == "hmac_mac") {
    const Bytes nonce = bytes_field(in, "nonce"), body = bytes_field(in, "body");
    EXPECT_EQ(hmac_mac(str(in, "user"), str(in, "password"), nonce, body).value(), str(ex, "mac"));
    EXPECT_EQ(hmac_header_value(str(in, "user"), str(in, "password"), nonce, body).value(), str(ex, "header"));
  } else if (op == "hmac_header_parse") {
    auto h = parse_hmac_header(str(in, "header"));
    if (ex.contains("error")) {
      ASSERT_FALSE(h);
      expect_error(h.error(), ex);
    } else {
      ASSERT_TRUE(h) << h.error().message();
      EXPECT_EQ(h->algorithm, str(ex, "algorithm"));
      EXPECT_EQ(h->username, str(ex, "username"));
      EXPECT_EQ(h->mac, str(ex, "mac"));
    }
  } else if (op == "hmac_verify") {
    auto h = parse_hmac_header(str(in, "header"));
    ASSERT_TRUE(h);
    EXPECT_EQ(verify_hmac(*h, str(in, "password"), bytes_field(in, "nonce"), bytes_field(in, "body")),
              ex.at("valid").get<bool>());
  } else if (op == "pkg0_encode") {
    Notification n;
    n.server_id = str(in, "server_id");
    n.session_id = parse_session_id_hex(str(in, "session_id")).value();
    n.ui_mode = parse_ui_mode(str(in, "ui_mode")).value();
    n.initiator = parse_initiator(str(in, "initiator")).value();
    n.vendor_specific = bytes_field(in, "vendor");
    auto pkg = encode_notification(n, str(in, "password"), bytes_field(in, "nonce"));
    if (ex.contains("error")) {
      ASSERT_FALSE(pkg);
      expect_error(pkg.error(), ex);
    } else {
      ASSERT_TRUE(pkg) << pkg.error().message();
      EXPECT_EQ(hex_encode(*pkg), str(ex, "package_hex"));
    }
  } else if (op == "pkg0_decode") {
    const Bytes pkg = hex_decode(str(in, "package_hex")).value();
    std::string why;
    auto d = decode_notification(pkg, &why);
    if (ex.contains("error")) {
      ASSERT_FALSE(d);
      expect_error(d.error(), ex);
      EXPECT_FALSE(why.empty());
      if (ex.contains("detail_contains")) {
        EXPECT_NE(why.find(str(ex, "detail_contains")), std::string::npos) << why;
      }
      return;
    }
    ASSERT_TRUE(d) << why;
    EXPECT_EQ(d->fields.version, ex.at("version").get<int>());
    EXPECT_EQ(ui_mode_name(d->fields.ui_mode), str(ex, "ui_mode"));
    EXPECT_EQ(initiator_name(d->fields.initiator), str(ex, "initiator"));
    EXPECT_EQ(session_id_hex(d->fields.session_id), str(ex, "session_id"));
    EXPECT_EQ(d->fields.server_id, str(ex, "server_id"));
    EXPECT_EQ(hex_encode(d->fields.vendor_specific), ex.value("vendor_hex", ""));
    if (ex.contains("digest_hex")) {
      EXPECT_EQ(hex_encode(d->digest), str(ex, "digest_hex"));
    }
    if (in.contains("password")) {
      const Bytes session = bytes_field(in, "session_nonce");
      const auto used = verify_notification_with_reset(
          *d, str(in, "server_id"), str(in, "password"),
          has_bytes_field(in, "session_nonce") ? std::optional<ByteView>(session) : std::nullopt);
      if (ex.at("digest_nonce").is_null()) {
        EXPECT_FALSE(used.has_value()) << notification_nonce_name(*used);
      } else {
        ASSERT_TRUE(used.has_value());
        EXPECT_EQ(notification_nonce_name(*used), str(ex, "digest_nonce"));
      }
    }
  } else if (op == "session_id_hex") {
    EXPECT_EQ(session_id_hex(in.at("value").get<std::uint16_t>()), str(ex, "text"));
  } else {
    FAIL() << "unknown operation " << op;
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = fs::path(info.param).stem().string();
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

INSTANTIATE_TEST_SUITE_P(Security, SecurityVector, ::testing::ValuesIn(vector_files()), test_name);

TEST(SecurityVectors, FolderIsNotEmpty) { EXPECT_GE(vector_files().size(), 8u) << vectors_dir(); }

}  // namespace
}  // namespace m2mdm::syncml
