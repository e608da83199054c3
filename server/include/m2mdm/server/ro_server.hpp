/// @file ro_server.hpp
/// @brief The whole RO endpoint as an embeddable object: store, PVA, REST router, DPF (/dm), DRF,
///        package 0 trigger, SHO callback worker, housekeeping and the HTTP(S) server, started
///        from a ServerConfig. `m2mdm server` is a thin wrapper around it; `m2mdm demo` and tests
///        run it in-process (port 0 = ephemeral; url() tells where it listens).
#pragma once

#include "m2mdm/server/api.hpp"
#include "m2mdm/server/callback_worker.hpp"
#include "m2mdm/server/config.hpp"
#include "m2mdm/server/drf_service.hpp"
#include "m2mdm/server/dpf_service.hpp"
#include "m2mdm/server/http_server.hpp"
#include "m2mdm/server/pva.hpp"
#include "m2mdm/server/push.hpp"
#include "m2mdm/server/sqlite_store.hpp"
#include "m2mdm/syncml/result.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace m2mdm::server {

/// SHA-256 of the SubjectPublicKeyInfo in a PEM file holding a certificate (the first one) or a
/// public key. Errors: io_error (unreadable), invalid_argument (no certificate or key in it).
Result<Bytes> spki_sha256_of_pem(const std::filesystem::path& file);

/// Reads the operator token from config.admin_token_file, or from <state-dir>/admin.token,
/// creating that file (64 hex characters, mode 0600) when it does not exist.
Result<std::string> load_or_create_admin_token(const ServerConfig& config, std::string& why);

/// A running RO endpoint (see the file comment). Thread-safe accessors; stop() is idempotent
/// and the destructor calls it.
class RoServer {
 public:
  /// Everything optional an embedder may replace.
  struct Parts {
    std::shared_ptr<PushSender> push_sender;  ///< default UdpPushSender
  };

  /// Loads the PVA trust, the given token files, the SHO trust anchors and the DRF pins (before
  /// anything is created), then creates the state directory, opens (and migrates) the store,
  /// creates the admin token when none is given, binds config.listen_address:config.port(),
  /// starts the I/O threads, the package 0 trigger, the callback worker and housekeeping. On
  /// failure @p why says what (one line) and the error is config_error, io_error, store_corrupt,
  /// bind_failed or tls_error; whatever this start created in the state directory (the
  /// directory itself, store.key, the SQLite files, admin.token) is removed again.
  static Result<std::unique_ptr<RoServer>> start(const ServerConfig& config, std::string& why, Parts parts = {});
  ~RoServer();
  RoServer(const RoServer&) = delete;
  RoServer& operator=(const RoServer&) = delete;

  /// "http(s)://ADDR:PORT" (the real port when 0 was asked for).
  const std::string& url() const noexcept { return url_; }
  /// The operator bearer token.
  const std::string& admin_token() const noexcept { return admin_token_; }
  Store& store() noexcept { return *store_; }
  ApiRouter& router() noexcept { return *router_; }
  /// Stops accepting, drains in-flight requests, stops the workers (idempotent).
  void stop();

 private:
  RoServer() = default;
  void housekeeping_loop();

  std::string url_;
  std::string admin_token_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Pva> pva_;
  std::unique_ptr<ApiRouter> router_;
  std::shared_ptr<DpfService> dpf_;
  std::shared_ptr<PushSender> sender_;
  std::shared_ptr<DrfService> drf_;
  std::unique_ptr<JobNotifier> notifier_;
  std::unique_ptr<CallbackWorker> callbacks_;
  std::unique_ptr<HttpServer> http_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread housekeeping_;
};

}  // namespace m2mdm::server
