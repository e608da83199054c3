// Issue 14: no write past an OpenSSL heap block while a hostile package is opened. OpenSSL's
// own allocations are not instrumented by ASan (libcrypto is not built with it), so this test
// installs guard bytes behind every OpenSSL allocation (CRYPTO_set_mem_functions) and counts the
// blocks whose guard was overwritten when they are freed. Before the fix, a key agreement
// recipient info naming AES key wrap with padding made CRYPTO_128_unwrap_pad write 8 zero bytes
// past a block CMS allocated (see mo/src/seal.cpp); the count was then 1 per package.
//
// CRYPTO_set_mem_functions only works before OpenSSL's first allocation in the process: ctest runs
// every test in a process of its own, so there it always runs; after other tests in the same
// process it is skipped (and says so).
#include "mcim_test_util.hpp"

#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/seal.hpp"

#include <gtest/gtest.h>

#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

namespace m2mdm::mo {
namespace {

using test::TestPki;

// Each block: [16-byte header holding the size][user bytes][16 guard bytes].
constexpr std::size_t kHead = 16;
constexpr std::size_t kGuard = 16;
constexpr unsigned char kGuardByte = 0xa5;
std::atomic<int> g_overruns{0};

std::size_t block_size(void* user) {
  std::size_t n = 0;
  std::memcpy(&n, static_cast<unsigned char*>(user) - kHead, sizeof n);
  return n;
}

void* guarded_malloc(std::size_t n, const char*, int) {
  auto* p = static_cast<unsigned char*>(std::malloc(kHead + n + kGuard));
  if (p == nullptr) return nullptr;
  std::memcpy(p, &n, sizeof n);
  std::memset(p + kHead + n, kGuardByte, kGuard);
  return p + kHead;
}

void guarded_free(void* user, const char*, int) {
  if (user == nullptr) return;
  auto* tail = static_cast<unsigned char*>(user) + block_size(user);
  if (std::any_of(tail, tail + kGuard, [](unsigned char c) { return c != kGuardByte; })) ++g_overruns;
  std::free(static_cast<unsigned char*>(user) - kHead);
}

void* guarded_realloc(void* user, std::size_t n, const char* file, int line) {
  if (user == nullptr) return guarded_malloc(n, file, line);
  if (n == 0) {
    guarded_free(user, file, line);
    return nullptr;
  }
  void* fresh = guarded_malloc(n, file, line);
  if (fresh == nullptr) return nullptr;
  std::memcpy(fresh, user, std::min(n, block_size(user)));
  guarded_free(user, file, line);
  return fresh;
}

TEST(SealOverrun, HostileKeyWrapWritesNothingPastOpensslBuffers) {
  if (CRYPTO_set_mem_functions(guarded_malloc, guarded_realloc, guarded_free) != 1)
    GTEST_SKIP() << "OpenSSL allocated before this test in this process; run it alone (ctest does)";
  // The detector works: one byte written past an OpenSSL block is counted.
  auto* probe = static_cast<unsigned char*>(OPENSSL_malloc(32));
  ASSERT_NE(probe, nullptr);
  volatile std::size_t past = 32;
  probe[past] = 0;
  OPENSSL_free(probe);
  ASSERT_EQ(g_overruns.load(), 1);
  g_overruns = 0;

  const auto& dev = TestPki::instance().device("seal-overrun");
  auto& pki = TestPki::instance();
  auto sealed = seal_profile(test::bound_profile(dev.id, 1), pki.sho_cert, pki.sho_key, dev.pfc);
  ASSERT_TRUE(sealed.has_value());
  const Bytes wrap_oid = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2d};  // id-aes256-wrap
  const auto at = std::search(sealed->begin(), sealed->end(), wrap_oid.begin(), wrap_oid.end());
  ASSERT_NE(at, sealed->end());
  for (std::uint8_t arc : {0x08, 0x1c, 0x30}) {  // id-aes128/192/256-wrap-pad (RFC 5649 §6)
    Bytes t = *sealed;
    t[static_cast<std::size_t>(at - sealed->begin()) + wrap_oid.size() - 1] = arc;
    auto r = open_sealed(t, dev.key, dev.pfc, pki.anchors(), test::policy_for(dev.id));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), make_error_code(errc::seal_unsupported_algorithm));
  }
  // And the whole open path of a good package.
  EXPECT_TRUE(open_sealed(*sealed, dev.key, dev.pfc, pki.anchors(), test::policy_for(dev.id)).has_value());
  EXPECT_EQ(g_overruns.load(), 0);
}

}  // namespace
}  // namespace m2mdm::mo
