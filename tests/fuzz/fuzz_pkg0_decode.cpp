// libFuzzer target: package 0 decode (DM_Notification 1.2 §6.2) followed by digest verification
// and the nonce-reset retry. Must never crash, leak or trip a sanitizer; and a decoded package
// whose reserved bits are zero must re-encode to exactly the trigger bytes received.
#include "m2mdm/syncml/notification.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sm = m2mdm::syncml;
  const m2mdm::ByteView in{data, size};
  std::string why;
  auto d = sm::decode_notification(in, &why);
  if (!d) {
    if (why.empty()) __builtin_trap();  // every failure explains itself
    return 0;
  }
  (void)sm::verify_notification_digest(*d, d->fields.server_id, "password", sm::kNotificationResetNonce);
  const std::uint8_t session_nonce[] = {1, 2, 3, 4, 5, 6, 7, 8};
  (void)sm::verify_notification_with_reset(*d, d->fields.server_id, "password", m2mdm::ByteView{session_nonce});
  (void)sm::session_id_hex(d->fields.session_id);
  if (d->reserved == 0) {
    auto again = sm::encode_trigger(d->fields);
    if (!again || *again != d->trigger) __builtin_trap();
  }
  return 0;
}
