// libFuzzer: the operator-change token, as the RO's REST API and the device's Install receive it.
// Input: first byte 0x00 = the rest is token JSON for parse_change_token() (invariant: whatever
// parses serializes canonically and parses back to the same token); otherwise the whole input is
// a CMS SignedData for verify_change_token() against an embedded CA (the seed corpus holds a token
// its signer "fuzz-osho" made with `openssl cms -sign`, so the fuzzer reaches the content checks).
#include "m2mdm/mo/change_token.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {

constexpr const char* kTokenCa = R"(-----BEGIN CERTIFICATE-----
MIIBlDCCATugAwIBAgIUV2TRqZE2QSUWyHhtal2wucd0qQgwCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNZnV6eiB0b2tlbiBDQTAeFw0yNjEyMDQyMjAyMTRaFw0zNjEy
MDEyMjAyMTRaMBgxFjAUBgNVBAMMDWZ1enogdG9rZW4gQ0EwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAATUlwwJ80KhQgk1HhTE/9Gk8/6mLd7t2JcOXk6kK4wNzmBZ
XYX8Nud10DdF1MESm2N9BIX5Kq3zXBLLhjyiZNzwo2MwYTAdBgNVHQ4EFgQUNbqE
NqHddjNVCsUZZMR1FQcbhf8wHwYDVR0jBBgwFoAUNbqENqHddjNVCsUZZMR1FQcb
hf8wDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZIzj0EAwID
RwAwRAIgazv5md7mgpGAghfjNJKAthCyhrD7xwLYhHUw0s3E5PwCIGvMz9mslFic
7gwmaQ2KHvlBBV1pPXLMYpMQ/tu+UstD
-----END CERTIFICATE-----
)";

const m2mdm::mo::TrustAnchors& anchors() {
  static const m2mdm::mo::TrustAnchors a = [] {
    auto r = m2mdm::mo::TrustAnchors::from_pem(kTokenCa, m2mdm::mo::AnchorKind::production);
    if (!r) std::abort();
    return std::move(*r);
  }();
  return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace m2mdm::mo;
  if (size > 0 && data[0] == 0x00) {
    auto t = parse_change_token(m2mdm::ByteView(data + 1, size - 1));
    if (!t) return 0;
    auto canon = serialize_change_token(*t);
    if (!canon) __builtin_trap();
    auto back = parse_change_token(m2mdm::as_bytes(*canon));
    if (!back || !(*back == *t)) __builtin_trap();
    return 0;
  }
  ChangeTokenCheck check;
  check.device_id = "fuzz-dev";
  check.variant = ChangeVariant::via_old_sho;
  check.from_sho = "fuzz-osho";
  check.to_sho = "fuzz-nsho";
  check.now = 1796421894;  // inside the seed token's and its certificates' validity
  check.nonce_used = [](std::string_view n) { return n == "ffffffffffffffffffffffffffffffff"; };
  (void)verify_change_token(m2mdm::ByteView(data, size), anchors(), check);
  return 0;
}
