/// @file atomic_file.hpp
/// @brief Crash-safe file replacement behind a small file-system interface.
///
/// atomic_write(): write `<path>.tmp`, fsync it, close, rename over `<path>`, fsync the
/// directory. POSIX rename is atomic, so after a power loss at any byte the path names either
/// the complete old content or the complete new content. The FileOps interface exists so tests
/// can inject a failure after any number of bytes or at any step.
#pragma once

#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <filesystem>
#include <memory>

namespace m2mdm::mo {

/// A file open for writing.
class FileSink {
 public:
  virtual ~FileSink() = default;
  virtual Result<void> write(ByteView data) = 0;
  /// fsync (data and metadata).
  virtual Result<void> sync() = 0;
  virtual Result<void> close() = 0;
};

/// The file-system operations persistence needs. Failures are mo::errc::io_error (with the
/// errno message in logs) or mo::errc::not_found for a missing file on read.
class FileOps {
 public:
  virtual ~FileOps() = default;
  /// Creates or truncates @p path for writing (mode 0600).
  virtual Result<std::unique_ptr<FileSink>> create(const std::filesystem::path& path) = 0;
  virtual Result<void> rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  /// fsync of a directory, so that a rename in it is durable.
  virtual Result<void> sync_dir(const std::filesystem::path& dir) = 0;
  virtual Result<void> remove(const std::filesystem::path& path) = 0;
  virtual Result<Bytes> read(const std::filesystem::path& path) = 0;
  virtual bool exists(const std::filesystem::path& path) = 0;
};

/// The real POSIX implementation (open/write/fsync/rename).
FileOps& posix_file_ops();

/// Replaces @p path with @p data crash-safely (see file comment). On failure the temp file may
/// remain; @p path is untouched.
Result<void> atomic_write(FileOps& ops, const std::filesystem::path& path, ByteView data);

}  // namespace m2mdm::mo
