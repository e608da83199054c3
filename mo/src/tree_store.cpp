#include "m2mdm/mo/tree_store.hpp"

#include "m2mdm/mo/error.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>

namespace m2mdm::mo {
namespace {

constexpr std::array<std::uint8_t, 4> kMagic{'M', '2', 'M', 'T'};
constexpr std::uint32_t kVersion = 1;
constexpr std::array<std::uint8_t, 4> kSealedMagic{'M', '2', 'M', 'S'};
constexpr std::uint32_t kSealedVersion = 1;
constexpr std::size_t kSealedHeader = kSealedMagic.size() + 4;
constexpr std::size_t kDigestLen = 32;

std::array<std::uint8_t, kDigestLen> sha256(ByteView data) {
  std::array<std::uint8_t, kDigestLen> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1 || len != kDigestLen) {
    md.fill(0);  // never matches a real digest: load refuses, save writes an unloadable file
  }
  return md;
}

class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    u32(static_cast<std::uint32_t>(v));
  }
  void str16(std::string_view s) {
    // Paths, types, titles and ACLs are bounded far below 64 KiB by URI limits; longer text
    // is truncated rather than corrupting the framing.
    const std::size_t n = std::min<std::size_t>(s.size(), 0xFFFF);
    u16(static_cast<std::uint16_t>(n));
    out_.insert(out_.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
  }
  void bytes32(ByteView b) {
    u32(static_cast<std::uint32_t>(b.size()));
    out_.insert(out_.end(), b.begin(), b.end());
  }
  Bytes& data() { return out_; }

 private:
  Bytes out_;
};

class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}
  bool ok() const { return ok_; }
  bool need(std::size_t n) {
    if (!ok_ || in_.size() - pos_ < n) ok_ = false;
    return ok_;
  }
  std::uint8_t u8() { return need(1) ? in_[pos_++] : 0; }
  std::uint16_t u16() {
    const std::uint16_t hi = u8();
    return static_cast<std::uint16_t>((hi << 8) | u8());
  }
  std::uint32_t u32() {
    const std::uint32_t hi = u16();
    return (hi << 16) | u16();
  }
  std::uint64_t u64() {
    const std::uint64_t hi = u32();
    return (hi << 32) | u32();
  }
  std::string str(std::size_t n) {
    if (!need(n)) return {};
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  std::string str16() { return str(u16()); }
  Bytes bytes32() {
    const std::size_t n = u32();
    if (!need(n)) return {};
    Bytes b(in_.begin() + static_cast<std::ptrdiff_t>(pos_), in_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return b;
  }
  bool at_end() const { return pos_ == in_.size(); }
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  ByteView in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

std::unexpected<std::error_code> corrupt() { return fail(make_error_code(errc::store_corrupt)); }

bool starts_with(ByteView data, const std::array<std::uint8_t, 4>& magic) {
  return data.size() >= magic.size() && std::equal(magic.begin(), magic.end(), data.begin());
}

std::uint32_t be32(ByteView p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

}  // namespace

Bytes serialize_tree(const Tree& tree) {
  Writer w;
  for (auto b : kMagic) w.u8(b);
  w.u32(kVersion);
  w.u64(tree.change_count());
  w.u32(static_cast<std::uint32_t>(tree.nodes().size()));
  for (const auto& [path, n] : tree.nodes()) {
    w.str16(path);
    w.u8(static_cast<std::uint8_t>(n.format));
    w.u8(n.access);
    w.u8(static_cast<std::uint8_t>(n.scope));
    w.u32(n.verno);
    w.u64(static_cast<std::uint64_t>(n.tstamp));
    w.str16(n.type);
    w.str16(n.title);
    w.str16(n.acl.format());
    w.u8(n.value ? 1 : 0);
    if (n.value) w.bytes32(*n.value);
  }
  const auto md = sha256(w.data());
  w.data().insert(w.data().end(), md.begin(), md.end());
  return std::move(w.data());
}

Result<Tree> deserialize_tree(ByteView image, TreeOptions options) {
  if (image.size() < kMagic.size() + 4 + 8 + 4 + kDigestLen) return corrupt();
  const ByteView body = image.first(image.size() - kDigestLen);
  const auto md = sha256(body);
  if (!constant_time_equal(md, image.last(kDigestLen))) return corrupt();
  Reader r(body);
  for (auto b : kMagic) {
    if (r.u8() != b) return corrupt();
  }
  if (r.u32() != kVersion) return fail(make_error_code(errc::store_version));
  (void)r.u64();  // change_count: informational
  const std::uint32_t count = r.u32();
  // Each node needs at least 2+1+1+1+4+8+2+2+2+1 = 24 bytes.
  if (static_cast<std::uint64_t>(count) * 24 > r.remaining()) return corrupt();
  NodeMap nodes;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string path = r.str16();
    Node n;
    const std::uint8_t format = r.u8();
    n.access = r.u8();
    const std::uint8_t scope = r.u8();
    n.verno = r.u32();
    n.tstamp = static_cast<std::int64_t>(r.u64());
    n.type = r.str16();
    n.title = r.str16();
    const std::string acl = r.str16();
    const std::uint8_t has_value = r.u8();
    if (has_value > 1) return corrupt();
    if (has_value) n.value = std::make_shared<const Bytes>(r.bytes32());
    if (!r.ok() || format > static_cast<std::uint8_t>(Format::Float) || scope > 1 || n.access > kAccessAll) {
      return corrupt();
    }
    n.format = static_cast<Format>(format);
    n.scope = static_cast<Scope>(scope);
    auto parsed = Acl::parse(acl);
    if (!parsed) return corrupt();
    n.acl = std::move(*parsed);
    if (!nodes.emplace(std::move(path), std::move(n)).second) return corrupt();
  }
  if (!r.ok() || !r.at_end()) return corrupt();
  Tree tree(std::move(options));
  if (tree.assign(std::move(nodes)) != StatusCode::Ok) return corrupt();
  return tree;
}

TreeStore::TreeStore(std::filesystem::path file, FileOps& ops) : file_(std::move(file)), ops_(&ops) {}

TreeStore::TreeStore(std::filesystem::path file, TreeSealer sealer, FileOps& ops)
    : file_(std::move(file)), sealer_(std::move(sealer)), ops_(&ops) {}

bool TreeStore::clear_image_at(const std::filesystem::path& path) const {
  auto bytes = ops_->read(path);
  if (!bytes) return false;
  const bool clear = starts_with(*bytes, kMagic);
  OPENSSL_cleanse(bytes->data(), bytes->size());  // a clear image holds the account secrets
  return clear;
}

std::string TreeStore::aad() const { return "m2mdm-tree:v1:" + file_.filename().string(); }

Result<Bytes> TreeStore::encode(const Tree& tree) const {
  Bytes image = serialize_tree(tree);
  if (!sealing()) return image;
  auto sealed = sealer_.seal(image, aad());
  OPENSSL_cleanse(image.data(), image.size());
  if (!sealed) return fail(sealed.error());
  Bytes out(kSealedMagic.begin(), kSealedMagic.end());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(kSealedVersion >> shift));
  out.insert(out.end(), sealed->begin(), sealed->end());
  return out;
}

Result<Tree> TreeStore::decode(ByteView stored, const TreeOptions& options, bool& clear) const {
  clear = !starts_with(stored, kSealedMagic);
  if (clear) {
    // Once every generation was sealed, a clear one was put there by someone else.
    if (sealing() && sealer_.sealed_before && sealer_.sealed_before()) return fail(make_error_code(errc::store_unsealed));
    return deserialize_tree(stored, options);
  }
  if (!sealing() || !sealer_.open) return fail(make_error_code(errc::bad_key));  // sealed, and no key to open it
  if (stored.size() < kSealedHeader) return corrupt();
  if (be32(stored.subspan(kSealedMagic.size(), 4)) != kSealedVersion) return fail(make_error_code(errc::store_version));
  auto image = sealer_.open(stored.subspan(kSealedHeader), aad());
  if (!image) return fail(image.error());
  return deserialize_tree(image->view(), options);
}

std::filesystem::path TreeStore::prev_file() const {
  auto p = file_;
  p += ".prev";
  return p;
}

std::filesystem::path TreeStore::tmp_file() const {
  auto p = file_;
  p += ".tmp";
  return p;
}

Result<void> TreeStore::save(const Tree& tree) {
  auto encoded = encode(tree);
  if (!encoded) return fail(encoded.error());
  const Bytes& image = *encoded;
  // 1. The new image, complete and durable, under a name load() never reads.
  auto sink = ops_->create(tmp_file());
  if (!sink) return fail(sink.error());
  if (auto r = (*sink)->write(image); !r) return r;
  if (auto r = (*sink)->sync(); !r) return r;
  if (auto r = (*sink)->close(); !r) return r;
  // 2. The current image becomes the previous generation (atomic rename). From here until
  //    step 3, <file> is absent and load() uses <file>.prev: the old tree.
  if (ops_->exists(file_)) {
    if (auto r = ops_->rename(file_, prev_file()); !r) return r;
  }
  // 3. The new image becomes current (atomic rename), 4. the renames become durable.
  if (auto r = ops_->rename(tmp_file(), file_); !r) return r;
  if (auto r = ops_->sync_dir(file_.parent_path()); !r) return r;
  // Both generations sealed now (the migration's second save)? From here a clear image is refused.
  // A failure to record it is tried again at the next save: the tree itself is saved.
  if (sealing() && sealer_.mark_sealed && !(sealer_.sealed_before && sealer_.sealed_before()) &&
      !clear_image_at(prev_file()))
    (void)sealer_.mark_sealed();
  return {};
}

Result<Tree> TreeStore::load(TreeOptions options) {
  clear_on_disk_ = false;
  bool any = false;
  std::error_code last_error = make_error_code(errc::store_corrupt);
  for (const auto& [path, gen] : {std::pair{file_, Generation::Current}, std::pair{prev_file(), Generation::Previous}}) {
    auto image = ops_->read(path);
    if (!image) {
      if (image.error() != make_error_code(errc::not_found)) {
        any = true;
        last_error = image.error();
      }
      continue;
    }
    any = true;
    bool clear = false;
    auto tree = decode(*image, options, clear);
    if (clear) OPENSSL_cleanse(image->data(), image->size());  // a clear image holds the account secrets
    if (tree) {
      last_ = gen;
      if (sealing())
        clear_on_disk_ = clear || clear_image_at(file_) || clear_image_at(prev_file()) || clear_image_at(tmp_file());
      return tree;
    }
    if (tree.error() == make_error_code(errc::bad_key) && !sealing()) return fail(tree.error());
    last_error = tree.error();
  }
  if (!any) return fail(make_error_code(errc::store_missing));
  return fail(last_error);
}

}  // namespace m2mdm::mo
