// libFuzzer: the AKA inputs that arrive from outside - RAND/AUTN at the USIM, AUTS at the
// network (fixed layouts), and the USIM's saved SQN state (bytes from storage).
// Input layout: [0] selector, then the bytes for that parser.
#include "m2mdm/client/usim.hpp"
#include "m2mdm/mo/aka.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace {

using namespace m2mdm;

const Bytes& key() {
  static const Bytes k = hex_decode("465b5ce8b199b49faa5f0a2ee238a6bc").value();
  return k;
}
const Bytes& opc() {
  static const Bytes o = hex_decode("cd63cb71954a9f4e48a5994e37a02baf").value();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ByteView in(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {  // saved SQN state
      auto s = client::SqnState::deserialize(in);
      if (s) {
        const Bytes again = s->serialize();
        if (again.size() != in.size() || !std::equal(again.begin(), again.end(), in.begin())) __builtin_trap();
      }
      break;
    }
    case 1: {  // RAND || AUTN at the USIM
      static auto usim = client::Usim::create(
          client::UsimProfile{"001010000000001", mo::SubscriberKeys::from_opc(key(), opc()).value(), 0});
      if (!usim) __builtin_trap();
      const std::size_t split = in.size() < 16 ? in.size() : 16;
      auto r = usim->authenticate(in.first(split), in.subspan(split));
      (void)r;
      break;
    }
    default: {  // RAND || AUTS at the network
      const std::size_t split = in.size() < 16 ? in.size() : 16;
      auto r = mo::verify_auts(key(), opc(), in.first(split), in.subspan(split));
      (void)r;
      break;
    }
  }
  return 0;
}
