// ApiRouter, the public face of the RO's HTTP surface: it hands every request to RestApi
// (api/rest_api.hpp), where the route table and the endpoints live.
#include "api/rest_api.hpp"
#include "m2mdm/server/api.hpp"

namespace m2mdm::server {

ApiRouter::ApiRouter(Store& store, const Pva& pva, ApiOptions options, Clock clock)
    : api_(std::make_unique<RestApi>(store, pva, std::move(options), std::move(clock))) {}

ApiRouter::~ApiRouter() = default;

// The set_* functions install their part of RestApi::Wiring (under RestApi's lock).
using Wiring = RestApi::Wiring;

void ApiRouter::set_dm_endpoint(std::shared_ptr<DmEndpoint> endpoint) {
  api_->install(&Wiring::dm, std::move(endpoint));
}
void ApiRouter::set_default_dpf_address(std::string url) { api_->install(&Wiring::default_dpf_address, std::move(url)); }
void ApiRouter::set_http_stats(std::function<HttpServerStats()> stats) { api_->install(&Wiring::http_stats, std::move(stats)); }
void ApiRouter::set_dpf_stats(std::function<DpfStats()> stats) { api_->install(&Wiring::dpf_stats, std::move(stats)); }
void ApiRouter::set_drf(std::shared_ptr<DrfService> drf) {
  api_->operator_changes()->set_drf(drf);
  api_->install(&Wiring::drf, std::move(drf));
}
void ApiRouter::set_job_listener(std::function<void(const Job&)> listener) {
  api_->install(&Wiring::job_listener, std::move(listener));
}
void ApiRouter::set_command_listener(std::function<void(const MgmtCommand&)> listener) {
  api_->install(&Wiring::command_listener, std::move(listener));
}
HttpResponse ApiRouter::handle(const HttpRequest& request) { return api_->handle(request); }
const Metrics& ApiRouter::metrics() const noexcept { return api_->metrics(); }
std::shared_ptr<OperatorChangeService> ApiRouter::operator_changes() const { return api_->operator_changes(); }

}  // namespace m2mdm::server
