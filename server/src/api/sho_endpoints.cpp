// Endpoints for SHO accounts: /api/v1/shos (operator), /api/v1/callback (the SHO's own).
#include "api/json_body.hpp"
#include "api/request_parts.hpp"
#include "api/responses.hpp"
#include "api/rest_api.hpp"
#include "m2mdm/server/rest_json.hpp"

namespace m2mdm::server {
using json = nlohmann::json;

HttpResponse RestApi::list_shos(Call& /*call*/) {
  auto list = store_.list_shos();
  if (!list) return store_error(list.error());
  json arr = json::array();
  for (const auto& sho : *list)
    arr.push_back({{"id", sho.id},
                   {"name", sho.name},
                   {"signer", sho.signer_name()},
                   {"callbackUrl", sho.callback_url},
                   {"created", sho.created}});
  return json_response(200, arr);
}

HttpResponse RestApi::create_sho(Call& call) {
  auto req = parse_json_body(call, parse_sho_create);
  if (!req) return req.error();
  std::string token = new_bearer_token();
  if (token.empty()) return HttpResponse::json_error(500, "internal error", "no randomness");
  auto sho = store_.create_sho(req->name, hash_token(token), now());
  if (!sho) return store_error(sho.error());
  if (!req->signer.empty()) {
    if (auto r = store_.set_sho_signer(sho->id, req->signer); !r) return store_error(r.error());
    sho->signer = req->signer;
  }
  audit(call, "sho.create", std::to_string(sho->id), req->name);
  return json_response(201, {{"id", sho->id}, {"name", sho->name}, {"signer", sho->signer_name()}, {"token", token}});
}

HttpResponse RestApi::get_callback(Call& call) {
  auto sho = store_.get_sho(call.caller.sho_id);
  if (!sho) return store_error(sho.error());
  return json_response(200, {{"url", sho->callback_url}});
}

HttpResponse RestApi::put_callback(Call& call) {
  auto url = parse_json_body(call, parse_callback_registration);
  if (!url) return url.error();
  // SSRF guard: an address literal is checked now; a name on every delivery (it may move).
  if (auto ip = url_ip_literal(*url); ip && !address_allowed(*ip, options_.callback_policy))
    return bad_request("\"url\" names an address callbacks may not reach (" + *ip + ")");
  if (auto r = store_.set_sho_callback(call.caller.sho_id, *url); !r) return store_error(r.error());
  audit(call, "callback.register", std::to_string(call.caller.sho_id), *url);
  return json_response(200, {{"url", *url}});
}

}  // namespace m2mdm::server
