// libFuzzer: the device-side open path of a sealed MCIM (CMS AuthEnvelopedData -> SignedData ->
// profile -> binding checks). Fixed test keys (generated once with the openssl tool, test-PKI
// policy OID) are embedded so that the seed corpus (tests/fuzz/corpus/cms_open) decrypts and
// the fuzzer reaches the signature, chain, profile and binding checks.
// Input: first byte 0x00 = the rest is a SignedData fed to verify_signed_profile(); otherwise the
// whole input is a sealed package fed to open_sealed().
#include "m2mdm/mo/seal.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {

constexpr const char* kPlatformKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgM7Vmt/cybFTh43Fa
65XAKrFvfRAw/3DcBGKYpZ7h3h6hRANCAAQCZbg6VUnba+OMUnCYDdFU0sOqq3l2
dFHzyW3iFuUEM3uit3WCxZiGetHeNoDn5pbq0UGIu3aq3Hllbq+rSww7
-----END PRIVATE KEY-----
)";
constexpr const char* kPfc = R"(-----BEGIN CERTIFICATE-----
MIIBxDCCAWmgAwIBAgIUMgt6hUsfXGJ62G435JdwMA7UerIwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLZnV6eiBTSE8gQ0EwHhcNMjYxMTI1MTQ1MTQ1WhcNMzYxMTIy
MTQ1MTQ1WjATMREwDwYDVQQDDAhmdXp6LWRldjBZMBMGByqGSM49AgEGCCqGSM49
AwEHA0IABAJluDpVSdtr44xScJgN0VTSw6qreXZ0UfPJbeIW5QQze6K3dYLFmIZ6
0d42gOfmlurRQYi7dqrceWVur6tLDDujgZcwgZQwDAYDVR0TAQH/BAIwADAOBgNV
HQ8BAf8EBAMCA4gwIQYDVR0RBBowGIYWdXJuOm0ybWRtOmRldjpmdXp6LWRldjAR
BgNVHSAECjAIMAYGBIg3AQEwHQYDVR0OBBYEFBrvBIT/t0Hk+t6RwAgq+/h54uhr
MB8GA1UdIwQYMBaAFKGF1VFBe9VLZu+ZUlQHY86lcx3uMAoGCCqGSM49BAMCA0kA
MEYCIQDJLRZcHi00FfFPSY5EX/Sj3LuI2uB6B9+1VQzqveFwZQIhAIDpbucyMpwo
oIsCoDKxDqmBuD0mMju2Sr5cyRE/zsmH
-----END CERTIFICATE-----
)";
constexpr const char* kShoCa = R"(-----BEGIN CERTIFICATE-----
MIIBpTCCAUqgAwIBAgIUbsHDGDJIDv/JCGLa1TM5p7O3ZNgwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLZnV6eiBTSE8gQ0EwHhcNMjYxMTI1MTQ1MTQzWhcNMzYxMTIy
MTQ1MTQzWjAWMRQwEgYDVQQDDAtmdXp6IFNITyBDQTBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABLAbI14m0Ks1aHupmK+iWANwoAmwkOcAe9RVkR775ppomRTO5jSG
nE5ZXgY3T/1uA+Lc2TXQNDCRIBN3cRrvQvWjdjB0MB0GA1UdDgQWBBShhdVRQXvV
S2bvmVJUB2POpXMd7jAfBgNVHSMEGDAWgBShhdVRQXvVS2bvmVJUB2POpXMd7jAP
BgNVHRMBAf8EBTADAQH/MBEGA1UdIAQKMAgwBgYEiDcBATAOBgNVHQ8BAf8EBAMC
AQYwCgYIKoZIzj0EAwIDSQAwRgIhANDCM/zcZ5ECol8iFclGdd9I1uzewLG4YvkU
LI7qHSfeAiEApiCnCVcG97ALSaL6Xt3SO+Dzh2D5el5W00JSoe56LOw=
-----END CERTIFICATE-----
)";

struct Keys {
  m2mdm::mo::PrivateKey key;
  m2mdm::mo::Certificate pfc;
  m2mdm::mo::TrustAnchors anchors{m2mdm::mo::AnchorKind::test};
  m2mdm::mo::OpenPolicy policy;
  Keys() {
    auto k = m2mdm::mo::PrivateKey::from_pem(kPlatformKey);
    auto c = m2mdm::mo::Certificate::from_pem(kPfc);
    auto a = m2mdm::mo::TrustAnchors::from_pem(kShoCa, m2mdm::mo::AnchorKind::test);
    if (!k || !c || !a) std::abort();
    key = *k;
    pfc = *c;
    anchors = *a;
    policy.device_id = "fuzz-dev";
    policy.now = 1795618297;  // when the corpus was made (the certificates are valid then)
    policy.last_counter = [](std::string_view) -> std::optional<std::uint64_t> { return 0; };
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Keys keys;
  if (size > 0 && data[0] == 0x00) {
    (void)m2mdm::mo::verify_signed_profile(m2mdm::ByteView(data + 1, size - 1), keys.pfc, keys.anchors, keys.policy);
  } else {
    (void)m2mdm::mo::open_sealed(m2mdm::ByteView(data, size), keys.key, keys.pfc, keys.anchors, keys.policy);
  }
  return 0;
}
