/// @file tree_store_fixture.hpp
/// @brief What the TreeStore tests share (clear and sealed): a temporary directory, a tree with
///        a DM account, a fingerprint of a tree, a FileOps that loses power, and the power-loss
///        sweep over a save.
#pragma once

#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/standard_objects.hpp"
#include "m2mdm/mo/tree_store.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace m2mdm::mo::test {

namespace fs = std::filesystem;

// A fresh directory per test under the build tree's temp area.
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("m2mdm_tree_store_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

// Everything that makes two trees "the same state": paths, properties, values.
inline std::string fingerprint(const Tree& t) {
  std::string out;
  for (const auto& [path, n] : t.nodes()) {
    out += path + "|" + std::string(format_name(n.format)) + "|" + n.type + "|" + n.acl.format() + "|" +
           std::to_string(n.verno) + "|" + std::to_string(static_cast<int>(n.access)) + "|" +
           std::to_string(static_cast<int>(n.scope)) + "|" + n.title + "|" +
           (n.value ? hex_encode(*n.value) : std::string("-")) + "\n";
  }
  return out;
}

inline void write_raw(const fs::path& p, const Bytes& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

inline Tree make_tree(std::string_view marker) {
  TreeOptions o;
  o.clock = [] { return std::int64_t{1700000000}; };
  Tree t(o);
  EXPECT_EQ(install_devinfo(t, DevInfo{"IMEI:490154203237518", "ACME", "M2M-1", "1.2", "en"}), StatusCode::Ok);
  EXPECT_EQ(install_dmacc(t), StatusCode::Ok);
  DmAccountView acc;
  acc.node_name = "dpf";
  acc.server_id = "dpf.example";
  acc.name = "DPF";
  acc.app_addr.push_back(DmAppAddr{"1", "https://dpf.example/dm", "URI", {"443"}});
  acc.app_auth.push_back(DmAppAuth{"SRVCRED", "SRVCRED", "DIGEST", "dpf", "s3cret", Bytes{1, 2, 3, 0, 255}});
  EXPECT_EQ(write_dm_account(t, acc), StatusCode::Ok);
  EXPECT_EQ(t.set_text("./Marker", marker), StatusCode::Ok);
  EXPECT_EQ(t.set("./Blob", NodeValue{Format::Bin, {}, Bytes(32, static_cast<std::uint8_t>(marker.size()))}),
            StatusCode::Ok);
  EXPECT_EQ(t.replace(Caller::device(), "./Marker?prop=Title", NodeValue{Format::Chr, {}, Bytes{'T'}}), StatusCode::Ok);
  return t;
}

// A FileOps that behaves like the real one until a budget of "units" (one per byte written,
// one per create/sync/close/rename/sync_dir) runs out; then the device "loses power": the
// operation in progress stops (a write keeps the bytes written so far) and all later ones fail.
class PowerLossOps final : public FileOps {
 public:
  explicit PowerLossOps(std::size_t budget) : budget_(budget) {}
  bool dead() const { return dead_; }
  std::size_t used() const { return used_; }

  Result<std::unique_ptr<FileSink>> create(const fs::path& path) override {
    if (!step()) return io();
    auto sink = posix_file_ops().create(path);
    if (!sink) return fail(sink.error());
    return std::unique_ptr<FileSink>(std::make_unique<Sink>(*this, std::move(*sink)));
  }
  Result<void> rename(const fs::path& from, const fs::path& to) override {
    if (!step()) return io();
    return posix_file_ops().rename(from, to);
  }
  Result<void> sync_dir(const fs::path& dir) override {
    (void)dir;
    if (!step()) return io();
    return {};
  }
  Result<void> remove(const fs::path& path) override {
    if (!step()) return io();
    return posix_file_ops().remove(path);
  }
  Result<Bytes> read(const fs::path& path) override { return posix_file_ops().read(path); }
  bool exists(const fs::path& path) override { return posix_file_ops().exists(path); }

 private:
  class Sink final : public FileSink {
   public:
    Sink(PowerLossOps& ops, std::unique_ptr<FileSink> inner) : ops_(ops), inner_(std::move(inner)) {}
    Result<void> write(ByteView data) override {
      const std::size_t n = ops_.take(data.size());
      if (n > 0) {
        if (auto r = inner_->write(data.first(n)); !r) return r;
      }
      if (n < data.size()) return io();
      return {};
    }
    // fsync itself is not exercised here (the simulated crash is logical); skipping it keeps
    // thousands of iterations fast.
    Result<void> sync() override { return ops_.step() ? Result<void>{} : io(); }
    Result<void> close() override { return ops_.step() ? inner_->close() : io(); }

   private:
    PowerLossOps& ops_;
    std::unique_ptr<FileSink> inner_;
  };

  static std::unexpected<std::error_code> io() { return fail(make_error_code(errc::io_error)); }
  bool step() { return take(1) == 1; }
  std::size_t take(std::size_t want) {
    if (dead_) return 0;
    const std::size_t n = std::min(want, budget_ - used_);
    used_ += n;
    if (n < want) dead_ = true;
    return n;
  }

  std::size_t budget_;
  std::size_t used_ = 0;
  bool dead_ = false;
};

/// Power loss at every unit 0..@p total of saving @p next into @p file: before each run
/// @p prepare(file) writes the generations holding @p old, @p open(file, ops) makes the store that
/// saves through the PowerLossOps, @p reopen(file) the store that loads after the "reboot". Each
/// save succeeds only with the whole budget; each load gives @p old or @p next, never anything
/// else; both are seen.
template <typename Prepare, typename Open, typename Reopen>
void expect_old_or_new_after_power_loss(std::size_t total, const std::string& file, Prepare prepare, Open open,
                                        Reopen reopen, const Tree& old, const Tree& next) {
  std::size_t saw_old = 0;
  std::size_t saw_new = 0;
  TempDir dir;
  for (std::size_t budget = 0; budget <= total; ++budget) {
    fs::remove_all(dir.path());
    fs::create_directories(dir.path());
    prepare(dir.path() / file);
    PowerLossOps ops(budget);
    TreeStore store = open(dir.path() / file, ops);
    EXPECT_EQ(static_cast<bool>(store.save(next)), budget == total) << budget;
    // "Reboot": load with the real file system.
    TreeStore after = reopen(dir.path() / file);
    auto t = after.load();
    ASSERT_TRUE(t) << "nothing loadable after power loss at unit " << budget;
    const std::string fp = fingerprint(*t);
    if (fp == fingerprint(old)) {
      ++saw_old;
    } else if (fp == fingerprint(next)) {
      ++saw_new;
    } else {
      FAIL() << "a mixed or older tree after power loss at unit " << budget;
    }
  }
  EXPECT_GT(saw_old, 0u);
  EXPECT_GT(saw_new, 0u);
}

}  // namespace m2mdm::mo::test
