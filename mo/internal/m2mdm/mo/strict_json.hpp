// Strict JSON for the signed documents of mo (the MCIM profile, the operator-change token) and
// the server's REST bodies (internal to the project, not installed):
// nlohmann's parser, plus the refusal of a repeated key in any object (nlohmann would keep the
// last one silently, so two readers could see two different documents in the same bytes).
#pragma once

#include "m2mdm/syncml/encoding.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace m2mdm::mo::detail {

/// What parse_strict_json() found.
struct StrictJson {
  nlohmann::json doc;         ///< discarded (is_discarded()) when the bytes are not JSON
  std::string duplicate_key;  ///< the first repeated key; empty = none
};

/// Parses @p bytes without exceptions and without comments, noting the first repeated key.
StrictJson parse_strict_json(ByteView bytes);

}  // namespace m2mdm::mo::detail
