#include "m2mdm/client/software_tre.hpp"

#include "m2mdm/client/error.hpp"
#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/fd.hpp"
#include "m2mdm/mo/pki.hpp"
#include "m2mdm/mo/secret_box.hpp"

#include <openssl/crypto.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <memory>

namespace m2mdm::client {

namespace fs = std::filesystem;

bool valid_storage_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64 || id == "." || id == "..") return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
           c == '-';
  });
}

namespace {

constexpr std::string_view kMagic = "M2T1";

std::string aad_of(std::string_view id) { return "m2mdm-tre-store:v1:" + std::string(id); }

Result<Bytes> read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return fail(mo::errc::not_found);
  Bytes out{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return fail(mo::errc::io_error);
  return out;
}

// AES-256-GCM (mo::SecretBox), the id as AAD: an item moved to another id, truncated or
// altered fails. Stored form: "M2T1" || nonce || ciphertext || tag.
Result<Bytes> seal_item(ByteView key, std::string_view id, ByteView plain) {
  auto box = mo::SecretBox::from_key(key);
  if (!box) return fail(box.error());
  auto sealed = box->seal(plain, aad_of(id));
  if (!sealed) return fail(sealed.error());
  Bytes out(kMagic.begin(), kMagic.end());
  out.insert(out.end(), sealed->begin(), sealed->end());
  return out;
}

Result<mo::SecretBytes> open_item(ByteView key, std::string_view id, ByteView blob) {
  if (blob.size() < kMagic.size() || as_chars(blob.first(kMagic.size())) != kMagic) return fail(errc::tre_storage_corrupt);
  auto box = mo::SecretBox::from_key(key);
  if (!box) return fail(errc::tre_storage_corrupt);
  auto plain = box->open(blob.subspan(kMagic.size()), aad_of(id));
  if (!plain) return fail(errc::tre_storage_corrupt);
  return plain;
}

void sync_dir(const fs::path& dir) {
  if (const mo::Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); dfd.valid()) ::fsync(dfd.get());
}

bool write_fd(int fd, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<SoftwareTre>> SoftwareTre::open(const fs::path& dir) {
  auto tre = std::unique_ptr<SoftwareTre>(new SoftwareTre());
  tre->dir_ = dir;
  auto key_pem = read_all(dir / "platform-key.pem");
  if (!key_pem) return fail(key_pem.error());
  auto pfc_pem = read_all(dir / "pfc.pem");
  if (!pfc_pem) return fail(pfc_pem.error());
  auto key = mo::PrivateKey::from_pem(as_chars(*key_pem));
  OPENSSL_cleanse(key_pem->data(), key_pem->size());
  if (!key) return fail(key.error());
  auto pfc = mo::Certificate::from_pem(as_chars(*pfc_pem));
  if (!pfc) return fail(pfc.error());
  if (!key->matches(*pfc)) return fail(mo::errc::bad_key);
  tre->key_ = std::move(*key);
  tre->pfc_ = std::move(*pfc);

  std::error_code ec;
  fs::create_directories(dir / "store", ec);
  if (ec) return fail(mo::errc::io_error);

  // The storage key: created once (0600). Without it nothing stored can be verified, so every
  // stored item then fails its check below and becomes Blocked.
  auto skey = read_all(dir / "storage.key");
  if (!skey) {
    auto fresh = mo::random_bytes(32);
    if (!fresh) return fail(fresh.error());
    if (auto w = mo::write_file_atomically(dir / "storage.key", *fresh, 0600); !w) return fail(w.error());
    skey = std::move(*fresh);
  }
  if (skey->size() != 32) {
    OPENSSL_cleanse(skey->data(), skey->size());
    return fail(errc::tre_storage_corrupt);
  }
  tre->storage_key_ = mo::SecretBytes(*skey);
  OPENSSL_cleanse(skey->data(), skey->size());

  // Start-up integrity check (seed 002 §5.1.1.1.3): every item must open; one that does not
  // becomes Blocked. Temp files are the remains of interrupted writes: the committed item (if
  // any) is the .bin, so they are dropped.
  for (const auto& entry : fs::directory_iterator(dir / "store", ec)) {
    const fs::path p = entry.path();
    if (p.extension() == ".tmp") {
      fs::remove(p, ec);
      continue;
    }
    if (p.extension() != ".bin") continue;
    const std::string id = p.stem().string();
    auto blob = read_all(p);
    bool ok = blob && valid_storage_id(id) && open_item(tre->storage_key_.view(), id, *blob).has_value();
    if (!ok) {
      fs::path blocked = p;
      blocked.replace_extension(".blocked");
      fs::rename(p, blocked, ec);
      tre->blocked_at_start_.push_back(id);
    }
  }
  if (!tre->blocked_at_start_.empty()) sync_dir(dir / "store");
  std::sort(tre->blocked_at_start_.begin(), tre->blocked_at_start_.end());
  return tre;
}

Bytes SoftwareTre::platform_certificate() const { return pfc_.to_der(); }

std::string SoftwareTre::device_id() const { return mo::device_id_of(pfc_); }

Result<mo::OpenedMcim> SoftwareTre::open_sealed(ByteView sealed, const mo::TrustAnchors& anchors,
                                                const mo::OpenPolicy& policy) {
  mo::OpenPolicy p = policy;
  p.device_id = device_id();
  return mo::open_sealed(sealed, key_, pfc_, anchors, p);
}

Result<Bytes> SoftwareTre::sign(ByteView data) { return key_.sign(data); }

Result<void> SoftwareTre::put(std::string_view id, ByteView data) {
  if (!valid_storage_id(id)) return fail(errc::tre_bad_id);
  auto blob = seal_item(storage_key_.view(), id, data);
  if (!blob) return fail(blob.error());
  const fs::path store = dir_ / "store";
  const fs::path target = store / (std::string(id) + ".bin");
  const fs::path tmp = store / (std::string(id) + ".tmp");
  auto crash = [&](std::string_view step) { return crash_hook_ && crash_hook_(step, id); };

  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail(mo::errc::io_error);
  const std::size_t half = blob->size() / 2;
  bool ok = write_fd(fd, blob->data(), half);
  if (ok && crash("write")) {
    ::close(fd);
    return fail(mo::errc::io_error);
  }
  ok = ok && write_fd(fd, blob->data() + half, blob->size() - half);
  if (ok && crash("sync")) {
    ::close(fd);
    return fail(mo::errc::io_error);
  }
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok) {
    ::unlink(tmp.c_str());
    return fail(mo::errc::io_error);
  }
  if (crash("rename")) return fail(mo::errc::io_error);
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return fail(mo::errc::io_error);
  }
  if (crash("dir-sync")) return fail(mo::errc::io_error);
  sync_dir(store);
  // A previously blocked item of that id is superseded by the fresh one.
  std::error_code ec;
  fs::remove(store / (std::string(id) + ".blocked"), ec);
  return {};
}

Result<mo::SecretBytes> SoftwareTre::get(std::string_view id) const {
  if (!valid_storage_id(id)) return fail(errc::tre_bad_id);
  const fs::path store = dir_ / "store";
  std::error_code ec;
  if (fs::exists(store / (std::string(id) + ".blocked"), ec)) return fail(errc::tre_mid_blocked);
  auto blob = read_all(store / (std::string(id) + ".bin"));
  if (!blob) return fail(blob.error());
  return open_item(storage_key_.view(), id, *blob);
}

Result<std::vector<StoredItem>> SoftwareTre::list() const {
  std::vector<StoredItem> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_ / "store", ec)) {
    const fs::path p = entry.path();
    const std::string ext = p.extension().string();
    if (ext != ".bin" && ext != ".blocked") continue;
    const std::string id = p.stem().string();
    if (!valid_storage_id(id)) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const StoredItem& s) { return s.id == id; });
    if (it == out.end()) {
      out.push_back({id, ext == ".blocked"});
    } else if (ext == ".blocked") {
      it->blocked = true;
    }
  }
  if (ec) return fail(mo::errc::io_error);
  std::sort(out.begin(), out.end(), [](const StoredItem& a, const StoredItem& b) { return a.id < b.id; });
  return out;
}

Result<void> SoftwareTre::erase(std::string_view id) {
  if (!valid_storage_id(id)) return fail(errc::tre_bad_id);
  const fs::path store = dir_ / "store";
  std::error_code ec;
  fs::remove(store / (std::string(id) + ".bin"), ec);
  if (ec) return fail(mo::errc::io_error);
  fs::remove(store / (std::string(id) + ".blocked"), ec);
  if (ec) return fail(mo::errc::io_error);
  sync_dir(store);
  return {};
}

}  // namespace m2mdm::client
