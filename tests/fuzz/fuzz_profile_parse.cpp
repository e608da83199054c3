// libFuzzer: the strict MCIM profile parser. Invariant: whatever parses serializes canonically,
// and the canonical form parses back to the same canonical bytes.
#include "m2mdm/mo/mcim_profile.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string where;
  auto p = m2mdm::mo::parse_profile(m2mdm::ByteView(data, size), &where);
  if (!p) return 0;
  const auto canon = m2mdm::mo::serialize_profile(*p);
  auto q = m2mdm::mo::parse_profile(canon.view());
  if (!q) __builtin_trap();
  if (!(m2mdm::mo::serialize_profile(*q) == canon)) __builtin_trap();
  (void)m2mdm::mo::profile_summary(*q);
  return 0;
}
