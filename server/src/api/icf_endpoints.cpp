// Endpoints for the ICF (TS 33.102 §6.3): authentication vectors for a PCID's temporary
// credentials, and SQN resynchronisation from an AUTS.
#include "api/responses.hpp"
#include "api/rest_api.hpp"
#include "m2mdm/mo/aka.hpp"
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/rest_json.hpp"

#include <openssl/rand.h>

#include <algorithm>

namespace m2mdm::server {
using json = nlohmann::json;

HttpResponse RestApi::icf_vectors(Call& call) {
  const std::int64_t t = now();
  auto req = parse_vector_request(call.request.body, options_.icf_max_vectors);
  if (!req) return bad_request(req.error());
  auto dev = store_.get_device_by_pcid(req->pcid);
  if (!dev) return store_error(dev.error());
  if (dev->k.size() != 16 || dev->opc.size() != 16)
    return HttpResponse::json_error(409, "conflict", "no temporary credentials for this pcid");
  auto first = store_.reserve_sqn(req->pcid, req->count, t);
  if (!first) {
    if (first.error() == make_error_code(errc::not_found))
      return HttpResponse::json_error(409, "conflict", "sequence numbers exhausted");
    return store_error(first.error());
  }
  json arr = json::array();
  for (std::uint32_t i = 0; i < req->count; ++i) {
    Bytes rand(16);
    if (RAND_bytes(rand.data(), 16) != 1) return HttpResponse::json_error(500, "internal error", "no randomness");
    auto av = mo::generate_vector(dev->k, dev->opc, *first + i, options_.icf_amf, rand);
    if (!av) return HttpResponse::json_error(500, "internal error", av.error().message());
    arr.push_back({{"rand", hex_encode(av->rand)},
                   {"xres", hex_encode(av->xres.view())},
                   {"ck", hex_encode(av->ck.view())},
                   {"ik", hex_encode(av->ik.view())},
                   {"autn", hex_encode(av->autn)}});
  }
  audit(call, "icf.vectors", req->pcid, std::to_string(req->count) + " vectors from SQN " + std::to_string(*first));
  return json_response(200, {{"pcid", req->pcid}, {"vectors", arr}});
}

HttpResponse RestApi::icf_resync(Call& call) {
  const std::int64_t t = now();
  auto req = parse_resync_request(call.request.body);
  if (!req) return bad_request(req.error());
  auto dev = store_.get_device_by_pcid(req->pcid);
  if (!dev) return store_error(dev.error());
  if (dev->k.size() != 16 || dev->opc.size() != 16)
    return HttpResponse::json_error(409, "conflict", "no temporary credentials for this pcid");
  auto sqn_ms = mo::verify_auts(dev->k, dev->opc, req->rand, req->auts);
  if (!sqn_ms) {
    audit(call, "icf.resync", req->pcid, "AUTS verification failed");
    return HttpResponse::json_error(422, "invalid auts", "MAC-S does not verify");
  }
  // TS 33.102 §6.3.5: the HE continues from SQN_MS (next = SQN_MS + 1).
  const std::uint64_t next = std::max(dev->sqn, *sqn_ms + 1);
  if (auto r = store_.set_sqn(req->pcid, next, t); !r) return store_error(r.error());
  audit(call, "icf.resync", req->pcid, "SQN_MS " + std::to_string(*sqn_ms));
  return json_response(200, {{"pcid", req->pcid}, {"sqnMs", *sqn_ms}, {"nextSqn", next}});
}

}  // namespace m2mdm::server
