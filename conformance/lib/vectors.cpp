// The client vectors as files: read from a directory, or from the copy embedded at build time
// (conformance/lib/embedded_vectors.cpp.in, filled by conformance/CMakeLists.txt).
#include "m2mdm/conformance/vectors.hpp"

#include "embedded_vectors.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace m2mdm::conformance {

namespace fs = std::filesystem;

Result<std::vector<CaseFiles>> cases_from_files(
    const std::vector<std::pair<std::string, std::pair<std::string, std::string>>>& files) {
  std::map<std::string, CaseFiles> by_name;
  for (const auto& [name, file] : files) {
    auto& c = by_name[name];
    c.name = name;
    if (file.first == "case.json") {
      c.spec = nlohmann::json::parse(file.second, nullptr, false);
      if (c.spec.is_discarded() || !c.spec.is_object()) return fail(std::make_error_code(std::errc::invalid_argument));
    } else {
      c.files[file.first] = file.second;
    }
  }
  std::vector<CaseFiles> out;
  for (auto& [name, c] : by_name)
    if (c.spec.is_object()) out.push_back(std::move(c));
  return out;  // std::map: sorted by name
}

Result<std::vector<CaseFiles>> load_cases(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return fail(std::make_error_code(std::errc::no_such_file_or_directory));
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> files;
  for (const auto& d : fs::directory_iterator(dir, ec)) {
    if (!d.is_directory() || !fs::exists(d.path() / "case.json")) continue;
    for (const auto& f : fs::directory_iterator(d.path(), ec)) {
      if (!f.is_regular_file()) continue;
      std::ifstream in(f.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      files.push_back({d.path().filename().string(), {f.path().filename().string(), ss.str()}});
    }
  }
  if (ec) return fail(ec);
  return cases_from_files(files);
}

Result<std::vector<CaseFiles>> embedded_client_cases() {
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> files;
  for (const auto& f : detail::embedded_vector_files())
    files.push_back({std::string(f.case_name), {std::string(f.file_name), std::string(f.bytes)}});
  return cases_from_files(files);
}

}  // namespace m2mdm::conformance
