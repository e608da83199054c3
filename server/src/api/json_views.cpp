#include "api/json_views.hpp"

namespace m2mdm::server {
using json = nlohmann::json;

json device_json(const Device& d) {
  json j = {{"devId", d.dev_id},
            {"pcid", d.pcid},
            {"state", to_string(d.state)},
            {"dpfAddress", d.dpf_address},
            {"pushAddress", d.push_address},
            {"secMethod", d.sec_method},
            {"lastSeen", d.last_seen},
            {"hasPfc", !d.pfc_der.empty()},
            {"created", d.created},
            {"updated", d.updated}};
  if (d.sho_id) j["shoId"] = *d.sho_id;
  if (d.subscriber_id) j["subscriberId"] = *d.subscriber_id;
  if (!d.pfc_validation.empty()) {
    auto v = json::parse(d.pfc_validation, nullptr, false);
    if (!v.is_discarded()) j["pfcValidation"] = v;
  }
  return j;
}

json job_json(const Job& j, const std::optional<JobResult>& r) {
  json out = {{"id", j.id},          {"devId", j.dev_id},       {"shoId", j.sho_id},
              {"kind", to_string(j.kind)}, {"state", to_string(j.state)}, {"correlator", j.correlator},
              {"attempts", j.attempts}, {"deadline", j.deadline}, {"created", j.created},
              {"updated", j.updated}, {"objectBytes", j.payload.size()}};
  if (r) out["result"] = {{"code", r->code}, {"message", r->message}, {"at", r->at}};
  return out;
}

std::string pem_of(ByteView der) {
  std::string b64 = base64_encode(der);
  std::string out = "-----BEGIN CERTIFICATE-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END CERTIFICATE-----\n";
}

}  // namespace m2mdm::server
