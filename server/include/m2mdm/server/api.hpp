/// @file api.hpp
/// @brief The RO's HTTP front: a router (`ApiRouter`, an HttpHandler) that serves `/dm` (to a
///        DmEndpoint), the REST API under `/api/v1/` (SHO, VNO and operator functions, JSON),
///        `/metrics` (Prometheus text) and `/healthz`.
#pragma once

#include "m2mdm/server/callback_worker.hpp"
#include "m2mdm/server/dpf_service.hpp"
#include "m2mdm/server/drf_service.hpp"
#include "m2mdm/server/http.hpp"
#include "m2mdm/server/http_server.hpp"
#include "m2mdm/server/operator_change_service.hpp"
#include "m2mdm/server/pva.hpp"
#include "m2mdm/server/store.hpp"
#include "m2mdm/mo/trust.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <tuple>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace m2mdm::server {

/// Settings of the REST API.
struct ApiOptions {
  Bytes admin_token_hash;               ///< SHA-256 of the operator token; empty = no operator access
  std::vector<Bytes> vno_token_hashes;  ///< SHA-256 of VNO tokens (ICF); the operator token works too
  std::int64_t default_job_ttl = 7 * 24 * 3600;  ///< job deadline = now + this, unless the SHO gives one
  std::size_t max_import_devices = 100000;
  std::uint16_t icf_max_vectors = 16;
  Bytes icf_amf = {0x80, 0x00};         ///< AMF in generated AUTNs (separation bit set, TS 33.102 Annex H)
  std::string default_dpf_address;      ///< used by import when a device gives none
  AddressPolicy callback_policy;        ///< a callback URL whose host is an IP literal must pass it
  /// The SHO trust anchors operator-change tokens are verified against (the CAs of the SHOs'
  /// signing certificates, as the devices hold them); unset = operator change not configured.
  std::optional<mo::TrustAnchors> sho_anchors;
  /// The CAs of the subscribers' signing certificates (tokens of devices that have a subscriber).
  std::optional<mo::TrustAnchors> subscriber_anchors;
  /// Failed claims (POST /api/v1/devices:claim) an SHO may make per window before every claim of
  /// it answers 429 (brute force of a device PIN).
  ClaimPolicy claim_policy;
};

/// Request counters for /metrics.
class Metrics {
 public:
  /// Counts one request; @p route is a low-cardinality template ("/api/v1/devices/{devId}").
  void count(std::string_view route, std::string_view method, int status);
  /// Prometheus text exposition format 0.0.4 (each part present only when given).
  std::string render(const StoreStats* store, const HttpServerStats* http, const DpfStats* dpf = nullptr) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
};

class RestApi;

/// The whole HTTP surface. Thread-safe. Requests are dispatched through a route table (method,
/// path pattern, roles allowed, endpoint); see server/src/api/rest_api.cpp.
/// Authentication: `Authorization: Bearer <token>`; the token's SHA-256 is compared in
/// constant time with the operator/VNO hashes and looked up among the SHOs. Every `/api/v1/`
/// request without valid credentials gets 401 whatever the path.
class ApiRouter final : public HttpHandler {
 public:
  using Clock = std::function<std::int64_t()>;  ///< Unix seconds
  ApiRouter(Store& store, const Pva& pva, ApiOptions options, Clock clock = {});

  /// Installs the DM engine (nullptr = back to the 503 endpoint).
  void set_dm_endpoint(std::shared_ptr<DmEndpoint> endpoint);
  /// Sets the DPF URL given to imported devices that name none (known only once the server has bound).
  void set_default_dpf_address(std::string url);
  /// Lets /metrics report connection gauges of the running server.
  void set_http_stats(std::function<HttpServerStats()> stats);
  /// Lets /metrics report the DPF's DM session counters.
  void set_dpf_stats(std::function<DpfStats()> stats);
  /// Installs the DRF (POST /api/v1/devices/{devId}/bootstrap; nullptr = 503).
  void set_drf(std::shared_ptr<DrfService> drf);
  /// Called after a job was queued (the package 0 trigger wakes up).
  void set_job_listener(std::function<void(const Job&)> listener);
  /// Called after a management command was queued (a package 0 is pushed to its device).
  void set_command_listener(std::function<void(const MgmtCommand&)> listener);

  HttpResponse handle(const HttpRequest& request) override;
  const Metrics& metrics() const noexcept;
  /// The operator-change service behind the REST endpoints (built from ApiOptions::sho_anchors;
  /// set_drf() reaches it too). The DPF tells it of job results.
  std::shared_ptr<OperatorChangeService> operator_changes() const;

  ~ApiRouter() override;
  ApiRouter(const ApiRouter&) = delete;
  ApiRouter& operator=(const ApiRouter&) = delete;

 private:
  std::unique_ptr<RestApi> api_;  ///< the route table and one function per endpoint (server/src/api/)
};

}  // namespace m2mdm::server
