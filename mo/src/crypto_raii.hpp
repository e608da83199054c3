// Internal: the OpenSSL handles of m2mdm/syncml/openssl_handles.hpp and the memory-BIO helpers
// the sealing layer uses.
#pragma once

#include "m2mdm/mo/error.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/openssl_handles.hpp"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace m2mdm::mo::detail {

using namespace syncml::openssl;  // BioPtr, X509Ptr, PkeyPtr, ...: the tree's one set of handles

/// A memory BIO reading @p data (no copy; @p data must outlive the BIO).
inline BioPtr mem_bio(ByteView data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}
/// All bytes written so far into a memory BIO.
inline Bytes bio_bytes(BIO* b) {
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(b, &mem);
  if (mem == nullptr) return {};
  const auto* p = reinterpret_cast<const std::uint8_t*>(mem->data);
  return Bytes(p, p + mem->length);
}
inline std::string bio_string(BIO* b) {
  Bytes v = bio_bytes(b);
  return std::string(v.begin(), v.end());
}

}  // namespace m2mdm::mo::detail
