/// @file usim.hpp
/// @brief A software USIM: holds the subscription (IMSI, K, OPc, Milenage constants) and the
///        sequence number state, and runs UMTS AKA on the UE side (3GPP TS 33.102 §6.3.3):
///        from RAND and AUTN it checks MAC-A, checks SQN freshness (Annex C.2 array scheme),
///        and answers RES/CK/IK, or AUTS for resynchronisation, or a MAC failure.
///
/// The SQN state survives restarts through the SqnStateStore interface; it is saved before a
/// successful answer leaves the USIM, so a power loss can never make an accepted AUTN fresh
/// again. `reset()` is the TR 33.812 Alt 3d "USIM reset" on a change of subscription: the new
/// IMSI/K/OPc replace the old ones and the SQN state starts over.
#pragma once

#include "m2mdm/mo/aka.hpp"
#include "m2mdm/mo/milenage.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/result.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace m2mdm::client {

/// What a subscription gives the USIM (from the provisional PCID credentials or an installed MCIM).
struct UsimProfile {
  std::string imsi;            ///< 6..15 digits
  mo::SubscriberKeys keys;     ///< K, OPc, Milenage constants
  std::uint64_t sqn_start = 0; ///< SQN already consumed: the USIM accepts only SEQs above SEQ(sqn_start)
};

/// USIM behaviour settings.
struct UsimOptions {
  mo::SqnProfile sqn;  ///< IND length, Δ and L (TS 33.102 Annex C.3 profile by default)
  /// TS 33.401 §6.1.1: for E-UTRAN access the ME refuses an AUTN whose "AMF separation bit"
  /// (bit 0, the most significant bit of AMF) is 0. Off by default (UMTS AKA).
  bool require_amf_separation_bit = false;
};

/// The USIM's sequence number state (TS 33.102 Annex C.2): one SEQ_MS per IND value (an array of
/// a = 2^ind_bits entries), tied to the IMSI it belongs to. Freshness rule for SQN = SEQ||IND:
/// accept iff SEQ > SEQ_MS(IND), and SEQ - SEQ_max <= Δ when SEQ is above the highest accepted
/// SEQ_max (wrap-around protection), and SEQ_max - SEQ < L when it is below (L = 0: no L check).
class SqnState {
 public:
  /// All entries set to @p initial_seq.
  SqnState(std::string imsi, unsigned ind_bits, std::uint64_t initial_seq);

  const std::string& imsi() const noexcept { return imsi_; }
  unsigned ind_bits() const noexcept { return ind_bits_; }
  std::uint64_t seq(std::uint32_t ind) const noexcept { return seq_.at(ind); }
  /// The highest SEQ accepted so far (SEQ_max).
  std::uint64_t highest_seq() const noexcept;
  /// SQN_MS for AUTS: SEQ_max || the IND of the entry holding it.
  std::uint64_t sqn_ms() const noexcept;
  /// Applies the freshness rule above; does not change the state.
  bool fresh(std::uint64_t sqn, const mo::SqnProfile& profile) const noexcept;
  /// Records SQN as used (call only after fresh() said yes).
  void accept(std::uint64_t sqn, const mo::SqnProfile& profile) noexcept;

  /// Stable binary form: "M2SQ", version 1, ind_bits, IMSI length + digits, then 2^ind_bits
  /// SEQ values of 6 bytes big-endian.
  Bytes serialize() const;
  /// Strict inverse of serialize(); client::errc::malformed on anything else.
  static Result<SqnState> deserialize(ByteView bytes);

  friend bool operator==(const SqnState&, const SqnState&) = default;

 private:
  std::string imsi_;
  unsigned ind_bits_;
  std::vector<std::uint64_t> seq_;
};

/// Where the device keeps the USIM's SQN state.
class SqnStateStore {
 public:
  virtual ~SqnStateStore() = default;
  /// The last saved bytes, or std::nullopt if nothing was ever saved.
  virtual Result<std::optional<Bytes>> load() = 0;
  /// Replaces the saved bytes durably (all or nothing).
  virtual Result<void> save(ByteView bytes) = 0;
};

/// A file: write to "<path>.tmp", fsync, rename over <path>, fsync the directory.
class FileSqnStateStore final : public SqnStateStore {
 public:
  explicit FileSqnStateStore(std::filesystem::path path) : path_(std::move(path)) {}
  Result<std::optional<Bytes>> load() override;
  Result<void> save(ByteView bytes) override;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

/// A store in memory (for simulated devices that need no persistence).
class MemorySqnStateStore final : public SqnStateStore {
 public:
  Result<std::optional<Bytes>> load() override { return saved_; }
  Result<void> save(ByteView bytes) override {
    saved_ = Bytes(bytes.begin(), bytes.end());
    return {};
  }

 private:
  std::optional<Bytes> saved_;
};

/// AKA answered: RES goes back to the network, CK/IK to the ME (TS 33.102 §6.3.3).
struct AkaSuccess {
  mo::SecretArray<mo::kResSize> res;
  mo::Key128 ck;
  mo::Key128 ik;
};
/// SQN not fresh: send "synchronisation failure" with this AUTS (TS 33.102 §6.3.3, §6.3.5).
struct AkaSyncFailure {
  mo::Auts auts{};
};
/// XMAC != MAC-A: send "user authentication reject" with cause MAC failure.
struct AkaMacFailure {};
/// AMF separation bit required but not set (TS 33.401 §6.1.1); only with that option.
struct AkaAmfFailure {};

using AkaOutcome = std::variant<AkaSuccess, AkaSyncFailure, AkaMacFailure, AkaAmfFailure>;

/// The software USIM. Not thread-safe; movable.
class Usim {
 public:
  /// Creates the USIM for @p profile. With a @p store, a saved state for the same IMSI is
  /// resumed (a saved state for another IMSI is ignored and overwritten); a saved state that
  /// does not parse is an error (client::errc::malformed) rather than a silent reset, since a
  /// reset would make old AUTNs fresh again. Errors: client::errc::invalid_argument (IMSI not
  /// 6..15 digits, SQN profile invalid), mo errors from Milenage, store errors.
  static Result<Usim> create(UsimProfile profile, std::unique_ptr<SqnStateStore> store = nullptr,
                             UsimOptions options = {});

  /// Runs AKA for one challenge (TS 33.102 §6.3.3): AK = f5(RAND), SQN = (SQN xor AK) xor AK,
  /// XMAC = f1(SQN, RAND, AMF) compared with MAC-A in constant time, then the AMF separation bit
  /// (if required), then SQN freshness; on success the state is saved, then RES = f2, CK = f3,
  /// IK = f4 are returned. Errors (not outcomes): client::errc::invalid_argument for a RAND or
  /// AUTN of the wrong length, store errors (the challenge then stays unanswered and the state
  /// unchanged).
  Result<AkaOutcome> authenticate(ByteView rand, ByteView autn);

  /// TR 33.812 Alt 3d "USIM reset": replaces IMSI, K, OPc and constants with @p profile and
  /// starts a fresh SQN state from its sqn_start, saved before returning. The next attach
  /// presents the new IMSI. On error nothing changes.
  Result<void> reset(UsimProfile profile);

  const std::string& imsi() const noexcept { return state_.imsi(); }
  const SqnState& sqn_state() const noexcept { return state_; }
  const UsimOptions& options() const noexcept { return options_; }

 private:
  Usim(mo::Milenage m, SqnState s, std::unique_ptr<SqnStateStore> store, UsimOptions o)
      : milenage_(std::move(m)), state_(std::move(s)), store_(std::move(store)), options_(o) {}
  Result<void> persist(const SqnState& s);

  mo::Milenage milenage_;
  SqnState state_;
  std::unique_ptr<SqnStateStore> store_;
  UsimOptions options_;
};

}  // namespace m2mdm::client
