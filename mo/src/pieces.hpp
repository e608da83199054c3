// Walking a delimited string piece by piece (URI segments, ACL entries and their ServerIDs),
// without allocating, so that a parser can refuse an enormous input early.
#pragma once

#include "m2mdm/syncml/status.hpp"

#include <string_view>

namespace m2mdm::mo::detail {

/// Calls @p each(piece) for every piece of @p text between the separators @p sep, in order (an
/// empty @p text is one empty piece), until one returns a status other than Ok; returns that
/// status, or Ok when every piece was.
template <class Each>
syncml::StatusCode for_each_piece(std::string_view text, char sep, Each&& each) {
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(sep, start);
    const std::string_view piece =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (const syncml::StatusCode s = each(piece); s != syncml::StatusCode::Ok) return s;
    if (end == std::string_view::npos) return syncml::StatusCode::Ok;
    start = end + 1;
  }
}

}  // namespace m2mdm::mo::detail
