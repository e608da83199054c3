// libFuzzer target: OMA DM URI parsing (mo::Uri::parse) and ACL parsing (mo::Acl::parse), both
// fed from the network (LocURI, ?prop=ACL Replace data). The first byte selects the parser and
// the limits; invariants: a parsed URI re-parses to itself, a parsed ACL's canonical text
// re-parses to an equal ACL, and a tree Get/Add with the input never crashes.
#include "m2mdm/mo/acl.hpp"
#include "m2mdm/mo/tree.hpp"
#include "m2mdm/mo/uri.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace m2mdm::mo;
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((mode & 1) == 0) {
    const UriLimits limits = (mode & 2) ? UriLimits{0, 0, 0} : UriLimits{};
    const auto uri = Uri::parse(text, limits);
    if (uri) {
      const auto again = Uri::parse(uri->str(), UriLimits{0, 0, 0});
      if (!again || !(*again == *uri)) std::abort();
      (void)uri->parent();
      (void)uri_matches(*uri, "./A/*/B");
    }
    if (mode & 4) {
      Tree tree;
      (void)tree.add(Caller::server("s"), text, NodeValue{Format::Chr, {}, {}});
      (void)tree.get(Caller::server("s"), text);
    }
  } else {
    const auto acl = Acl::parse(text);
    if (acl) {
      const auto again = Acl::parse(acl->format());
      if (!again || !(*again == *acl)) std::abort();
      (void)acl->allows(AclOp::Get, "srv1");
    }
  }
  return 0;
}
