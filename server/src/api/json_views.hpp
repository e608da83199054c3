// How the REST API shows stored things: a device, a job (with its result), a PfC as PEM.
#pragma once

#include "m2mdm/server/store.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace m2mdm::server {

/// GET /api/v1/devices/{devId} (and each entry of the device listing).
nlohmann::json device_json(const Device& d);

/// A job as submitted and listed, with "result" once the device reported one.
nlohmann::json job_json(const Job& j, const std::optional<JobResult>& r);

/// One DER certificate as PEM (RFC 7468 §2: base64 in 64-character lines).
std::string pem_of(ByteView der);

}  // namespace m2mdm::server
