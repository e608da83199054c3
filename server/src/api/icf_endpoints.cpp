// Endpoints for the ICF (TS 33.102 §6.3): authentication vectors for a PCID's temporary
// credentials, and SQN resynchronisation from an AUTS.
#include "api/json_body.hpp"
#include "api/request_parts.hpp"
#include "api/responses.hpp"
#include "api/rest_api.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/rest_json.hpp"

namespace m2mdm::server {
using json = nlohmann::json;

namespace {

/// The ICF's refusals as HTTP answers (the service speaks in server::errc).
HttpResponse icf_error(const std::error_code& ec) {
  if (ec == make_error_code(errc::no_credentials))
    return HttpResponse::json_error(409, "conflict", "no temporary credentials for this pcid");
  if (ec == make_error_code(errc::exhausted))
    return HttpResponse::json_error(409, "conflict", "sequence numbers exhausted");
  if (ec == make_error_code(errc::verification_failed))
    return HttpResponse::json_error(422, "invalid auts", "MAC-S does not verify");
  if (ec == make_error_code(errc::invalid_argument)) return bad_request(ec.message());
  if (ec.category() != category()) return HttpResponse::json_error(500, "internal error", ec.message());
  return store_error(ec);
}

}  // namespace

HttpResponse RestApi::icf_vectors(Call& call) {
  auto req = parse_json_body(call, parse_vector_request, icf_.options().max_vectors);
  if (!req) return req.error();
  auto batch = icf_.vectors(req->pcid, req->count, now());
  if (!batch) return icf_error(batch.error());
  json arr = json::array();
  for (const auto& av : batch->vectors)
    arr.push_back({{"rand", hex_encode(av.rand)},
                   {"xres", hex_encode(av.xres.view())},
                   {"ck", hex_encode(av.ck.view())},
                   {"ik", hex_encode(av.ik.view())},
                   {"autn", hex_encode(av.autn)}});
  audit(call, "icf.vectors", req->pcid,
        std::to_string(req->count) + " vectors from SQN " + std::to_string(batch->first_sqn));
  return json_response(200, {{"pcid", req->pcid}, {"vectors", arr}});
}

HttpResponse RestApi::icf_resync(Call& call) {
  auto req = parse_json_body(call, parse_resync_request);
  if (!req) return req.error();
  auto out = icf_.resync(req->pcid, req->rand, req->auts, now());
  if (!out) {
    if (out.error() == make_error_code(errc::verification_failed))
      audit(call, "icf.resync", req->pcid, "AUTS verification failed");
    return icf_error(out.error());
  }
  audit(call, "icf.resync", req->pcid, "SQN_MS " + std::to_string(out->sqn_ms));
  return json_response(200, {{"pcid", req->pcid}, {"sqnMs", out->sqn_ms}, {"nextSqn", out->next_sqn}});
}

}  // namespace m2mdm::server
