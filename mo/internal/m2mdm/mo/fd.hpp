/// @file fd.hpp
/// @brief The tree's one RAII owner of a POSIX file descriptor, and a whole-buffer write to one.
///        Build-tree only (not installed).
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <span>
#include <utility>

namespace m2mdm::mo {

/// Owns a file descriptor (or nothing, -1) and closes it when destroyed. Move-only.
class Fd {
 public:
  Fd() noexcept = default;
  /// Takes ownership of @p fd (a negative value, such as a failed open(2), owns nothing).
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  [[nodiscard]] int get() const noexcept { return fd_; }
  [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
  /// Gives the descriptor up without closing it (e.g. to check close(2)'s result yourself).
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
  /// Closes the descriptor held, if any, and takes @p fd.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/// Writes all of @p data to @p fd, carrying on after short writes and EINTR. False on failure,
/// with errno as write(2) left it.
inline bool write_all(int fd, std::span<const std::uint8_t> data) noexcept {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace m2mdm::mo
