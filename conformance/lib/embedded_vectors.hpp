// The vector files compiled into the library (generated: embedded_vectors.cpp.in).
#pragma once

#include <span>
#include <string_view>

namespace m2mdm::conformance::detail {

/// One file of conformance/vectors/client/<case_name>/.
struct EmbeddedFile {
  std::string_view case_name;
  std::string_view file_name;
  std::string_view bytes;
};

/// Every embedded file, in no particular order.
std::span<const EmbeddedFile> embedded_vector_files();

}  // namespace m2mdm::conformance::detail
