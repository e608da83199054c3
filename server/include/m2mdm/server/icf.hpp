/// @file icf.hpp
/// @brief The ICF (TR 33.812 §5.2, the RO's "Initial Connectivity Function"): authentication
///        vectors for a device's provisional connectivity identity (PCID) from its temporary
///        K/OPc, and SQN resynchronisation from an AUTS (TS 33.102 §6.3).
///
/// The service holds the rules; the REST layer (`POST /api/v1/icf/vectors`, `/icf/resync`)
/// turns its error codes into HTTP statuses and writes the audit entries.
#pragma once

#include "m2mdm/mo/aka.hpp"
#include "m2mdm/server/store.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace m2mdm::server {

/// ICF settings.
struct IcfOptions {
  std::uint16_t max_vectors = 16;  ///< most vectors one request may ask for
  Bytes amf = {0x80, 0x00};        ///< AMF in generated AUTNs (separation bit set, TS 33.102 Annex H)
};

/// Vectors for one PCID, in SQN order.
struct VectorBatch {
  std::string pcid;
  std::uint64_t first_sqn = 0;
  std::vector<mo::AuthVector> vectors;
};

/// What a resynchronisation did.
struct ResyncOutcome {
  std::string pcid;
  std::uint64_t sqn_ms = 0;    ///< the USIM's highest accepted SQN, recovered from the AUTS
  std::uint64_t next_sqn = 0;  ///< where the ICF continues
};

/// The ICF over the device store. Thread-safe when the store and the random source are.
class IcfService {
 public:
  /// @p random draws the RANDs (inject a deterministic one in tests).
  IcfService(DeviceStore& devices, mo::RandomSource& random, IcfOptions options = {});

  /// Reserves @p count SQNs (atomically, so concurrent requests never share one) and generates a
  /// vector for each (TS 33.102 §6.3.2). Errors: errc::invalid_argument (count 0 or above
  /// max_vectors), errc::not_found (unknown PCID), errc::no_credentials (the PCID has no
  /// temporary K/OPc), errc::exhausted (the 48-bit SQN space is used up), store errors.
  Result<VectorBatch> vectors(std::string_view pcid, std::uint32_t count, std::int64_t now);

  /// Verifies @p auts for @p rand (MAC-S, TS 33.102 §6.3.5) and continues from SQN_MS + 1 (never
  /// going back). Errors: errc::not_found, errc::no_credentials, errc::verification_failed
  /// (MAC-S does not verify; nothing changes), store errors.
  Result<ResyncOutcome> resync(std::string_view pcid, ByteView rand, ByteView auts, std::int64_t now);

  const IcfOptions& options() const noexcept { return options_; }

 private:
  DeviceStore& devices_;
  mo::RandomSource& random_;
  IcfOptions options_;
};

}  // namespace m2mdm::server
