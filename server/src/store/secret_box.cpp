// AES-256-GCM for secrets at rest (NIST SP 800-38D): 96-bit random IV, 128-bit tag.
#include "m2mdm/server/error.hpp"
#include "m2mdm/server/secret_box.hpp"
#include "m2mdm/syncml/openssl_handles.hpp"
#include "m2mdm/mo/fd.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

namespace m2mdm::server {
namespace {
constexpr std::size_t kIv = 12;
constexpr std::size_t kTag = 16;

using CtxPtr = syncml::openssl::CipherCtxPtr;

std::error_code err(errc e) { return make_error_code(e); }
}  // namespace

Result<SecretBox> SecretBox::from_key(ByteView key) {
  if (key.size() != key_size) return fail(err(errc::invalid_argument));
  return SecretBox(Bytes(key.begin(), key.end()));
}

Result<SecretBox> SecretBox::load_or_create(const std::filesystem::path& path) {
  mo::Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!f.valid()) {
    if (errno != ENOENT) return fail(std::error_code(errno, std::generic_category()));
    Bytes key(key_size);
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) return fail(err(errc::io_error));
    mo::Fd w(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!w.valid()) return fail(std::error_code(errno, std::generic_category()));
    if (::write(w.get(), key.data(), key.size()) != static_cast<ssize_t>(key.size()) || ::fsync(w.get()) != 0) {
      OPENSSL_cleanse(key.data(), key.size());
      ::unlink(path.c_str());
      return fail(err(errc::io_error));
    }
    return SecretBox(std::move(key));
  }
  struct stat st {};
  if (::fstat(f.get(), &st) != 0) return fail(std::error_code(errno, std::generic_category()));
  if ((st.st_mode & 077) != 0) return fail(err(errc::config_error));  // key readable by others
  if (st.st_size != static_cast<off_t>(key_size)) return fail(err(errc::config_error));
  Bytes key(key_size);
  if (::read(f.get(), key.data(), key.size()) != static_cast<ssize_t>(key.size())) return fail(err(errc::io_error));
  return SecretBox(std::move(key));
}

Result<Bytes> SecretBox::seal(ByteView plain, std::string_view aad) const {
  Bytes out(kIv + plain.size() + kTag);
  if (RAND_bytes(out.data(), kIv) != 1) return fail(err(errc::io_error));
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), out.data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data() + kIv, &len, plain.data(), static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + kIv + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, out.data() + kIv + plain.size()) != 1)
    return fail(err(errc::io_error));
  return out;
}

Result<Bytes> SecretBox::open(ByteView sealed, std::string_view aad) const {
  if (sealed.size() < kIv + kTag) return fail(err(errc::decrypt_failed));
  const std::size_t n = sealed.size() - kIv - kTag;
  Bytes out(n);
  Bytes tag(sealed.end() - kTag, sealed.end());
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), sealed.data()) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, sealed.data() + kIv, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return fail(err(errc::decrypt_failed));
  }
  return out;
}

}  // namespace m2mdm::server
