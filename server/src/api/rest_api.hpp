// RestApi: what ApiRouter (m2mdm/server/api.hpp) does, behind its public face. A route table
// (rest_api.cpp) maps method + path to one member function per endpoint; the endpoints are
// grouped by the role they serve (*_endpoints.cpp). Thread-safe like ApiRouter.
#pragma once

#include "api/route_table.hpp"
#include "m2mdm/server/api.hpp"
#include "m2mdm/server/icf.hpp"
#include "m2mdm/server/operator_change_service.hpp"

#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>

namespace m2mdm::server {

class RestApi {
 public:
  using Clock = ApiRouter::Clock;
  RestApi(Store& store, const Pva& pva, ApiOptions options, Clock clock);

  /// Routes, runs the endpoint, counts the request in the metrics; never throws.
  HttpResponse handle(const HttpRequest& request);

  /// What the server installs after construction, behind one mutex: ApiRouter's set_* functions
  /// replace a part with install(), endpoints copy one with wired(), /metrics calls the stats
  /// while holding it.
  struct Wiring {
    std::shared_ptr<DmEndpoint> dm;                  ///< nullptr: /dm answers 503 (UnavailableDmEndpoint)
    std::string default_dpf_address;                 ///< for imported devices that name none; ApiOptions' at first
    std::function<HttpServerStats()> http_stats;     ///< empty: no connection gauges
    std::function<DpfStats()> dpf_stats;             ///< empty: no DM session counters
    std::shared_ptr<DrfService> drf;                 ///< nullptr: bootstrap answers 503
    std::function<void(const Job&)> job_listener;    ///< told when a job was queued
    std::function<void(const MgmtCommand&)> command_listener;  ///< told when a command was queued
  };
  /// Replaces one part of the wiring, under the lock.
  template <class T, class V>
  void install(T Wiring::*part, V&& value) {
    std::lock_guard lock(mutex_);
    wiring_.*part = std::forward<V>(value);
  }
  const Metrics& metrics() const noexcept { return metrics_; }
  const std::shared_ptr<OperatorChangeService>& operator_changes() const noexcept { return changes_; }

  /// The route table, in matching order.
  static std::span<const Route> routes();

 private:
  HttpResponse route(const HttpRequest& request, std::string& route_name);
  /// Runs the rows [first, last) of one pattern: role, load, method, handler.
  HttpResponse dispatch(std::span<const Route> rows, Call& call);
  /// The caller of an /api/v1 request, or the 401 (or store failure) response.
  std::expected<Caller, HttpResponse> authenticate(const HttpRequest& request);
  std::int64_t now() const;
  void audit(const Call& call, std::string action, std::string subject, std::string detail);
  /// Tells the job listener (the package 0 trigger) that @p job was queued.
  void job_queued(const Job& job);
  /// Tells the command listener that @p cmd was queued.
  void command_queued(const MgmtCommand& cmd);
  /// A copy of one part of the wiring, taken under the lock.
  template <class T>
  T wired(T Wiring::*part) const {
    std::lock_guard lock(mutex_);
    return wiring_.*part;
  }
  /// Loads a device the caller may see: an SHO sees only its own, a VNO none (not_found otherwise).
  Result<Device> visible_device(const Caller& caller, const std::string& dev_id);

  // --- load steps
  std::optional<HttpResponse> load_visible_device(Call& call);

  // --- endpoints: operations (ops_endpoints.cpp)
  HttpResponse get_healthz(Call& call);
  HttpResponse get_metrics(Call& call);
  HttpResponse post_dm(Call& call);
  // --- the web console's static assets (console_endpoints.cpp; docs/console.md)
  HttpResponse redirect_console(Call& call);
  HttpResponse get_console_asset(Call& call);
  /// GET /api/v1/whoami: the caller's role (whoami_endpoint.cpp).
  HttpResponse whoami(Call& call);
  // --- the audit log (audit_endpoints.cpp)
  HttpResponse list_audit(Call& call);
  // --- SHO accounts (sho_endpoints.cpp)
  HttpResponse list_shos(Call& call);
  HttpResponse create_sho(Call& call);
  HttpResponse get_callback(Call& call);
  HttpResponse put_callback(Call& call);
  // --- subscribers, the devices' owners (subscriber_endpoints.cpp)
  HttpResponse list_subscribers(Call& call);
  HttpResponse create_subscriber(Call& call);
  HttpResponse get_subscriber(Call& call);
  HttpResponse list_subscriber_devices(Call& call);
  HttpResponse assign_subscriber_devices(Call& call);
  HttpResponse remove_subscriber_device(Call& call);
  /// The subscriber named by the {id} parameter (404 otherwise).
  std::expected<Subscriber, HttpResponse> subscriber_param(const Call& call);
  /// DevIds per assignment request.
  static constexpr std::size_t kMaxAssignDevices = 1000;
  /// A listing's page: ?after=<last key of the previous page>&limit=1..1000 (default 100).
  struct Page {
    std::string after;
    std::size_t limit = 100;
  };
  std::expected<Page, HttpResponse> page_params(const Call& call);
  /// A listing keyed by a row id: ?after=<last id of the previous page>&limit=1..1000 (default 100).
  struct IdPage {
    std::int64_t after = 0;  ///< 0 = the first page
    std::size_t limit = 100;
  };
  std::expected<IdPage, HttpResponse> id_page_params(const Call& call);
  // --- devices (device_endpoints.cpp)
  HttpResponse import_devices(Call& call);
  /// POST /api/v1/devices:claim: an SHO takes a device without an SHO by its device PIN.
  HttpResponse claim_device(Call& call);
  HttpResponse list_devices(Call& call);
  HttpResponse get_device(Call& call);
  HttpResponse patch_device(Call& call);
  HttpResponse get_device_pfc(Call& call);
  // --- DPF jobs (job_endpoints.cpp)
  HttpResponse list_device_jobs(Call& call);
  HttpResponse submit_job(Call& call);
  HttpResponse get_job(Call& call);
  HttpResponse cancel_job(Call& call);
  /// GET /api/v1/jobs: jobs across devices, newest first (the operator all, an SHO its own).
  HttpResponse list_jobs(Call& call);
  /// POST /api/v1/jobs/{id}/retry: a failed, expired or cancelled job queued again as a new job.
  HttpResponse retry_job(Call& call);
  /// The job named by the {id} parameter if the caller may see it (an SHO: only its own).
  std::expected<Job, HttpResponse> visible_job(const Call& call);
  // --- generic management commands (command_endpoints.cpp)
  HttpResponse submit_command(Call& call);
  HttpResponse get_command(Call& call);
  HttpResponse list_device_commands(Call& call);
  // --- operator change (operator_change_endpoints.cpp)
  HttpResponse request_operator_change(Call& call);
  HttpResponse request_operator_change_batch(Call& call);
  HttpResponse get_operator_change_batch(Call& call);
  /// Devices per bulk operator-change request.
  static constexpr std::size_t kMaxBatchDevices = 1000;
  HttpResponse get_operator_change(Call& call);
  HttpResponse acknowledge_operator_change(Call& call);
  HttpResponse list_device_operator_changes(Call& call);
  /// GET /api/v1/operator-changes: changes not yet terminal (the operator all, an SHO its own).
  HttpResponse list_open_operator_changes(Call& call);
  /// The change named by {id} if the caller is the operator, its old or its new SHO.
  std::expected<OperatorChange, HttpResponse> visible_change(const Call& call);
  // --- DRF (drf_endpoints.cpp)
  HttpResponse bootstrap_device(Call& call);
  HttpResponse get_registry_entry(Call& call);
  HttpResponse list_device_bootstraps(Call& call);
  // --- PVA, ICF (pva_endpoints.cpp, icf_endpoints.cpp)
  HttpResponse validate_pfc(Call& call);
  HttpResponse icf_vectors(Call& call);
  HttpResponse icf_resync(Call& call);

  Store& store_;
  const Pva& pva_;
  ApiOptions options_;
  mo::OpenSslRandom random_;
  IcfService icf_;
  Clock clock_;
  std::shared_ptr<OperatorChangeService> changes_;
  mutable std::mutex mutex_;  // guards wiring_
  Wiring wiring_;
  Metrics metrics_;
};

}  // namespace m2mdm::server
