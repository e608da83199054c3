#include "bootstrap_config.hpp"

#include "m2mdm/syncml/openssl_handles.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <toml++/toml.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

namespace m2mdm::cli {
namespace {

using nlohmann::json;
using Err = std::unexpected<std::string>;

using syncml::openssl::BioPtr;
using syncml::openssl::PkeyPtr;
using syncml::openssl::X509Ptr;

/// SHA-256 over the DER SubjectPublicKeyInfo of a PEM public key or certificate.
std::expected<Bytes, std::string> pin_from_pem(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Err("cannot read " + p.string());
  const std::string pem{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  auto bio = [&] { return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))); };
  PkeyPtr key;
  {
    auto b = bio();
    X509Ptr cert(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
    if (cert) key.reset(X509_get_pubkey(cert.get()));
  }
  if (!key) {
    auto b = bio();
    key.reset(PEM_read_bio_PUBKEY(b.get(), nullptr, nullptr, nullptr));
  }
  if (!key) return Err(p.string() + " holds no PEM certificate or public key");
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key.get(), &der);
  if (len <= 0) return Err("cannot DER-encode the public key of " + p.string());
  Bytes pin = bootstrap::spki_sha256(ByteView(der, static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return pin;
}

std::expected<std::string, std::string> str(const json& o, const char* key, bool required, const std::string& where) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) {
    if (required) return Err(where + "." + key + " is required");
    return std::string{};
  }
  if (!it->is_string()) return Err(where + "." + key + " must be a string");
  return it->get<std::string>();
}

std::expected<bootstrap::BootstrapSpec, std::string> from_json(const json& j, const std::filesystem::path& base) {
  static const std::set<std::string> kTop{"name", "provurl", "context"};
  static const std::set<std::string> kCtx{"role", "nap", "server"};
  static const std::set<std::string> kNap{"napid", "name", "bearer", "apn", "auth_type", "auth_name", "auth_secret"};
  static const std::set<std::string> kSrv{"server_id", "name", "addr", "addr_type", "port", "init", "spki_sha256",
                                          "spki_pem", "rebootstrap_token", "auth"};
  static const std::set<std::string> kAuth{"level", "type", "name", "secret", "data"};
  auto check_keys = [](const json& o, const std::set<std::string>& allowed, const std::string& where)
      -> std::expected<void, std::string> {
    if (!o.is_object()) return Err(where + " must be a table/object");
    for (auto it = o.begin(); it != o.end(); ++it)
      if (!allowed.contains(it.key())) return Err("unknown key " + where + "." + it.key());
    return {};
  };
  if (auto r = check_keys(j, kTop, "config"); !r) return Err(r.error());
  bootstrap::BootstrapSpec spec;
  auto name = str(j, "name", false, "config");
  auto provurl = str(j, "provurl", true, "config");
  if (!name) return Err(name.error());
  if (!provurl) return Err(provurl.error());
  spec.name = *name;
  spec.provurl = *provurl;
  auto ctxs = j.find("context");
  if (ctxs == j.end() || !ctxs->is_array() || ctxs->empty()) return Err("config.context must be a non-empty array");
  int i = 0;
  for (const json& c : *ctxs) {
    const std::string where = "context[" + std::to_string(i++) + "]";
    if (auto r = check_keys(c, kCtx, where); !r) return Err(r.error());
    bootstrap::ContextSpec cs;
    auto role = str(c, "role", true, where);
    if (!role) return Err(role.error());
    auto parsed_role = bootstrap::parse_context_role(*role);
    if (!parsed_role) return Err(where + ".role must be mcim-provisioning or m2m-application");
    cs.role = *parsed_role;
    // nap
    if (!c.contains("nap")) return Err(where + ".nap is required");
    const json& n = c["nap"];
    if (auto r = check_keys(n, kNap, where + ".nap"); !r) return Err(r.error());
    for (auto [key, dst, req] : {std::tuple{"napid", &cs.nap.napid, true}, std::tuple{"name", &cs.nap.name, false},
                                 std::tuple{"apn", &cs.nap.apn, true}}) {
      auto v = str(n, key, req, where + ".nap");
      if (!v) return Err(v.error());
      *dst = *v;
    }
    auto bearer = str(n, "bearer", false, where + ".nap");
    if (!bearer) return Err(bearer.error());
    if (!bearer->empty()) cs.nap.bearer = *bearer;
    auto at = str(n, "auth_type", false, where + ".nap");
    auto an = str(n, "auth_name", false, where + ".nap");
    auto as = str(n, "auth_secret", false, where + ".nap");
    if (!at || !an || !as) return Err(!at ? at.error() : !an ? an.error() : as.error());
    if (!at->empty() || !an->empty() || !as->empty())
      cs.nap.auth = bootstrap::NapAuthSpec{at->empty() ? "PAP" : *at, *an, *as};
    // server
    if (!c.contains("server")) return Err(where + ".server is required");
    const json& s = c["server"];
    const std::string sw = where + ".server";
    if (auto r = check_keys(s, kSrv, sw); !r) return Err(r.error());
    for (auto [key, dst, req] : {std::tuple{"server_id", &cs.server.server_id, true},
                                 std::tuple{"name", &cs.server.name, false}, std::tuple{"addr", &cs.server.addr, true},
                                 std::tuple{"rebootstrap_token", &cs.server.rebootstrap_token, false}}) {
      auto v = str(s, key, req, sw);
      if (!v) return Err(v.error());
      *dst = *v;
    }
    auto addr_type = str(s, "addr_type", false, sw);
    if (!addr_type) return Err(addr_type.error());
    if (!addr_type->empty()) cs.server.addr_type = *addr_type;
    if (s.contains("port")) {
      if (!s["port"].is_number_integer() || s["port"].get<long long>() < 1 || s["port"].get<long long>() > 65535)
        return Err(sw + ".port must be an integer 1..65535");
      cs.server.port = static_cast<std::uint16_t>(s["port"].get<long long>());
    }
    if (s.contains("init")) {
      if (!s["init"].is_boolean()) return Err(sw + ".init must be a boolean");
      cs.server.init = s["init"].get<bool>();
    }
    auto pin_b64 = str(s, "spki_sha256", false, sw);
    auto pin_pem = str(s, "spki_pem", false, sw);
    if (!pin_b64) return Err(pin_b64.error());
    if (!pin_pem) return Err(pin_pem.error());
    if (pin_b64->empty() == pin_pem->empty()) return Err(sw + ": give exactly one of spki_sha256 and spki_pem");
    if (!pin_b64->empty()) {
      auto b = base64_decode(*pin_b64);
      if (!b || b->size() != 32) return Err(sw + ".spki_sha256 must be base64 of 32 bytes");
      cs.server.spki_sha256 = *b;
    } else {
      std::filesystem::path p(*pin_pem);
      if (p.is_relative()) p = base / p;
      auto pin = pin_from_pem(p);
      if (!pin) return Err(pin.error());
      cs.server.spki_sha256 = *pin;
    }
    if (s.contains("auth")) {
      if (!s["auth"].is_array()) return Err(sw + ".auth must be an array");
      int k = 0;
      for (const json& a : s["auth"]) {
        const std::string aw = sw + ".auth[" + std::to_string(k++) + "]";
        if (auto r = check_keys(a, kAuth, aw); !r) return Err(r.error());
        bootstrap::AppAuthSpec au;
        for (auto [key, dst, req] : {std::tuple{"level", &au.level, true}, std::tuple{"type", &au.type, false},
                                     std::tuple{"name", &au.name, false}, std::tuple{"secret", &au.secret, false}}) {
          auto v = str(a, key, req, aw);
          if (!v) return Err(v.error());
          *dst = *v;
        }
        if (au.level != "APPSRV" && au.level != "CLIENT") return Err(aw + ".level must be APPSRV or CLIENT");
        auto data = str(a, "data", false, aw);
        if (!data) return Err(data.error());
        if (!data->empty()) {
          auto b = base64_decode(*data);
          if (!b) return Err(aw + ".data must be base64");
          au.data = *b;
        }
        cs.server.auths.push_back(std::move(au));
      }
    }
    spec.contexts.push_back(std::move(cs));
  }
  return spec;
}

}  // namespace

std::expected<bootstrap::BootstrapSpec, std::string> load_bootstrap_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err("cannot read " + path);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const std::filesystem::path base = std::filesystem::path(path).parent_path();
  json j;
  if (std::filesystem::path(path).extension() == ".json") {
    j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return Err(path + ": not valid JSON");
  } else {
    try {
      toml::table tbl = toml::parse(text, path);
      std::ostringstream os;
      os << toml::json_formatter{tbl};
      j = json::parse(os.str(), nullptr, false);
      if (j.is_discarded()) return Err(path + ": cannot convert TOML");
    } catch (const toml::parse_error& e) {
      std::ostringstream os;
      os << path << ':' << e.source().begin.line << ": " << e.description();
      return Err(os.str());
    }
  }
  return from_json(j, base);
}

}  // namespace m2mdm::cli
