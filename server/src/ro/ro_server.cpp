// RoServer: assembles the RO endpoint from a ServerConfig (store, PVA, router, DPF, DRF, package 0
// trigger, callback worker, housekeeping, HTTP(S) server).
#include "m2mdm/server/ro_server.hpp"

#include "m2mdm/bootstrap/builder.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/syncml/openssl_handles.hpp"
#include "m2mdm/syncml/unix_clock.hpp"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <sys/stat.h>

#include <fstream>
#include <iterator>

namespace m2mdm::server {
namespace {


std::error_code err(errc e) { return make_error_code(e); }

// The trust anchors of operator-change tokens (the SHOs' CAs, or the subscribers'), one set whose
// kind (test or production, never mixed; mo/trust.hpp) is that of the first certificate. @p key
// names the setting in messages.
Result<mo::TrustAnchors> load_anchors(const std::vector<std::filesystem::path>& files, std::string_view key,
                                      std::string& why) {
  std::optional<mo::TrustAnchors> set;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto certs = mo::Certificate::all_from_pem(pem);
    if (!in || !certs || certs->empty()) {
      why = "[operator_change] " + std::string(key) + ": cannot read certificates from " + f.string();
      return fail(err(errc::config_error));
    }
    for (const auto& cert : *certs) {
      if (!set) set.emplace(cert.is_test_certificate() ? mo::AnchorKind::test : mo::AnchorKind::production);
      if (auto r = set->add(cert); !r) {
        why = "[operator_change] " + std::string(key) + ": " + f.string() + ": " + r.error().message();
        return fail(err(errc::config_error));
      }
    }
  }
  return std::move(*set);
}

using syncml::openssl::BioPtr;
using syncml::openssl::PkeyPtr;
using syncml::openssl::X509Ptr;

}  // namespace

Result<Bytes> spki_sha256_of_pem(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(err(errc::io_error));
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return fail(err(errc::io_error));
  Bytes der;
  if (const X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)); cert) {
    unsigned char* p = nullptr;
    const int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &p);
    if (n > 0) der.assign(p, p + n);
    OPENSSL_free(p);
  } else {
    BioPtr bio2(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (const PkeyPtr key(PEM_read_bio_PUBKEY(bio2.get(), nullptr, nullptr, nullptr)); key) {
      unsigned char* p = nullptr;
      const int n = i2d_PUBKEY(key.get(), &p);
      if (n > 0) der.assign(p, p + n);
      OPENSSL_free(p);
    }
  }
  if (der.empty()) return fail(err(errc::invalid_argument));
  return bootstrap::spki_sha256(der);
}

// A secret file must not be readable or writable by anyone but its owner (as ssh insists for
// its keys): a token another local user can read is a token anyone on the machine holds.
Result<void> check_private_file(const std::filesystem::path& file, std::string_view what, std::string& why) {
  struct stat st{};
  if (::stat(file.c_str(), &st) != 0) return {};  // missing: reported by the reader
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    why = std::string(what) + " file " + file.string() + " is accessible by others (mode " + mode +
          "); make it private: chmod 600 " + file.string();
    return fail(err(errc::config_error));
  }
  return {};
}

// The state directory and the store's files are the owner's alone: the directory 0700 (also when
// it existed with a wider mode), the SQLite file and its -wal/-shm 0600 (SQLite gives the
// journal files the mode of the database file).
Result<void> make_state_private(const ServerConfig& c, std::string& why) {
  std::error_code ec;
  const auto dir_mode = std::filesystem::status(c.state_dir, ec).permissions();
  if (!ec && (dir_mode & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) !=
                 std::filesystem::perms::none) {
    std::filesystem::permissions(c.state_dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace,
                                 ec);
    if (ec) {
      why = "state directory " + c.state_dir.string() + " is accessible by others and cannot be made private: " +
            ec.message();
      return fail(err(errc::io_error));
    }
    spdlog::warn("state directory {} was accessible by others; its mode is now 0700", c.state_dir.string());
  }
  for (const auto& suffix : {"", "-wal", "-shm"}) {
    const std::filesystem::path f = c.db_path().string() + suffix;
    if (!std::filesystem::exists(f, ec)) continue;
    std::filesystem::permissions(f, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace, ec);
    if (ec) {
      why = "cannot make " + f.string() + " private: " + ec.message();
      return fail(err(errc::io_error));
    }
  }
  return {};
}

Result<std::string> load_or_create_admin_token(const ServerConfig& c, std::string& why) {
  const std::filesystem::path file = c.admin_token_file ? *c.admin_token_file : c.state_dir / "admin.token";
  if (!c.admin_token_file && !std::filesystem::exists(file)) {
    std::uint8_t raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) {
      why = "no randomness for the admin token";
      return fail(err(errc::io_error));
    }
    const mode_t old = ::umask(077);
    std::ofstream out(file);
    out << hex_encode(ByteView(raw, sizeof raw)) << '\n';
    out.close();
    ::umask(old);
    if (!out) {
      why = "cannot write " + file.string();
      return fail(err(errc::io_error));
    }
    spdlog::info("created operator token file {}", file.string());
  }
  if (c.admin_token_file && !std::filesystem::exists(file)) {
    why = "admin token file " + file.string() + " does not exist: write one line of at least 16 characters to it " +
          "(mode 0600), or leave admin_token_file unset to have <state-dir>/admin.token generated";
    return fail(err(errc::config_error));
  }
  if (auto e = check_private_file(file, "admin token", why); !e) return fail(e.error());
  auto t = read_token_file(file);
  if (!t) {
    why = "cannot read admin token " + file.string() + " (need one line of at least 16 characters)";
    return fail(err(errc::config_error));
  }
  return *t;
}

namespace {

// What one start creates in the state directory (the directory and its parents, store.key, the
// SQLite files, the generated admin.token): removed again if the start fails after creating them,
// so a refused start leaves the disk as it found it. Files that existed before are never touched.
class FreshState {
 public:
  explicit FreshState(const ServerConfig& c)
      : c_(c),
        token_(c.state_dir / "admin.token"),
        key_existed_(exists(c.key_path())),
        db_existed_(exists(c.db_path())),
        token_existed_(exists(token_)) {
    // The topmost directory create_directories will make (none when the state directory exists).
    for (auto d = dir_path(c.state_dir); !d.empty() && !exists(d); d = d.parent_path()) {
      top_created_ = d;
      if (d == d.parent_path()) break;
    }
  }
  FreshState(const FreshState&) = delete;
  FreshState& operator=(const FreshState&) = delete;
  void keep() { armed_ = false; }
  ~FreshState() {
    if (!armed_) return;
    if (!db_existed_ || !key_existed_ || !top_created_.empty())
      spdlog::info("start failed: removing what it created in {}", c_.state_dir.string());
    std::error_code ec;
    if (!db_existed_)
      for (const auto& suffix : {"", "-wal", "-shm", "-journal"})
        std::filesystem::remove(c_.db_path().string() + suffix, ec);
    if (!key_existed_) std::filesystem::remove(c_.key_path(), ec);
    if (!token_existed_ && !c_.admin_token_file) std::filesystem::remove(token_, ec);
    if (top_created_.empty()) return;
    // Only the directories this start made, and only while empty (remove refuses otherwise).
    const auto top = top_created_;
    for (auto d = dir_path(c_.state_dir); !d.empty(); d = d.parent_path()) {
      if (!std::filesystem::remove(d, ec) || d == top || d == d.parent_path()) break;
    }
  }

 private:
  // Absolute, normalised, without a trailing separator ("st/" -> "/cwd/st").
  static std::filesystem::path dir_path(const std::filesystem::path& p) {
    std::error_code ec;
    auto d = std::filesystem::absolute(p, ec).lexically_normal();
    if (!d.has_filename() && d != d.root_path()) d = d.parent_path();
    return d;
  }
  static bool exists(const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::exists(p, ec);
  }
  const ServerConfig& c_;
  std::filesystem::path token_;
  bool key_existed_, db_existed_, token_existed_;
  std::filesystem::path top_created_;
  bool armed_ = true;
};

}  // namespace

Result<std::unique_ptr<RoServer>> RoServer::start(const ServerConfig& c, std::string& why, Parts parts) {
  if (!validate_config(c, why)) return fail(err(errc::config_error));

  // Every file the configuration names is read before the state directory is touched: a start
  // refused for a missing or unreadable file creates nothing.
  auto pva = Pva::load(c.manufacturer_cas, c.manufacturer_crls);
  if (!pva) {
    why = "PVA trust configuration: " + pva.error().message() + " (see log)";
    return fail(err(errc::config_error));
  }
  std::string admin_token;
  if (c.admin_token_file) {
    auto admin = load_or_create_admin_token(c, why);  // a given file is only read
    if (!admin) return fail(admin.error());
    admin_token = *admin;
  }
  ApiOptions api;
  for (const auto& v : c.vno_token_files) {
    auto t = read_token_file(v);
    if (!t) {
      why = "cannot read VNO token " + v.string();
      return fail(err(errc::config_error));
    }
    api.vno_token_hashes.push_back(hash_token(*t));
  }
  api.default_job_ttl = c.job_ttl_seconds;
  api.claim_policy = ClaimPolicy{c.claim_max_failures, c.claim_window_seconds};
  api.callback_policy = AddressPolicy{c.callback_allow_loopback, c.callback_allow_private};
  api.default_dpf_address = c.dpf_address;
  if (!c.sho_trust_anchors.empty()) {
    auto anchors = load_anchors(c.sho_trust_anchors, "sho_trust_anchors", why);
    if (!anchors) return fail(anchors.error());
    api.sho_anchors = std::move(*anchors);
  }
  if (!c.subscriber_trust_anchors.empty()) {
    auto anchors = load_anchors(c.subscriber_trust_anchors, "subscriber_trust_anchors", why);
    if (!anchors) return fail(anchors.error());
    api.subscriber_anchors = std::move(*anchors);
  }

  // DRF: the DPF's key pin from drf.spki_pem, else from the TLS certificate.
  DrfSettings drf = c.drf;
  if (auto pin_file = c.drf_spki_pem ? c.drf_spki_pem : c.tls_cert) {
    auto pin = spki_sha256_of_pem(*pin_file);
    if (!pin) {
      why = "cannot read a certificate or public key for the DRF pin from " + pin_file->string();
      return fail(err(errc::config_error));
    }
    drf.dpf.spki_sha256 = std::move(*pin);
  } else {
    spdlog::warn("drf: no TLS certificate and no drf.spki_pem: bootstraps cannot be issued (503)");
  }
  if (c.drf_app_spki_pem) {
    auto pin = spki_sha256_of_pem(*c.drf_app_spki_pem);
    if (!pin) {
      why = "cannot read a certificate or public key from " + c.drf_app_spki_pem->string();
      return fail(err(errc::config_error));
    }
    drf.app.spki_sha256 = std::move(*pin);
  }

  // The state: declared before the server so that, on a failure below, the server (and its open
  // store) is gone before what this start created is removed.
  FreshState fresh(c);
  std::unique_ptr<RoServer> s(new RoServer());
  s->pva_ = std::make_unique<Pva>(std::move(*pva));

  std::error_code ec;
  const bool created = std::filesystem::create_directories(c.state_dir, ec);
  if (ec) {
    why = "cannot create state directory " + c.state_dir.string() + ": " + ec.message();
    return fail(err(errc::io_error));
  }
  if (created) std::filesystem::permissions(c.state_dir, std::filesystem::perms::owner_all, ec);
  if (auto r = make_state_private(c, why); !r) return fail(r.error());

  auto box = load_store_key(c.key_path());
  if (!box) {
    why = "store key " + c.key_path().string() + ": " + box.error().message() + " (must be 32 bytes, mode 0600)";
    return fail(box.error());
  }
  auto store = SqliteStore::open(c.db_path(), std::move(*box));
  if (!store) {
    why = "store " + c.db_path().string() + ": " + store.error().message();
    return fail(store.error());
  }
  s->store_ = std::move(*store);
  // Management commands sent in a session of the previous run get no Status any more.
  if (auto n = s->store_->fail_orphaned_commands("the server restarted before the device answered", unix_now());
      n && *n > 0)
    spdlog::warn("{} management command(s) sent before the restart failed: their answers were lost", *n);
  if (auto r = make_state_private(c, why); !r) return fail(r.error());  // the files SQLite just created

  if (!c.admin_token_file) {
    auto admin = load_or_create_admin_token(c, why);  // <state-dir>/admin.token, created if missing
    if (!admin) return fail(admin.error());
    admin_token = *admin;
  }
  s->admin_token_ = admin_token;
  api.admin_token_hash = hash_token(s->admin_token_);

  HttpServerOptions http;
  http.address = c.listen_address;
  http.port = c.port();
  http.threads = c.threads;
  http.handler_threads = c.handler_threads;
  http.body_limit = c.body_limit;
  http.max_connections = c.max_connections;
  http.header_timeout = std::chrono::milliseconds(c.header_timeout_ms);
  http.read_timeout = std::chrono::milliseconds(c.read_timeout_ms);
  http.idle_timeout = std::chrono::milliseconds(c.idle_timeout_ms);
  if (c.tls_cert) http.tls = TlsFiles{*c.tls_cert, *c.tls_key};

  s->router_ = std::make_unique<ApiRouter>(*s->store_, *s->pva_, api);
  s->sender_ = parts.push_sender ? parts.push_sender : std::make_shared<UdpPushSender>();
  auto server = HttpServer::start(http, *s->router_);
  if (!server) {
    why = "cannot start the server on " + c.listen_address + ":" + std::to_string(http.port) + ": " +
          server.error().message();
    return fail(server.error());
  }
  s->http_ = std::move(*server);
  s->url_ = s->http_->url();
  const std::string dpf_url = c.dpf_address.empty() ? s->url_ + "/dm" : c.dpf_address;
  if (c.dpf_address.empty()) s->router_->set_default_dpf_address(dpf_url);
  if (drf.provurl.empty()) drf.provurl = s->url_ + "/drf";

  DpfOptions dpf_opts;
  dpf_opts.max_msg_size = c.dm_max_msg_size;
  dpf_opts.max_obj_size = c.dm_max_obj_size;
  dpf_opts.public_base = c.dpf_address.empty() ? s->url_ : c.dpf_address.substr(0, c.dpf_address.rfind("/dm"));
  // Operator change B moves on when the device's reset result is in (the re-bootstrap).
  dpf_opts.on_job_result = [changes = s->router_->operator_changes()](std::int64_t job_id) {
    changes->on_job_result(job_id);
  };
  s->dpf_ = std::make_shared<DpfService>(*s->store_, dpf_opts);
  s->router_->set_dm_endpoint(s->dpf_);
  s->drf_ = std::make_shared<DrfService>(*s->store_, *s->sender_, drf);
  s->router_->set_drf(s->drf_);

  NotifierOptions n;
  n.max_attempts = c.notify_max_attempts;
  n.retry_seconds = c.notify_retry_seconds;
  n.stall_seconds = c.notify_stall_seconds;
  n.max_retry_seconds = std::max<std::int64_t>(c.notify_retry_seconds, 900);
  s->notifier_ = std::make_unique<JobNotifier>(*s->store_, *s->sender_, n);
  s->router_->set_job_listener([notifier = s->notifier_.get()](const Job&) { notifier->poke(); });
  s->router_->set_command_listener(
      [notifier = s->notifier_.get()](const MgmtCommand& cmd) { notifier->push_device(cmd.dev_id); });

  CallbackOptions cb;
  cb.retry_seconds = c.callback_retry_seconds;
  cb.max_retry_seconds = c.callback_max_retry_seconds;
  cb.timeout = std::chrono::milliseconds(c.callback_timeout_ms);
  cb.address_policy = AddressPolicy{c.callback_allow_loopback, c.callback_allow_private};
  cb.ca_files = c.callback_ca_files;
  s->callbacks_ = std::make_unique<CallbackWorker>(*s->store_, cb);
  s->router_->set_http_stats([h = s->http_.get()] { return h->stats(); });
  s->router_->set_dpf_stats([d = s->dpf_.get()] { return d->stats(); });

  s->notifier_->start();
  s->callbacks_->start();
  s->housekeeping_ = std::thread([p = s.get()] { p->housekeeping_loop(); });
  fresh.keep();
  return s;
}

void RoServer::housekeeping_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const std::int64_t t = unix_now();
    if (auto n = store_->expire_jobs(t); n && *n > 0) spdlog::info("expired {} job(s)", *n);
    dpf_->expire_idle();
    // Operator change B: a pristine device whose re-bootstrap did not go out gets it now.
    if (auto n = router_->operator_changes()->resume(); n > 0) spdlog::info("re-bootstrapped {} pristine device(s)", n);
    lock.lock();
    cv_.wait_for(lock, std::chrono::seconds(30), [this] { return stopping_; });
  }
}

void RoServer::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !housekeeping_.joinable() && !http_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (http_) http_->stop();  // drains in-flight requests, joins the I/O threads
  if (notifier_) notifier_->stop();
  if (callbacks_) callbacks_->stop();
  if (housekeeping_.joinable()) housekeeping_.join();
  http_.reset();
}

RoServer::~RoServer() { stop(); }

}  // namespace m2mdm::server
