// The JSON form of a device event's typed fields, as m2mdm-device --log-format json writes them
// after "event" (field names are part of the wire format: docs/client-integration.md).
#pragma once

#include "m2mdm/client/events.hpp"

#include <nlohmann/json.hpp>

namespace m2mdm::agent {

/// Adds "event" and every field @p event sets (empty/zero fields are left out) to @p out.
void add_event_fields(const client::DeviceEvent& event, nlohmann::ordered_json& out);

}  // namespace m2mdm::agent
