// IcfService: authentication vectors and SQN resynchronisation for a PCID's temporary
// credentials (TS 33.102 §6.3.2, §6.3.5).
#include "m2mdm/server/icf.hpp"

#include "m2mdm/server/error.hpp"

#include <algorithm>
#include <array>

namespace m2mdm::server {
namespace {

std::error_code err(errc e) { return make_error_code(e); }

/// The device behind @p pcid, provided it holds temporary credentials.
Result<Device> credentialed_device(DeviceStore& devices, std::string_view pcid) {
  auto dev = devices.get_device_by_pcid(pcid);
  if (!dev) return fail(dev.error());
  if (dev->k.size() != 16 || dev->opc.size() != 16) return fail(err(errc::no_credentials));
  return dev;
}

}  // namespace

IcfService::IcfService(DeviceStore& devices, mo::RandomSource& random, IcfOptions options)
    : devices_(devices), random_(random), options_(std::move(options)) {}

Result<VectorBatch> IcfService::vectors(std::string_view pcid, std::uint32_t count, std::int64_t now) {
  if (count == 0 || count > options_.max_vectors) return fail(err(errc::invalid_argument));
  auto dev = credentialed_device(devices_, pcid);
  if (!dev) return fail(dev.error());
  auto keys = mo::SubscriberKeys::from_opc(dev->k, dev->opc);
  if (!keys) return fail(err(errc::no_credentials));
  auto milenage = keys->milenage();
  if (!milenage) return fail(milenage.error());
  // The store reports a range that would leave the 48-bit space as not_found.
  auto first = devices_.reserve_sqn(pcid, count, now);
  if (!first) return fail(first.error() == err(errc::not_found) ? err(errc::exhausted) : first.error());
  VectorBatch batch{std::string(pcid), *first, {}};
  batch.vectors.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::array<std::uint8_t, 16> rand{};
    if (auto r = random_.fill(rand); !r) return fail(r.error());
    auto av = mo::generate_vector(*milenage, rand, *first + i, options_.amf);
    if (!av) return fail(av.error());
    batch.vectors.push_back(std::move(*av));
  }
  return batch;
}

Result<ResyncOutcome> IcfService::resync(std::string_view pcid, ByteView rand, ByteView auts, std::int64_t now) {
  auto dev = credentialed_device(devices_, pcid);
  if (!dev) return fail(dev.error());
  auto sqn_ms = mo::verify_auts(dev->k, dev->opc, rand, auts);
  if (!sqn_ms) return fail(err(errc::verification_failed));
  // TS 33.102 §6.3.5: the HE continues from SQN_MS (next = SQN_MS + 1), never going back.
  const std::uint64_t next = std::max(dev->sqn, *sqn_ms + 1);
  if (auto r = devices_.set_sqn(pcid, next, now); !r) return fail(r.error());
  return ResyncOutcome{std::string(pcid), *sqn_ms, next};
}

}  // namespace m2mdm::server
