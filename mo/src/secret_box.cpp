// AES-256-GCM for secrets at rest (NIST SP 800-38D): 96-bit random IV, 128-bit tag.
#include "m2mdm/mo/secret_box.hpp"

#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/fd.hpp"
#include "m2mdm/syncml/openssl_handles.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>

namespace m2mdm::mo {
namespace {

using CtxPtr = syncml::openssl::CipherCtxPtr;

std::unexpected<std::error_code> posix_error() { return fail(std::error_code(errno, std::generic_category())); }

const unsigned char* uchars(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

enum class Direction { seal, open };

// One AES-256-GCM pass over @p in into @p out (as long as @p in), @p aad authenticated: sealing
// takes the tag into @p tag after the final block; opening sets @p tag as the expected one before
// it (NIST SP 800-38D §7.2), so that the final block fails on a mismatch.
bool gcm(Direction dir, ByteView key, const unsigned char* nonce, std::string_view aad, ByteView in,
         unsigned char* out, unsigned char* tag) {
  constexpr int tag_size = static_cast<int>(SecretBox::tag_size);
  const bool sealing = dir == Direction::seal;
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int fin = 0;
  return ctx && EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce, sealing ? 1 : 0) == 1 &&
         EVP_CipherUpdate(ctx.get(), nullptr, &len, uchars(aad), static_cast<int>(aad.size())) == 1 &&
         EVP_CipherUpdate(ctx.get(), out, &len, in.data(), static_cast<int>(in.size())) == 1 &&
         (sealing || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_size, tag) == 1) &&
         EVP_CipherFinal_ex(ctx.get(), out + len, &fin) == 1 &&
         (!sealing || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_size, tag) == 1);
}

}  // namespace

Result<SecretBox> SecretBox::from_key(ByteView key) {
  if (key.size() != key_size) return fail(errc::invalid_argument);
  return SecretBox(SecretBytes(key));
}

Result<SecretBytes> load_or_create_key_file(const std::filesystem::path& path, std::size_t size) {
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!f.valid()) {
    if (errno != ENOENT) return posix_error();
    auto fresh = random_bytes(size);
    if (!fresh) return fail(fresh.error());
    SecretBytes key(*fresh);
    OPENSSL_cleanse(fresh->data(), fresh->size());
    Fd w(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!w.valid()) return posix_error();
    if (!write_all(w.get(), key.view()) || ::fsync(w.get()) != 0) {
      ::unlink(path.c_str());
      return fail(errc::io_error);
    }
    return key;
  }
  struct stat st {};
  if (::fstat(f.get(), &st) != 0) return posix_error();
  if ((st.st_mode & 077) != 0) return fail(errc::bad_key);  // key readable by others
  if (st.st_size != static_cast<off_t>(size)) return fail(errc::bad_key);
  Bytes raw(size);
  const bool ok = ::read(f.get(), raw.data(), raw.size()) == static_cast<ssize_t>(raw.size());
  SecretBytes key(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  if (!ok) return fail(errc::io_error);
  return key;
}

Result<SecretBox> SecretBox::load_or_create(const std::filesystem::path& path) {
  auto key = load_or_create_key_file(path, key_size);
  if (!key) return fail(key.error());
  return SecretBox(std::move(*key));
}

Result<Bytes> SecretBox::seal(ByteView plain, std::string_view aad) const {
  if (plain.size() > static_cast<std::size_t>(std::numeric_limits<int>::max() - 64) ||
      aad.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    return fail(errc::invalid_argument);
  auto nonce = random_bytes(nonce_size);
  if (!nonce) return fail(nonce.error());
  Bytes out(nonce_size + plain.size() + tag_size);
  std::copy(nonce->begin(), nonce->end(), out.begin());
  const bool ok = gcm(Direction::seal, key_.view(), out.data(), aad, plain, out.data() + nonce_size,
                      out.data() + nonce_size + plain.size());
  if (!ok) {
    ERR_clear_error();
    OPENSSL_cleanse(out.data(), out.size());
    return fail(errc::crypto_failure);
  }
  return out;
}

Result<SecretBytes> SecretBox::open(ByteView sealed, std::string_view aad) const {
  if (sealed.size() < nonce_size + tag_size || sealed.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      aad.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    return fail(errc::seal_tag_mismatch);
  const std::size_t n = sealed.size() - nonce_size - tag_size;
  Bytes plain(n);
  Bytes tag(sealed.end() - static_cast<std::ptrdiff_t>(tag_size), sealed.end());
  const bool ok = gcm(Direction::open, key_.view(), sealed.data(), aad, sealed.subspan(nonce_size, n), plain.data(),
                      tag.data());
  ERR_clear_error();
  SecretBytes out(ok ? ByteView(plain) : ByteView());
  OPENSSL_cleanse(plain.data(), plain.size());
  if (!ok) return fail(errc::seal_tag_mismatch);
  return out;
}

}  // namespace m2mdm::mo
