/// @file sms.hpp
/// @brief WAP over SMS framing (WAP-259-WDP Annex A, 3GPP TS 23.040 §9.2.3.24): 8-bit user data
/// with a user-data header carrying port addressing (IE 0x05) and concatenation (IE 0x00 with
/// an 8-bit reference or IE 0x08 with a 16-bit reference); segmenting and bounded reassembly.
/// No I/O and no clock: the caller passes a monotonic `now`.
///
/// A single-segment push's user data starts `06 05 04 0B 84 23 F0` (UDHL 6; IE 0x05 length 4,
/// destination port 2948, source port 9200). A concatenated one starts
/// `0B 05 04 0B 84 23 F0 00 03 <ref> <total> <seq>` (or IE `08 04 <ref16> <total> <seq>`).
#pragma once

#include "m2mdm/bootstrap/wdp.hpp"
#include "m2mdm/bootstrap/wsp.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace m2mdm::bootstrap::sms {

/// TS 23.040 §9.2.3.24: IE identifiers we generate and interpret.
inline constexpr std::uint8_t kIeConcat8 = 0x00;   ///< concatenated SM, 8-bit reference
inline constexpr std::uint8_t kIePort8 = 0x04;     ///< application port addressing, 8-bit
inline constexpr std::uint8_t kIePort16 = 0x05;    ///< application port addressing, 16-bit
inline constexpr std::uint8_t kIeConcat16 = 0x08;  ///< concatenated SM, 16-bit reference
/// TS 23.040 §9.2.3.16/§9.2.3.24: 140 octets of 8-bit user data (UDHL + UDH + payload).
inline constexpr std::size_t kMaxUserData = 140;

/// How segment_push frames a WSP PDU.
struct SegmentOptions {
  std::uint16_t reference = 0;   ///< concatenation reference (must be < 256 unless use_16bit_ref)
  bool use_16bit_ref = false;    ///< IE 0x08 instead of IE 0x00
  std::size_t max_user_data = kMaxUserData;  ///< octets per segment incl. UDHL and UDH (20..140)
  std::uint16_t dst_port = wdp::kPortPush;
  std::uint16_t src_port = wdp::kPortWspConnectionless;
  bool always_concat = false;    ///< emit the concatenation IE even for a single segment
};

/// Frames `wsp_pdu` as SMS user data: one entry per segment (UDHL + UDH + payload). A single
/// segment carries only the port IE; otherwise every segment carries the port IE and the
/// concatenation IE (sequence numbers from 1). Fails with push_too_large above 255 segments,
/// invalid_argument for an empty PDU, a reference >= 256 with 8-bit references, or a
/// max_user_data outside 20..140.
Result<std::vector<Bytes>> segment_push(ByteView wsp_pdu, const SegmentOptions& opt = {});

/// One segment's user data, decoded.
struct Segment {
  std::optional<std::uint16_t> dst_port;  ///< from IE 0x05 (or IE 0x04)
  std::optional<std::uint16_t> src_port;
  bool concatenated = false;    ///< a concatenation IE was present
  bool ref16 = false;           ///< it was IE 0x08
  std::uint16_t reference = 0;
  std::uint8_t total = 1;       ///< number of parts (1..255)
  std::uint8_t seq = 1;         ///< this part's number (1..total)
  Bytes payload;                ///< the octets after the UDH

  bool operator==(const Segment&) const = default;
};

/// Decodes one 8-bit user-data blob that starts with a UDH (UDHI set). Unknown IEs are
/// skipped; errors: wsp_truncated, sms_bad_udh (IE running past the UDH, wrong IE length,
/// total 0, seq 0 or seq > total, repeated port/concat IE); `detail` receives the offset.
Result<Segment> decode_segment(ByteView user_data, DecodeDetail* detail = nullptr);

/// Bounds of a Reassembler.
struct ReassemblerLimits {
  std::size_t max_messages = 32;         ///< incomplete messages kept at once
  std::size_t max_parts = 255;           ///< highest accepted `total`
  std::size_t max_total_bytes = 256 * 1024;  ///< payload octets buffered over all messages
  std::chrono::steady_clock::duration timeout = std::chrono::minutes(5);  ///< since first part
};

/// A message completed by the Reassembler.
struct Reassembled {
  std::optional<std::uint16_t> dst_port;
  std::optional<std::uint16_t> src_port;
  Bytes payload;  ///< the concatenated payload (e.g. the WSP PDU)

  bool operator==(const Reassembled&) const = default;
};

/// Reassembles concatenated SMS keyed by (originator, reference width, reference, total).
/// Parts may arrive in any order; an identical duplicate is ignored; a duplicate with different
/// bytes is an error and drops the message. Memory is bounded by ReassemblerLimits: expired
/// messages are dropped first, then the oldest incomplete ones; a single message larger than
/// max_total_bytes is refused. Not thread-safe.
class Reassembler {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit Reassembler(ReassemblerLimits limits = {});

  /// Feeds one segment's user data from `originator` (any stable sender id, e.g. the TP-OA).
  /// Returns the message when this segment completes it (or when it is not concatenated),
  /// std::nullopt while parts are missing or for an ignored duplicate. Errors: decode_segment's,
  /// sms_segment_conflict, sms_reassembly_limit (total > max_parts, message too large).
  Result<std::optional<Reassembled>> feed(std::string_view originator, ByteView user_data,
                                          TimePoint now, DecodeDetail* detail = nullptr);
  /// The same for an already decoded segment.
  Result<std::optional<Reassembled>> feed(std::string_view originator, const Segment& seg,
                                          TimePoint now);

  /// Drops incomplete messages whose first part arrived `timeout` or more before `now`;
  /// returns how many were dropped.
  std::size_t expire(TimePoint now);

  std::size_t pending_messages() const noexcept { return pending_.size(); }
  std::size_t buffered_bytes() const noexcept { return bytes_; }

 private:
  struct Key {
    std::string originator;
    bool ref16;
    std::uint16_t reference;
    std::uint8_t total;
    auto operator<=>(const Key&) const = default;
  };
  struct Pending {
    TimePoint first_seen;
    std::uint64_t order;  // insertion counter: oldest first
    std::optional<std::uint16_t> dst_port;
    std::optional<std::uint16_t> src_port;
    std::vector<std::optional<Bytes>> parts;
    std::size_t received = 0;
    std::size_t bytes = 0;
  };

  void drop(std::map<Key, Pending>::iterator it);
  bool evict_oldest_except(const Key* keep);

  ReassemblerLimits limits_;
  std::map<Key, Pending> pending_;
  std::size_t bytes_ = 0;
  std::uint64_t counter_ = 0;
};

}  // namespace m2mdm::bootstrap::sms
