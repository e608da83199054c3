// w7 -> DMAcc and NAPDEF -> connectivity (DM Standardized Objects 1.2 appendix; DM Bootstrap
// 1.2 §3.1.3.4 for the ACL), verification before decoding (ProvBoot 1.1 §5.4), atomic apply and
// the re-bootstrap guard (docs/bootstrap.md).
#include "m2mdm/bootstrap/apply.hpp"

#include "context_rules.hpp"

#include <openssl/sha.h>

#include <charconv>

namespace m2mdm::bootstrap {

const AuthCredential* DmAccount::credential(std::string_view level) const noexcept {
  for (const auto& a : app_auth)
    if (a.level == level) return &a;
  return nullptr;
}

namespace {

Result<DmAccount> map_w7(const Characteristic& app) {
  DmAccount acc;
  acc.app_id = "w7";
  auto sid = app.value_of("PROVIDER-ID");
  if (!sid || sid->empty()) return fail(errc::cp_invalid_w7);  // ServerID is mandatory in DMAcc
  acc.server_id = *sid;
  acc.name = app.value_of("NAME").value_or("");
  acc.pref_conref = app.value_of("TO-NAPID").value_or("");
  acc.init = app.find_parm("INIT") != nullptr;
  // AppAddr: APPADDR/ADDR (ProvCont 1.1) or the older top-level ADDR parm.
  auto addrs = app.children_of("APPADDR");
  if (!addrs.empty()) {
    const Characteristic& a = *addrs.front();
    acc.addr = a.value_of("ADDR").value_or("");
    acc.addr_type = a.value_of("ADDRTYPE").value_or("");
    auto ports = a.children_of("PORT");
    if (!ports.empty()) {
      if (auto nbr = ports.front()->value_of("PORTNBR")) {
        acc.port = detail::parse_port(*nbr);
        if (!acc.port) return fail(errc::cp_invalid_w7);
      }
    }
  } else {
    acc.addr = app.value_of("ADDR").value_or("");
  }
  if (acc.addr.empty()) return fail(errc::cp_invalid_w7);
  for (const Characteristic* au : app.children_of("APPAUTH")) {
    AuthCredential c;
    const auto level = au->value_of("AAUTHLEVEL").value_or("");
    if (level == "APPSRV") {
      c.level = "CLCRED";  // the client authenticates itself to the application server
    } else if (level == "CLIENT") {
      c.level = "SRVCRED";  // the server authenticates itself to the client
    } else {
      return fail(errc::cp_invalid_w7);
    }
    c.type = au->value_of("AAUTHTYPE").value_or("");
    c.name = au->value_of("AAUTHNAME").value_or("");
    c.secret = au->value_of("AAUTHSECRET").value_or("");
    if (auto d = au->value_of("AAUTHDATA"); d && !d->empty()) {
      auto bytes = base64_decode(*d);
      if (!bytes) return fail(errc::cp_invalid_w7);
      c.data = std::move(*bytes);
    }
    if (acc.credential(c.level) != nullptr) return fail(errc::cp_invalid_w7);  // one per level
    acc.app_auth.push_back(std::move(c));
  }
  acc.acl = "Get=" + acc.server_id + "&Replace=" + acc.server_id + "&Delete=" + acc.server_id;
  return acc;
}

ConnectivityProfile map_napdef(const Characteristic& nap) {
  ConnectivityProfile p;
  p.napid = nap.value_of("NAPID").value_or("");
  p.name = nap.value_of("NAME").value_or("");
  p.bearer = nap.value_of("BEARER").value_or("");
  p.apn = nap.value_of("NAP-ADDRESS").value_or("");
  p.addr_type = nap.value_of("NAP-ADDRTYPE").value_or("");
  auto infos = nap.children_of("NAPAUTHINFO");
  if (!infos.empty()) {
    p.auth_type = infos.front()->value_of("AUTHTYPE").value_or("");
    p.auth_name = infos.front()->value_of("AUTHNAME").value_or("");
    p.auth_secret = infos.front()->value_of("AUTHSECRET").value_or("");
  }
  return p;
}

}  // namespace

Result<BootstrapResult> interpret_cp_document(const ProvisioningDoc& doc) {
  BootstrapResult out;
  auto boots = doc.of_type("BOOTSTRAP");
  if (!boots.empty()) {
    out.provurl = boots.front()->value_of("PROVURL");
    out.name = boots.front()->value_of("NAME");
  }
  for (const Characteristic* app : doc.of_type("APPLICATION")) {
    if (app->value_of("APPID") != "w7") continue;
    auto acc = map_w7(*app);
    if (!acc) return fail(acc.error());
    BootstrapContext ctx;
    ctx.context = acc->server_id;
    // The VENDORCONFIG that names this ServerID (builder.hpp layout).
    for (const Characteristic* vc : doc.of_type("VENDORCONFIG")) {
      if (vc->value_of("NAME") != "m2mdm" || vc->value_of("SERVER-ID") != acc->server_id) continue;
      const detail::M2mdmExtension ext{vc->value_of("M2M-CONTEXT"), vc->value_of("SPKI-SHA256"),
                                       vc->value_of("REBOOTSTRAP-TOKEN").value_or("")};
      if (auto ok = detail::apply_extension(ctx, ext); !ok) return fail(ok.error());
      break;
    }
    if (!acc->pref_conref.empty() && acc->pref_conref != "INTERNET") {
      for (const Characteristic* nap : doc.of_type("NAPDEF")) {
        if (nap->value_of("NAPID") == acc->pref_conref) {
          ctx.connectivity = map_napdef(*nap);
          break;
        }
      }
      if (!ctx.connectivity) return fail(errc::cp_invalid_w7);  // TO-NAPID names no NAPDEF
    }
    ctx.account = std::move(*acc);
    if (auto ok = detail::add_context(out, std::move(ctx)); !ok) return fail(ok.error());
  }
  return detail::require_contexts(std::move(out));
}

Result<VerifiedBootstrap> verify_cp_bootstrap(ByteView wbxml, SecMethod method, const SecCredentials& creds,
                                              std::optional<std::string_view> mac, const CpLimits& limits) {
  if (wbxml.size() > limits.max_bytes) return fail(errc::cp_too_large);
  // ProvBoot §5.4: the MAC covers the exact bytes received; check it before parsing anything.
  if (auto ok = verify_mac(method, creds, wbxml, mac, SecProfile::cp); !ok) return fail(ok.error());
  auto doc = decode_cp_wbxml(wbxml, limits);
  if (!doc) return fail(doc.error());
  auto result = interpret_cp_document(*doc);
  if (!result) return fail(result.error());
  return VerifiedBootstrap(std::move(*result), method);
}

// ---------------------------------------------------------------------------------------------
bool MemoryAccountStore::is_bootstrapped(std::string_view context) const {
  auto it = committed_.find(context);
  return it != committed_.end() && it->second.bootstrapped;
}

Result<void> MemoryAccountStore::begin() {
  if (staged_) return fail(errc::store_failed);
  staged_ = committed_;
  puts_ = 0;
  return {};
}

Result<void> MemoryAccountStore::count_put() {
  if (!staged_) return fail(errc::store_failed);
  if (fail_at_ && puts_ == *fail_at_) return fail(errc::io_error);
  ++puts_;
  return {};
}

Result<void> MemoryAccountStore::put_account(std::string_view context, const DmAccount& account) {
  if (auto r = count_put(); !r) return r;
  (*staged_)[std::string(context)].account = account;
  return {};
}

Result<void> MemoryAccountStore::put_connectivity(std::string_view context, const ConnectivityProfile& profile) {
  if (auto r = count_put(); !r) return r;
  (*staged_)[std::string(context)].connectivity = profile;
  return {};
}

Result<void> MemoryAccountStore::put_server_pin(std::string_view context, const Bytes& pin) {
  if (auto r = count_put(); !r) return r;
  (*staged_)[std::string(context)].pin = pin;
  return {};
}

Result<void> MemoryAccountStore::mark_bootstrapped(std::string_view context) {
  if (auto r = count_put(); !r) return r;
  (*staged_)[std::string(context)].bootstrapped = true;
  return {};
}

Result<void> MemoryAccountStore::commit() {
  if (!staged_) return fail(errc::store_failed);
  committed_ = std::move(*staged_);
  staged_.reset();
  return {};
}

void MemoryAccountStore::rollback() noexcept { staged_.reset(); }

// ---------------------------------------------------------------------------------------------
namespace {
Bytes sha256_of(std::string_view s) {
  Bytes md(SHA256_DIGEST_LENGTH);
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md.data());
  return md;
}
}  // namespace

Result<void> RebootstrapGuard::arm(std::string_view context, std::string_view token, std::chrono::seconds ttl,
                                   Clock::time_point now) {
  if (context.empty() || token.size() < 16 || ttl <= std::chrono::seconds::zero()) return fail(errc::invalid_argument);
  arms_[std::string(context)] = Arm{sha256_of(token), now + ttl};
  return {};
}

bool RebootstrapGuard::check(std::string_view context, std::string_view token, Clock::time_point now) const {
  auto it = arms_.find(context);
  if (it == arms_.end() || now >= it->second.expires || token.empty()) return false;
  return constant_time_equal(sha256_of(token), it->second.token_sha256);
}

void RebootstrapGuard::consume(std::string_view context) noexcept {
  auto it = arms_.find(context);
  if (it != arms_.end()) arms_.erase(it);
}

bool RebootstrapGuard::armed(std::string_view context, Clock::time_point now) const {
  auto it = arms_.find(context);
  return it != arms_.end() && now < it->second.expires;
}

Result<void> apply_bootstrap(const VerifiedBootstrap& bootstrap, AccountStore& store, RebootstrapGuard& guard,
                             RebootstrapGuard::Clock::time_point now) {
  const auto& contexts = bootstrap.result().contexts;
  // 1. Decide for every context before touching the store.
  std::vector<std::string> rearmed;
  for (const auto& c : contexts) {
    if (!store.is_bootstrapped(c.context)) continue;
    if (!guard.armed(c.context, now)) return fail(errc::already_bootstrapped);
    if (!guard.check(c.context, c.rebootstrap_token, now)) {
      guard.consume(c.context);  // one attempt per arm: no token guessing
      return fail(errc::rebootstrap_denied);
    }
    rearmed.push_back(c.context);
  }
  // 2. Stage everything, then commit; any failure rolls back.
  if (auto r = store.begin(); !r) return fail(errc::store_failed);
  for (const auto& c : contexts) {
    Result<void> r = store.put_account(c.context, c.account);
    if (r && c.connectivity) r = store.put_connectivity(c.context, *c.connectivity);
    if (r && c.spki_sha256) r = store.put_server_pin(c.context, *c.spki_sha256);
    if (r) r = store.mark_bootstrapped(c.context);
    if (!r) {
      store.rollback();
      return fail(errc::store_failed);
    }
  }
  if (auto r = store.commit(); !r) {
    store.rollback();
    return fail(errc::store_failed);
  }
  for (const auto& c : rearmed) guard.consume(c);
  return {};
}

}  // namespace m2mdm::bootstrap
