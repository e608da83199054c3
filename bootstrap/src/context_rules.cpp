#include "context_rules.hpp"

#include "m2mdm/bootstrap/builder.hpp"

#include <openssl/sha.h>

#include <charconv>

namespace m2mdm::bootstrap::detail {

Result<void> apply_extension(BootstrapContext& ctx, const M2mdmExtension& ext) {
  if (ext.role) {
    ctx.role = parse_context_role(*ext.role);
    if (!ctx.role) return fail(errc::cp_invalid_w7);
    ctx.context = *ext.role;
  }
  if (ext.spki_sha256) {
    auto bytes = base64_decode(*ext.spki_sha256);
    if (!bytes || bytes->size() != SHA256_DIGEST_LENGTH) return fail(errc::cp_invalid_w7);
    ctx.spki_sha256 = std::move(*bytes);
  }
  ctx.rebootstrap_token = ext.rebootstrap_token;
  return {};
}

Result<void> add_context(BootstrapResult& out, BootstrapContext ctx) {
  for (const auto& other : out.contexts)
    if (other.context == ctx.context || other.account.server_id == ctx.account.server_id)
      return fail(errc::cp_invalid_w7);
  out.contexts.push_back(std::move(ctx));
  return {};
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size() || v == 0 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

Result<BootstrapResult> require_contexts(BootstrapResult out) {
  if (out.contexts.empty()) return fail(errc::cp_missing_w7);
  return out;
}

}  // namespace m2mdm::bootstrap::detail
