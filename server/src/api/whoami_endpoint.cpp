// GET /api/v1/whoami: who the bearer token belongs to (role and, for an SHO or a subscriber, its
// id and name), for clients such as the web console that show only what the token may use.
#include "api/responses.hpp"
#include "api/rest_api.hpp"

namespace m2mdm::server {

HttpResponse RestApi::whoami(Call& call) {
  const Caller& c = call.caller;
  nlohmann::json j;
  switch (c.role) {
    case Role::op: j = {{"role", "operator"}}; break;
    case Role::vno: j = {{"role", "vno"}}; break;
    case Role::sho: {
      j = {{"role", "sho"}, {"shoId", c.sho_id}};
      if (auto s = store_.get_sho(c.sho_id)) j["name"] = s->name;
      break;
    }
    case Role::subscriber: {
      j = {{"role", "subscriber"}, {"subscriberId", c.subscriber_id}};
      if (auto s = store_.get_subscriber(c.subscriber_id)) j["name"] = s->name;
      break;
    }
  }
  return json_response(200, j);
}

}  // namespace m2mdm::server
