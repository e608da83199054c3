/// @file files.hpp
/// @brief File helpers of the tests, fuzzers, benchmarks and conformance runners (header-only).
///
/// Reading a whole file, writing one, a temporary directory removed with its owner, and the
/// folders of test data kept in the repository (the tests read no file outside it).
#pragma once

#include "m2mdm/syncml/encoding.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace m2mdm::test {

/// The bytes of the file at @p p as text ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// The bytes of the file at @p p (empty when it cannot be read).
inline Bytes slurp_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Writes @p data to @p p, replacing the file.
inline void write_file(const std::filesystem::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}
inline void write_file(const std::filesystem::path& p, ByteView data) { write_file(p, as_chars(data)); }

/// A fresh directory "m2mdm-<tag>-XXXXXX" under the system temp dir (mkdtemp). Throws when it
/// cannot be made (tests only).
inline std::filesystem::path make_temp_dir(std::string_view tag) {
  std::string templ = (std::filesystem::temp_directory_path() / ("m2mdm-" + std::string(tag) + "-XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return std::filesystem::path(templ);
}

/// A fresh temporary directory, removed with everything in it when the TempDir goes.
class TempDir {
 public:
  explicit TempDir(std::string_view tag = "srv") : path_(make_temp_dir(tag)) {}
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(TempDir&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

#ifdef M2MDM_SOURCE_DIR
/// The project's source tree (the M2MDM_SOURCE_DIR the build defines).
inline std::filesystem::path source_dir() { return std::filesystem::path(M2MDM_SOURCE_DIR); }

/// The OMA CP vectors kept in the repository (conformance/vectors/cp/README.md names their source).
inline std::filesystem::path cp_vectors_dir() { return source_dir() / "conformance" / "vectors" / "cp"; }
#endif

}  // namespace m2mdm::test
