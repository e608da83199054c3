// libFuzzer: the REST API's JSON request validators (network input). The first byte picks the
// validator; the rest is the body. Properties: no crash/UB/leak, and accepted values respect
// the documented limits.
#include "m2mdm/server/push.hpp"
#include "m2mdm/server/rest_json.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace m2mdm::server;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 16) {
    case 0:
    case 1: {
      auto r = parse_device_import(body, data[0] % 16 == 1, 1000);
      if (r) {
        if (r->empty() || r->size() > 1000) std::abort();
        for (const auto& d : *r) {
          if (d.device.dev_id.empty() || d.device.dev_id.size() > kMaxIdLength) std::abort();
          if (d.device.pcid.empty() || d.device.pcid.size() > kMaxIdLength) std::abort();
          if (!d.device.k.empty() && d.device.k.size() != 16) std::abort();
          if (d.device.k.size() != d.device.opc.size()) std::abort();
          if (d.device.sqn >= (std::uint64_t{1} << 48)) std::abort();
        }
      }
      break;
    }
    case 2: {
      auto r = parse_sho_create(body);
      if (r && (r->name.empty() || r->name.size() > kMaxNameLength || r->signer.size() > 64)) std::abort();
      break;
    }
    case 3: {
      auto r = parse_callback_registration(body);
      if (r && !(r->starts_with("http://") || r->starts_with("https://"))) std::abort();
      break;
    }
    case 4: {
      auto r = parse_job_submission(body, 4096);
      if (r && (r->object.size() > 4096 || r->authorisation.empty())) std::abort();
      if (r && r->ttl_seconds && (*r->ttl_seconds < 60 || *r->ttl_seconds > 365 * 24 * 3600)) std::abort();
      break;
    }
    case 5: {
      auto r = parse_vector_request(body, 16);
      if (r && (r->count < 1 || r->count > 16)) std::abort();
      break;
    }
    case 6: {
      auto r = parse_resync_request(body);
      if (r && (r->rand.size() != 16 || r->auts.size() != 14)) std::abort();
      break;
    }
    case 7: {
      auto r = parse_pva_request(body);
      if (r && r->pfc.empty()) std::abort();
      break;
    }
    case 8: {
      auto r = parse_device_patch(body);
      if (r && !r->push_address && !r->sec_method) std::abort();
      if (r && r->push_address && !r->push_address->empty() && !parse_push_address(*r->push_address)) std::abort();
      if (r && r->sec_method && *r->sec_method != "USERPIN" && *r->sec_method != "NETWPIN" &&
          *r->sec_method != "USERNETWPIN")
        std::abort();
      break;
    }
    case 9: {
      auto r = parse_operator_change_request(body, 4096);
      if (r && (r->authorisation.empty() || r->object.size() > 4096)) std::abort();
      if (r && r->object.empty()) std::abort();  // every variant carries the new SHO's MCIM
      break;
    }
    case 10: {
      auto r = parse_operator_change_batch(body, 4096, 8);
      if (r && (r->changes.empty() || r->changes.size() > 8)) std::abort();
      if (r) {
        for (const auto& c : r->changes)
          if (c.dev_id.empty() || c.authorisation.empty() || c.object.empty() || c.object.size() > 4096) std::abort();
      }
      break;
    }
    case 12: {
      auto r = parse_subscriber_create(body);
      if (r && (r->empty() || r->size() > kMaxIdLength || r->find(':') != std::string::npos)) std::abort();
      break;
    }
    case 13: {
      auto r = parse_device_id_list(body, 8);
      if (r && (r->empty() || r->size() > 8)) std::abort();
      if (r) {
        for (const auto& id : *r)
          if (id.empty() || id.size() > kMaxIdLength) std::abort();
      }
      break;
    }
    case 14: {
      auto r = parse_command_submission(body);
      if (r && (r->ops.empty() || r->ops.size() > kMaxMgmtOps)) std::abort();
      if (r && r->ttl_seconds && (*r->ttl_seconds < 1 || *r->ttl_seconds > 30 * 24 * 3600)) std::abort();
      if (r) {
        for (const auto& op : r->ops) {
          if (op.target.empty() || op.target.size() > kMaxMgmtUriLength) std::abort();
          if (op.target != "." && !op.target.starts_with("./")) std::abort();
          if ((op.verb == MgmtVerb::copy) == op.source.empty()) std::abort();
          if (op.data && (op.data->size() > kMaxMgmtDataLength || op.verb == MgmtVerb::get)) std::abort();
          if (r->wrap == MgmtWrap::atomic && op.verb == MgmtVerb::get) std::abort();
        }
      }
      break;
    }
    case 15: {
      auto r = parse_claim_request(body);
      if (r && (r->dev_id.empty() || r->dev_id.size() > kMaxIdLength)) std::abort();
      if (r && (r->device_pin.empty() || r->device_pin.size() > kMaxSecretLength)) std::abort();
      break;
    }
    default: {  // 11
      auto r = parse_bootstrap_request(body);
      if (r && !r->rebootstrap_token.empty() && (!r->rebootstrap || r->rebootstrap_token.size() < 16)) std::abort();
      break;
    }
  }
  return 0;
}
