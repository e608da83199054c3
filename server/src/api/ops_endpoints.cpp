// Endpoints for operations and for devices' DM traffic: /healthz, /metrics, /dm.
#include "api/request_parts.hpp"
#include "api/responses.hpp"
#include "api/rest_api.hpp"

namespace m2mdm::server {

HttpResponse RestApi::get_healthz(Call& /*call*/) {
  if (auto ok = store_.ping(); !ok) return HttpResponse::make(503, "text/plain", "store unavailable\n");
  return HttpResponse::make(200, "text/plain", "ok\n");
}

HttpResponse RestApi::get_metrics(Call& /*call*/) {
  auto stats = store_.stats();
  std::optional<HttpServerStats> http;
  std::optional<DpfStats> dpf;
  {
    std::lock_guard lock(mutex_);  // called under the lock: a set_*_stats() waits for a call in progress
    if (wiring_.http_stats) http = wiring_.http_stats();
    if (wiring_.dpf_stats) dpf = wiring_.dpf_stats();
  }
  return HttpResponse::make(200, "text/plain; version=0.0.4; charset=utf-8",
                            metrics_.render(stats ? &*stats : nullptr, http ? &*http : nullptr, dpf ? &*dpf : nullptr));
}

HttpResponse RestApi::post_dm(Call& call) {
  // OMA DM 1.2 HTTP binding: the two SyncML DM media types only.
  if (!ieq(call.body_type, dm_xml_content_type) && !ieq(call.body_type, dm_wbxml_content_type))
    return unsupported_media_type("use application/vnd.syncml.dm+xml or application/vnd.syncml.dm+wbxml");
  if (const auto dm = wired(&Wiring::dm)) return dm->handle_dm(call.request);
  return UnavailableDmEndpoint().handle_dm(call.request);
}

}  // namespace m2mdm::server
