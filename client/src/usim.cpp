// Software USIM: UMTS AKA on the UE side (3GPP TS 33.102 §6.3.3, Annex C.2).
#include "m2mdm/client/usim.hpp"

#include "m2mdm/client/error.hpp"
#include "m2mdm/mo/fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

namespace m2mdm::client {
namespace {

std::unexpected<std::error_code> err(errc e) { return fail(make_error_code(e)); }

constexpr std::uint8_t kMagic[4] = {'M', '2', 'S', 'Q'};
constexpr std::uint8_t kVersion = 1;
constexpr unsigned kMaxIndBits = 16;

bool valid_imsi(const std::string& imsi) {
  if (imsi.size() < 6 || imsi.size() > 15) return false;
  return std::all_of(imsi.begin(), imsi.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// Builds the outcome in place (returning a temporary variant through std::expected's converting
/// constructor trips g++ 12's -Wmaybe-uninitialized on the variant's inactive members).
template <class T, class... Args>
Result<AkaOutcome> outcome(Args&&... args) {
  return Result<AkaOutcome>(std::in_place, std::in_place_type<T>, std::forward<Args>(args)...);
}

std::unexpected<std::error_code> errno_error() {
  return fail(std::error_code(errno, std::generic_category()));
}

}  // namespace

SqnState::SqnState(std::string imsi, unsigned ind_bits, std::uint64_t initial_seq)
    : imsi_(std::move(imsi)), ind_bits_(ind_bits), seq_(std::size_t{1} << ind_bits, initial_seq) {}

std::uint64_t SqnState::highest_seq() const noexcept { return *std::max_element(seq_.begin(), seq_.end()); }

std::uint64_t SqnState::sqn_ms() const noexcept {
  const auto it = std::max_element(seq_.begin(), seq_.end());
  const auto ind = static_cast<std::uint64_t>(it - seq_.begin());
  return ((*it << ind_bits_) | ind) & mo::kSqnMax;
}

bool SqnState::fresh(std::uint64_t sqn, const mo::SqnProfile& profile) const noexcept {
  const std::uint64_t seq = profile.seq_of(sqn);
  const std::uint32_t ind = profile.ind_of(sqn);
  if (ind >= seq_.size()) return false;
  if (seq <= seq_[ind]) return false;  // TS 33.102 C.2.2: SEQ > SEQ_MS(i)
  const std::uint64_t max = highest_seq();
  if (seq > max && seq - max > profile.delta) return false;  // C.2.2: SEQ - SEQ_MS <= Δ
  if (profile.limit_l != 0 && seq < max && max - seq >= profile.limit_l) return false;  // C.2.2: L
  return true;
}

void SqnState::accept(std::uint64_t sqn, const mo::SqnProfile& profile) noexcept {
  const std::uint32_t ind = profile.ind_of(sqn);
  if (ind < seq_.size()) seq_[ind] = profile.seq_of(sqn);
}

Bytes SqnState::serialize() const {
  Bytes out(std::begin(kMagic), std::end(kMagic));
  out.push_back(kVersion);
  out.push_back(static_cast<std::uint8_t>(ind_bits_));
  out.push_back(static_cast<std::uint8_t>(imsi_.size()));
  out.insert(out.end(), imsi_.begin(), imsi_.end());
  for (const auto s : seq_) {
    const auto b = mo::sqn_to_bytes(s);
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

Result<SqnState> SqnState::deserialize(ByteView in) {
  if (in.size() < 7 || !std::equal(std::begin(kMagic), std::end(kMagic), in.begin()) || in[4] != kVersion)
    return err(errc::malformed);
  const unsigned ind_bits = in[5];
  const std::size_t imsi_len = in[6];
  if (ind_bits > kMaxIndBits || imsi_len > 15) return err(errc::malformed);
  const std::size_t entries = std::size_t{1} << ind_bits;
  if (in.size() != 7 + imsi_len + entries * mo::kSqnSize) return err(errc::malformed);
  std::string imsi(as_chars(in.subspan(7, imsi_len)));
  if (!valid_imsi(imsi)) return err(errc::malformed);
  SqnState s(std::move(imsi), ind_bits, 0);
  const std::uint64_t max_seq = mo::kSqnMax >> ind_bits;
  for (std::size_t i = 0; i < entries; ++i) {
    const std::uint64_t v = mo::sqn_from_bytes(in.subspan(7 + imsi_len + i * mo::kSqnSize, mo::kSqnSize));
    if (v > max_seq) return err(errc::malformed);
    s.seq_[i] = v;
  }
  return s;
}

Result<std::optional<Bytes>> FileSqnStateStore::load() {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) {
    if (ec) return fail(ec);
    return std::optional<Bytes>{};
  }
  std::ifstream in(path_, std::ios::binary);
  if (!in) return err(errc::io_error);
  Bytes data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return err(errc::io_error);
  return std::optional<Bytes>(std::move(data));
}

Result<void> FileSqnStateStore::save(ByteView bytes) {
  const std::filesystem::path tmp = path_.string() + ".tmp";
  {
    mo::Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (fd.get() < 0) return errno_error();
    if (!mo::write_all(fd.get(), bytes)) return errno_error();
    if (::fsync(fd.get()) != 0) return errno_error();
    if (::close(fd.release()) != 0) return errno_error();
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) return errno_error();
  // Make the rename itself durable.
  const auto dir = path_.has_parent_path() ? path_.parent_path() : std::filesystem::path(".");
  mo::Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0) ::fsync(dfd.get());
  return {};
}

Result<Usim> Usim::create(UsimProfile profile, std::unique_ptr<SqnStateStore> store, UsimOptions options) {
  if (!valid_imsi(profile.imsi) || !options.sqn.valid() || options.sqn.ind_bits > kMaxIndBits ||
      profile.sqn_start > mo::kSqnMax)
    return err(errc::invalid_argument);
  auto m = profile.keys.milenage();
  if (!m) return fail(m.error());
  SqnState state(profile.imsi, options.sqn.ind_bits, options.sqn.seq_of(profile.sqn_start));
  bool must_save = store != nullptr;
  if (store) {
    auto saved = store->load();
    if (!saved) return fail(saved.error());
    if (*saved) {
      auto parsed = SqnState::deserialize(**saved);
      if (!parsed) return fail(parsed.error());
      if (parsed->imsi() == profile.imsi) {
        if (parsed->ind_bits() != options.sqn.ind_bits) return err(errc::malformed);
        state = std::move(*parsed);
        must_save = false;
      }
    }
  }
  Usim u(std::move(*m), std::move(state), std::move(store), options);
  if (must_save)
    if (auto r = u.persist(u.state_); !r) return fail(r.error());
  return u;
}

Result<void> Usim::persist(const SqnState& s) {
  if (!store_) return {};
  return store_->save(s.serialize());
}

Result<AkaOutcome> Usim::authenticate(ByteView rand, ByteView autn) {
  if (rand.size() != mo::kRandSize) return err(errc::invalid_argument);
  auto fields = mo::parse_autn(autn);
  if (!fields) return err(errc::invalid_argument);

  // TS 33.102 §6.3.3: AK = f5(RAND), SQN = (SQN xor AK) xor AK.
  auto f = milenage_.f2345(rand);
  if (!f) return fail(f.error());
  mo::Sqn sqn_bytes{};
  for (std::size_t i = 0; i < mo::kSqnSize; ++i)
    sqn_bytes[i] = static_cast<std::uint8_t>(fields->sqn_xor_ak[i] ^ f->ak.bytes[i]);
  // XMAC = f1(K; SQN || RAND || AMF), compared with MAC-A.
  auto f1 = milenage_.f1(rand, sqn_bytes, fields->amf);
  if (!f1) return fail(f1.error());
  if (!constant_time_equal(f1->mac_a, fields->mac_a)) return outcome<AkaMacFailure>();

  // TS 33.401 §6.1.1: AMF separation bit (bit 0 of AMF) for E-UTRAN.
  if (options_.require_amf_separation_bit && (fields->amf[0] & 0x80) == 0) return outcome<AkaAmfFailure>();

  const std::uint64_t sqn = mo::sqn_from_bytes(sqn_bytes);
  if (!state_.fresh(sqn, options_.sqn)) {
    // Synchronisation failure: AUTS = SQN_MS xor AK* || MAC-S (TS 33.102 §6.3.3).
    auto auts = mo::make_auts(milenage_, rand, state_.sqn_ms());
    if (!auts) return fail(auts.error());
    return outcome<AkaSyncFailure>(AkaSyncFailure{*auts});
  }

  // Save before answering, so an accepted SQN can never be accepted again after a power loss.
  SqnState next = state_;
  next.accept(sqn, options_.sqn);
  if (auto r = persist(next); !r) return fail(r.error());
  state_ = std::move(next);
  return outcome<AkaSuccess>(AkaSuccess{f->res, f->ck, f->ik});
}

Result<void> Usim::reset(UsimProfile profile) {
  if (!valid_imsi(profile.imsi) || profile.sqn_start > mo::kSqnMax) return err(errc::invalid_argument);
  auto m = profile.keys.milenage();
  if (!m) return fail(m.error());
  SqnState fresh_state(profile.imsi, options_.sqn.ind_bits, options_.sqn.seq_of(profile.sqn_start));
  if (auto r = persist(fresh_state); !r) return fail(r.error());
  milenage_ = std::move(*m);
  state_ = std::move(fresh_state);
  return {};
}

}  // namespace m2mdm::client
