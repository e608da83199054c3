#include "m2mdm/mo/atomic_file.hpp"

#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace m2mdm::mo {
namespace {

std::unexpected<std::error_code> io_fail() { return fail(make_error_code(errc::io_error)); }

class PosixSink final : public FileSink {
 public:
  explicit PosixSink(int fd) : fd_(fd) {}
  Result<void> write(ByteView data) override {
    if (!write_all(fd_.get(), data)) return io_fail();
    return {};
  }
  Result<void> sync() override {
    if (::fsync(fd_.get()) != 0) return io_fail();
    return {};
  }
  Result<void> close() override {
    const int f = fd_.release();
    if (f >= 0 && ::close(f) != 0) return io_fail();
    return {};
  }

 private:
  Fd fd_;
};

class PosixOps final : public FileOps {
 public:
  Result<std::unique_ptr<FileSink>> create(const std::filesystem::path& path) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return io_fail();
    return std::unique_ptr<FileSink>(std::make_unique<PosixSink>(fd));
  }
  Result<void> rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return io_fail();
    return {};
  }
  Result<void> sync_dir(const std::filesystem::path& dir) override {
    const Fd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) return io_fail();
    return {};
  }
  Result<void> remove(const std::filesystem::path& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_fail();
    return {};
  }
  Result<Bytes> read(const std::filesystem::path& path) override {
    const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return fail(make_error_code(errno == ENOENT ? errc::not_found : errc::io_error));
    Bytes out;
    std::uint8_t buf[65536];
    while (true) {
      const ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        return io_fail();
      }
      if (n == 0) break;
      out.insert(out.end(), buf, buf + n);
    }
    return out;
  }
  bool exists(const std::filesystem::path& path) override {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
  }
};

}  // namespace

FileOps& posix_file_ops() {
  static PosixOps ops;
  return ops;
}

Result<void> atomic_write(FileOps& ops, const std::filesystem::path& path, ByteView data) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  auto sink = ops.create(tmp);
  if (!sink) return fail(sink.error());
  if (auto r = (*sink)->write(data); !r) return r;
  if (auto r = (*sink)->sync(); !r) return r;  // data durable before it becomes visible
  if (auto r = (*sink)->close(); !r) return r;
  if (auto r = ops.rename(tmp, path); !r) return r;  // atomic replacement (POSIX rename)
  return ops.sync_dir(path.parent_path());           // the rename itself durable
}

}  // namespace m2mdm::mo
