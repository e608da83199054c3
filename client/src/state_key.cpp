#include "m2mdm/client/state_key.hpp"

#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/secret_box.hpp"

#include <openssl/crypto.h>

namespace m2mdm::client {
namespace {

// The state key as a box; bad_key when the TRE cannot give a usable one.
Result<mo::SecretBox> state_box(const Tre& tre) {
  auto key = tre.get(kStateKeyItem);
  if (!key || key->size() != mo::SecretBox::key_size) return fail(mo::errc::bad_key);
  return mo::SecretBox::from_key(key->view());
}

// The state key, created in the TRE at the first use.
Result<mo::SecretBox> state_box_or_create(Tre& tre) {
  auto key = tre.get(kStateKeyItem);
  if (!key && key.error() == mo::errc::not_found) {
    auto fresh = mo::random_bytes(mo::SecretBox::key_size);
    if (!fresh) return fail(fresh.error());
    const mo::SecretBytes secret(*fresh);
    OPENSSL_cleanse(fresh->data(), fresh->size());
    if (auto put = tre.put(kStateKeyItem, secret.view()); !put) return fail(put.error());
  }
  return state_box(tre);
}

}  // namespace

mo::TreeSealer tre_tree_sealer(Tre& tre) {
  mo::TreeSealer sealer;
  sealer.seal = [&tre](ByteView image, std::string_view aad) -> Result<Bytes> {
    auto box = state_box_or_create(tre);
    if (!box) return fail(box.error());
    return box->seal(image, aad);
  };
  sealer.open = [&tre](ByteView sealed, std::string_view aad) -> Result<mo::SecretBytes> {
    auto box = state_box(tre);
    if (!box) return fail(box.error());
    return box->open(sealed, aad);
  };
  // Once both generations are sealed, the TRE says so: a clear tree.m2mt found later was planted
  // (or restored from a copy older than the sealing) and is refused.
  sealer.sealed_before = [&tre] {
    auto mark = tre.get(kStateSealedItem);
    return mark || mark.error() != mo::errc::not_found;  // a TRE that cannot answer: refuse clear
  };
  sealer.mark_sealed = [&tre]() -> Result<void> {
    static constexpr std::uint8_t kYes[] = {1};
    return tre.put(kStateSealedItem, ByteView(kYes, sizeof kYes));
  };
  return sealer;
}

}  // namespace m2mdm::client
