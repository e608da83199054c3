// The operator-change authorisation token (change_token.hpp, docs/operator-change.md).
#include "m2mdm/mo/change_token.hpp"

#include "m2mdm/mo/error.hpp"
#include "m2mdm/mo/seal.hpp"
#include "id_text.hpp"
#include "m2mdm/mo/strict_json.hpp"

#include <algorithm>
#include <array>

namespace m2mdm::mo {
namespace {

using json = nlohmann::json;

constexpr std::string_view kType = "m2mdm-operator-change";
constexpr std::string_view kByOldSho = "old-sho";
constexpr std::string_view kBySubscriber = "subscriber";
constexpr std::int64_t kMaxTime = 253402300799;  // 9999-12-31T23:59:59Z
constexpr std::array<std::string_view, 10> kFields = {"by",    "dev",  "from", "issued",  "nonce",
                                                      "not_after", "to", "type", "variant", "version"};

// [A-Za-z0-9._:-]{1,max}: the identifier alphabet of the MCIM profile (sho_id, device).
bool id_text(std::string_view s, std::size_t max) { return !s.empty() && s.size() <= max && detail::is_id_text(s); }

bool nonce_text(std::string_view s) {
  return s.size() == 32 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool valid(const ChangeToken& t) {
  const bool by_ok =
      t.by == ChangeAuthoriser::subscriber ? id_text(t.subscriber, 64) : t.subscriber.empty();
  return id_text(t.device_id, 128) && id_text(t.from_sho, 64) && id_text(t.to_sho, 64) && t.from_sho != t.to_sho &&
         nonce_text(t.nonce) && t.issued >= 0 && t.issued < t.not_after && t.not_after <= kMaxTime && by_ok;
}

// The CN the signer of @p t must have: the old SHO's, or the subscriber's.
const std::string& signer_of(const ChangeToken& t) {
  return t.by == ChangeAuthoriser::subscriber ? t.subscriber : t.from_sho;
}

std::error_code token_error_of(const std::error_code& seal_error) {
  if (seal_error == errc::seal_bad_signature) return errc::token_bad_signature;
  if (seal_error == errc::seal_untrusted_signer || seal_error == errc::seal_test_signer_in_production)
    return errc::token_untrusted_signer;
  if (seal_error.category() == category() &&
      (seal_error == errc::seal_malformed || seal_error == errc::seal_unsupported_algorithm))
    return errc::token_malformed;
  return seal_error;  // crypto_failure and the like stay what they are
}

}  // namespace

std::string_view to_string(ChangeVariant v) noexcept {
  switch (v) {
    case ChangeVariant::via_old_sho: return "A";
    case ChangeVariant::pristine: return "B";
    case ChangeVariant::usim_update: return "C";
  }
  return "?";
}

std::string_view to_string(ChangeAuthoriser by) noexcept {
  return by == ChangeAuthoriser::subscriber ? kBySubscriber : kByOldSho;
}

std::optional<ChangeVariant> parse_change_variant(std::string_view letter) noexcept {
  for (auto v : {ChangeVariant::via_old_sho, ChangeVariant::pristine, ChangeVariant::usim_update})
    if (to_string(v) == letter) return v;
  return std::nullopt;
}

Result<std::string> serialize_change_token(const ChangeToken& t) {
  if (!valid(t)) return fail(errc::invalid_argument);
  // nlohmann's object keeps keys sorted and dump() writes no white space: the canonical form.
  json j = {{"by", to_string(t.by)},  {"dev", t.device_id},       {"from", t.from_sho},
            {"issued", t.issued},    {"nonce", t.nonce},         {"not_after", t.not_after},
            {"to", t.to_sho},        {"type", kType},            {"variant", to_string(t.variant)},
            {"version", ChangeToken::kVersion}};
  if (t.by == ChangeAuthoriser::subscriber) j["subscriber"] = t.subscriber;
  return j.dump();
}

Result<ChangeToken> parse_change_token(ByteView bytes) {
  auto parsed = detail::parse_strict_json(bytes);
  const json& j = parsed.doc;
  if (j.is_discarded() || !parsed.duplicate_key.empty() || !j.is_object()) return fail(errc::token_malformed);
  // The fixed fields, plus "subscriber" exactly when "by" is "subscriber".
  const bool has_subscriber = j.contains("subscriber");
  if (j.size() != kFields.size() + (has_subscriber ? 1 : 0)) return fail(errc::token_malformed);
  for (auto field : kFields)
    if (!j.contains(field)) return fail(errc::token_malformed);
  auto text = [&](std::string_view key) -> std::optional<std::string> {
    const json& v = j.at(key);
    if (!v.is_string()) return std::nullopt;
    return v.get<std::string>();
  };
  auto number = [&](std::string_view key) -> std::optional<std::int64_t> {
    const json& v = j.at(key);
    if (!v.is_number_unsigned()) return std::nullopt;
    const auto n = v.get<std::uint64_t>();
    if (n > static_cast<std::uint64_t>(kMaxTime)) return std::nullopt;
    return static_cast<std::int64_t>(n);
  };
  const auto type = text("type"), by = text("by"), variant = text("variant");
  const auto version = number("version");
  if (!type || *type != kType || !by || (*by != kByOldSho && *by != kBySubscriber) || !version ||
      *version != ChangeToken::kVersion || !variant)
    return fail(errc::token_malformed);
  ChangeToken t;
  t.by = *by == kBySubscriber ? ChangeAuthoriser::subscriber : ChangeAuthoriser::old_sho;
  if (has_subscriber) {
    const auto subscriber = text("subscriber");
    if (!subscriber) return fail(errc::token_malformed);
    t.subscriber = *subscriber;
  }
  const auto v = parse_change_variant(*variant);
  const auto dev = text("dev"), from = text("from"), to = text("to"), nonce = text("nonce");
  const auto issued = number("issued"), not_after = number("not_after");
  if (!v || !dev || !from || !to || !nonce || !issued || !not_after) return fail(errc::token_malformed);
  t.variant = *v;
  t.device_id = *dev;
  t.from_sho = *from;
  t.to_sho = *to;
  t.nonce = *nonce;
  t.issued = *issued;
  t.not_after = *not_after;
  if (!valid(t)) return fail(errc::token_malformed);
  return t;
}

Result<Bytes> sign_change_token(const ChangeToken& token, const Certificate& signer_cert,
                                const PrivateKey& signer_key) {
  if (signer_cert.subject_cn() != signer_of(token)) return fail(errc::token_signer_mismatch);
  auto text = serialize_change_token(token);
  if (!text) return fail(text.error());
  return cms_sign(as_bytes(*text), signer_cert, signer_key);
}

Result<ChangeToken> verify_change_token(ByteView signed_der, const TrustAnchors& anchors,
                                        const ChangeTokenCheck& check) {
  auto verified = verify_signed_data(signed_der, anchors, check.now);
  if (!verified) return fail(token_error_of(verified.error()));
  auto token = parse_change_token(verified->content.view());
  if (!token) return fail(token.error());
  // Seed 000 §5.2.2 step 1: the authorisation comes from the old SHO; seed 004 §5.2.5.8: from the
  // subscriber, where the device has one. The verifier's policy decides which, never the token.
  if (token->by != check.by) return fail(errc::token_wrong_authoriser);
  if (verified->signer.subject_cn() != signer_of(*token)) return fail(errc::token_signer_mismatch);
  if (!check.subscriber.empty() && token->subscriber != check.subscriber) return fail(errc::token_wrong_authoriser);
  if (token->device_id != check.device_id) return fail(errc::token_wrong_device);
  if (check.variant && token->variant != *check.variant) return fail(errc::token_wrong_variant);
  if ((!check.from_sho.empty() && token->from_sho != check.from_sho) ||
      (!check.to_sho.empty() && token->to_sho != check.to_sho))
    return fail(errc::token_wrong_sho);
  if (check.now >= token->not_after || token->issued > check.now + check.max_clock_skew)
    return fail(errc::token_expired);
  if (check.nonce_used && check.nonce_used(token->nonce)) return fail(errc::token_replayed);
  return token;
}

Result<std::string> new_change_nonce() {
  auto raw = random_bytes(16);
  if (!raw) return fail(raw.error());
  return hex_encode(*raw, false);
}

}  // namespace m2mdm::mo
