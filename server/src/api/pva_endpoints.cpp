// Endpoint for the PVA (TR 33.812 §5.1.3.5.2): validating a device's platform credential (PfC),
// optionally recording the verdict on the device.
#include "api/request_parts.hpp"
#include "api/responses.hpp"
#include "api/rest_api.hpp"
#include "m2mdm/server/rest_json.hpp"

namespace m2mdm::server {
using json = nlohmann::json;

HttpResponse RestApi::validate_pfc(Call& call) {
  const std::string_view body_mt = call.body_type;
  PvaRequest req;
  if (ieq(body_mt, "application/pkix-cert") || ieq(body_mt, "application/x-pem-file") ||
      ieq(body_mt, "application/x-x509-ca-cert")) {
    req.pfc.assign(call.request.body.begin(), call.request.body.end());
    req.dev_id = query_param(call.request.query(), "devId");
  } else if (json_body_type(body_mt)) {
    auto parsed = parse_pva_request(call.request.body);
    if (!parsed) return bad_request(parsed.error());
    req = std::move(*parsed);
  } else {
    return unsupported_media_type("use application/json, application/pkix-cert or application/x-pem-file");
  }
  if (!req.dev_id.empty()) {
    if (auto d = visible_device(call.caller, req.dev_id); !d) return store_error(d.error());
  }
  const std::int64_t t = now();
  PvaVerdict v = pva_.validate(req.pfc, t, req.intermediates);
  json verdict = {{"valid", v.valid},     {"reason", v.reason},        {"subject", v.subject},
                  {"issuer", v.issuer},   {"not_after", v.not_after}, {"validatedAt", t}};
  if (!req.dev_id.empty()) {
    if (auto r = store_.set_pfc_validation(req.dev_id, dump(verdict), t); !r) return store_error(r.error());
    verdict["devId"] = req.dev_id;
  }
  audit(call, "pva.validate", req.dev_id.empty() ? v.subject : req.dev_id,
        std::string(v.valid ? "valid" : "invalid") + ": " + v.reason);
  return json_response(200, verdict);
}

}  // namespace m2mdm::server
