/// @file vectors.hpp
/// @brief The client conformance vectors (conformance/vectors/client/): one case per directory, a
///        case.json and the server message templates it names. Read from a directory (the
///        GoogleTest runner, the source tree) or from the copy embedded in the binary at build time
///        (`m2mdm conformance`, which must not need the source tree).
#pragma once

#include "m2mdm/syncml/result.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace m2mdm::conformance {

/// One case: its directory name, its parsed case.json and every other file of the directory
/// (name -> bytes as they are on disk).
struct CaseFiles {
  std::string name;
  nlohmann::json spec;
  std::map<std::string, std::string> files;
};

/// The cases of @p dir (each sub-directory holding a case.json), sorted by name. Errors:
/// std::errc::no_such_file_or_directory for a missing directory, std::errc::invalid_argument for a
/// case.json that does not parse.
Result<std::vector<CaseFiles>> load_cases(const std::filesystem::path& dir);

/// The same cases as embedded into the binary when it was built (sorted by name).
Result<std::vector<CaseFiles>> embedded_client_cases();

/// The cases built from raw files (case name, file name, bytes); case.json is parsed. Used by
/// both loaders.
Result<std::vector<CaseFiles>> cases_from_files(
    const std::vector<std::pair<std::string, std::pair<std::string, std::string>>>& files);

}  // namespace m2mdm::conformance
