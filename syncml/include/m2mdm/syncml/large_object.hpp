/// @file large_object.hpp
/// @brief Large objects (OMA-TS-DM_RepPro-V1_2 §7, OMA-TS-DM_Protocol-V1_2 §6.2) in both
///        directions, shared by the client and the server engines:
///        - `LargeObjectAssembler` receives an object in chunks (Meta Size on the first chunk,
///          MoreData on all but the last; 213 per chunk, 411/413/424 when the rules are broken);
///        - `ObjectChunker` cuts one object into chunks of a given raw size;
///        - `MessagePacker` fills each message from a queue of commands within the peer's
///          MaxMsgSize, splitting a Results that does not fit by items and then into chunks,
///          and follows the peer's Status for each chunk.
///
/// No I/O. What an object is for (which node it writes, which job it belongs to) stays with the
/// engine that uses these.
#pragma once

#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/syncml/encoding.hpp"
#include "m2mdm/syncml/message.hpp"
#include "m2mdm/syncml/message_builder.hpp"
#include "m2mdm/syncml/result.hpp"
#include "m2mdm/syncml/status.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace m2mdm::syncml {

/// Receives one large object at a time.
class LargeObjectAssembler {
 public:
  /// The rule for a first chunk (DM_RepPro 1.2 §7): Meta Size is mandatory (411 SizeRequired)
  /// and may not exceed our MaxObjSize (413 RequestEntityTooLarge); else 200.
  static StatusCode check_first(std::optional<std::uint64_t> declared_size, std::uint64_t max_obj_size) noexcept;

  /// Starts an object for @p uri of @p declared_size bytes (after check_first() said 200).
  void start(std::string uri, std::uint64_t declared_size);

  /// Starts an object from the Meta in effect for its first chunk (effective_meta()):
  /// check_first() on its Size against @p max_obj_size, then start(); a b64 Format makes
  /// append_data() decode each chunk. Returns check_first()'s code (200: started; 411/413:
  /// nothing started).
  StatusCode begin(std::string uri, const Meta& first_chunk_meta, std::uint64_t max_obj_size);

  /// Appends the next chunk's bytes. Returns 213 ChunkedItemAccepted when @p more_data (more
  /// follows), 200 when the object is complete (take() hands it over), or 424 SizeMismatch when
  /// the object outgrew its declared size or its last chunk left it short — the object is then
  /// discarded.
  StatusCode append(ByteView chunk, bool more_data);

  /// Appends an item's Data as the next chunk. A b64 object (begin() saw Format b64) travels as
  /// chunks each base64-encoded on its own, and Size counts the decoded bytes (DM_RepPro 1.2
  /// §7), so each chunk is decoded first: 400 BadRequest, the object discarded, for one that is
  /// not base64. Otherwise as append().
  StatusCode append_data(std::string_view data, bool more_data);

  /// The completed object (after append() returned 200); the assembler is idle again.
  Bytes take();

  /// Discards the object in progress, if any.
  void reset() noexcept;

  bool active() const noexcept { return active_; }
  const std::string& uri() const noexcept { return uri_; }
  std::uint64_t declared_size() const noexcept { return declared_; }
  /// The object in progress is b64 (its chunks are decoded; read it before take()).
  bool base64() const noexcept { return b64_; }

 private:
  bool active_ = false;
  bool b64_ = false;
  std::string uri_;
  std::uint64_t declared_ = 0;
  Bytes data_;
};

/// Alert 1225 "End of Data for chunked object not received" naming the object at @p uri: the
/// answer when another command or another object's item arrives before the last chunk, after
/// which the object is discarded (DM_RepPro 1.2 §7).
Alert no_end_of_data_alert(std::uint32_t cmd_id, std::string uri);

/// Cuts one object into large-object chunks, each sent base64-encoded on its own.
class ObjectChunker {
 public:
  ObjectChunker() = default;
  explicit ObjectChunker(Bytes object) : object_(std::move(object)) {}

  /// True once every byte was handed out (an empty object goes out as one empty chunk first).
  bool done() const noexcept { return started_ && offset_ >= object_.size(); }

  /// The next Item of at most @p max_raw object bytes, copied from @p item_template (target,
  /// Meta Type): Meta Format b64, Meta Size (the object's size) on the first chunk only, the
  /// data base64, MoreData unless it is the last chunk.
  Item next(std::size_t max_raw, Item item_template);

  const Bytes& object() const noexcept { return object_; }

 private:
  Bytes object_;
  std::size_t offset_ = 0;
  bool started_ = false;
};

/// Raw bytes of an object that fit one message to a peer whose MaxMsgSize is @p peer_max_msg_size
/// (0: not announced, 16 KiB assumed) next to the SyncHdr and a few other commands, after base64
/// growth; at least 192.
std::uint64_t chunk_budget(std::uint64_t peer_max_msg_size) noexcept;

/// Fills messages within the peer's MaxMsgSize and keeps track of an outgoing chunked Results.
class MessagePacker {
 public:
  /// Room kept in every message for the Alert 1222 and Final added after packing.
  static constexpr std::size_t kTrailerRoom = 64;

  explicit MessagePacker(Encoding encoding) : encoding_(encoding) {}

  /// Moves as many commands from the front of @p queue into @p m as fit @p limit bytes once
  /// encoded (0: no limit). A Results that does not fit the room left is split, by items and then
  /// into chunks; its rest stays at the front of @p queue, and the message ends with the chunk.
  /// A single other command larger than the limit goes alone (nothing smaller can be sent).
  /// New Results parts get CmdIDs from @p ids.
  Result<void> pack(Message& m, std::vector<Command>& queue, std::uint64_t limit, MessageBuilder& ids);

  /// Applies the peer's Status for a command we sent. True when it answered our last chunk:
  /// 213 (or any 2xx) asks for the rest, anything else drops the rest of that object from
  /// @p queue (DM_RepPro 1.2 §7). False: not about a chunk of ours.
  bool on_status(const Status& status, std::vector<Command>& queue);

  /// Forgets any chunked Results in progress.
  void reset() noexcept { chunk_.reset(); }

 private:
  struct OutgoingChunk {
    std::uint32_t sent_cmd_id = 0;  // CmdID of the last chunk sent
    std::uint32_t cmd_ref = 0;
    std::uint32_t msg_ref = 0;
  };

  Result<bool> fits(const Message& m, std::uint64_t limit) const;
  bool chunk_of(const Results& r) const;
  Result<std::optional<Results>> split_results(Message& m, Results r, std::uint64_t limit, MessageBuilder& ids);

  Encoding encoding_;
  std::optional<OutgoingChunk> chunk_;
};

}  // namespace m2mdm::syncml
