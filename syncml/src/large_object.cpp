// Large objects in both directions and message packing (see m2mdm/syncml/large_object.hpp).
#include "m2mdm/syncml/large_object.hpp"

#include <algorithm>

namespace m2mdm::syncml {

// ---- receiving -----------------------------------------------------------------------------

StatusCode LargeObjectAssembler::check_first(std::optional<std::uint64_t> declared_size,
                                             std::uint64_t max_obj_size) noexcept {
  if (!declared_size) return StatusCode::SizeRequired;
  if (*declared_size > max_obj_size) return StatusCode::RequestEntityTooLarge;
  return StatusCode::Ok;
}

void LargeObjectAssembler::start(std::string uri, std::uint64_t declared_size) {
  active_ = true;
  b64_ = false;
  uri_ = std::move(uri);
  declared_ = declared_size;
  data_.clear();
}

StatusCode LargeObjectAssembler::begin(std::string uri, const Meta& first_chunk_meta, std::uint64_t max_obj_size) {
  const StatusCode first = check_first(first_chunk_meta.size, max_obj_size);
  if (first != StatusCode::Ok) return first;
  start(std::move(uri), *first_chunk_meta.size);
  b64_ = first_chunk_meta.format == "b64";
  return StatusCode::Ok;
}

StatusCode LargeObjectAssembler::append(ByteView chunk, bool more_data) {
  if (!active_) return StatusCode::BadRequest;
  data_.insert(data_.end(), chunk.begin(), chunk.end());
  if (data_.size() > declared_) {
    reset();
    return StatusCode::SizeMismatch;
  }
  if (more_data) return StatusCode::ChunkedItemAccepted;
  // Last chunk: the assembled object must have exactly the announced size.
  if (data_.size() != declared_) {
    reset();
    return StatusCode::SizeMismatch;
  }
  return StatusCode::Ok;
}

StatusCode LargeObjectAssembler::append_data(std::string_view data, bool more_data) {
  if (!b64_) return append(as_bytes(data), more_data);
  auto decoded = base64_decode(data);
  if (!decoded) {
    reset();
    return StatusCode::BadRequest;
  }
  return append(*decoded, more_data);
}

Alert no_end_of_data_alert(std::uint32_t cmd_id, std::string uri) {
  Alert alert;
  alert.cmd_id = cmd_id;
  alert.data = code(AlertCode::NoEndOfData);
  Item item;
  item.target = Location{std::move(uri), std::nullopt};
  alert.items.push_back(std::move(item));
  return alert;
}

Bytes LargeObjectAssembler::take() {
  Bytes out = std::move(data_);
  reset();
  return out;
}

void LargeObjectAssembler::reset() noexcept {
  active_ = false;
  b64_ = false;
  uri_.clear();
  declared_ = 0;
  data_.clear();
}

// ---- sending one object --------------------------------------------------------------------

Item ObjectChunker::next(std::size_t max_raw, Item item) {
  const std::size_t n = std::min(max_raw, object_.size() - offset_);
  if (!item.meta) item.meta = Meta{};
  item.meta->format = "b64";
  // Meta Size counts the object's bytes (after base64 decoding), on the first chunk only.
  if (!started_) item.meta->size = object_.size();
  item.data = base64_encode(ByteView(object_).subspan(offset_, n));
  offset_ += n;
  started_ = true;
  item.more_data = offset_ < object_.size();
  return item;
}

std::uint64_t chunk_budget(std::uint64_t peer_max_msg_size) noexcept {
  // Room for one chunk: the peer's MaxMsgSize minus headers and the other commands, and base64
  // growth (4/3). Floors keep progress possible on tiny limits.
  const std::uint64_t msg = peer_max_msg_size ? peer_max_msg_size : 16 * 1024;
  const std::uint64_t overhead = 1536;
  const std::uint64_t room = msg > overhead + 256 ? msg - overhead : 256;
  return std::max<std::uint64_t>(room * 3 / 4 / 4 * 4, 192);
}

// ---- packing messages ------------------------------------------------------------------------

Result<bool> MessagePacker::fits(const Message& m, std::uint64_t limit) const {
  auto probe = encode(m, encoding_);
  if (!probe) return fail(probe.error());
  return probe->size() + kTrailerRoom <= limit;
}

bool MessagePacker::chunk_of(const Results& r) const {
  return chunk_ && chunk_->cmd_ref == r.cmd_ref && chunk_->msg_ref == r.msg_ref.value_or(0);
}

bool MessagePacker::on_status(const Status& status, std::vector<Command>& queue) {
  if (status.cmd != "Results" || !chunk_ || status.cmd_ref != chunk_->sent_cmd_id) return false;
  const auto code_value = static_cast<StatusCode>(status.data);
  if (code_value != StatusCode::ChunkedItemAccepted && !is_success(code_value)) {
    // Refused: the rest of the object is not sent.
    std::erase_if(queue, [&](const Command& c) {
      const auto* r = std::get_if<Results>(&c.value);
      return r && r->cmd_ref == chunk_->cmd_ref && r->msg_ref.value_or(0) == chunk_->msg_ref;
    });
    chunk_.reset();
  }
  return true;
}

// Puts into @p m as much of the Results @p r as fits @p limit: whole items first, then the first
// chunk of an item too large for one message (DM_RepPro 1.2 §7: Meta Size on the first chunk,
// MoreData on all but the last). Returns what is left to send (nullopt: all taken).
Result<std::optional<Results>> MessagePacker::split_results(Message& m, Results r, std::uint64_t limit,
                                                             MessageBuilder& ids) {
  Results part = r;
  part.items.clear();
  part.cmd_id = ids.next_cmd_id();
  std::size_t whole = 0;
  for (; whole < r.items.size(); ++whole) {
    part.items.push_back(r.items[whole]);
    m.body.push_back(Command{part});
    auto ok = fits(m, limit);
    m.body.pop_back();
    if (!ok) return fail(ok.error());
    if (!*ok) {
      part.items.pop_back();
      break;
    }
  }
  Results rest = r;
  rest.items.erase(rest.items.begin(), rest.items.begin() + static_cast<std::ptrdiff_t>(whole));
  if (whole == 0) {
    // The first item alone is too large: send a chunk of its data.
    Item& big = rest.items.front();
    const std::string data = big.data.value_or(std::string{});
    const bool b64 = (big.meta && big.meta->format == "b64");
    const bool first_chunk = !chunk_of(r);
    Item piece = big;
    if (first_chunk) {
      if (!piece.meta) piece.meta = Meta{};
      // Size is the object's size: the decoded bytes for b64 (what the receiver assembles).
      piece.meta->size = b64 ? base64_decode(data).value_or(Bytes{}).size() : data.size();
    } else if (piece.meta) {
      piece.meta->size.reset();
    }
    piece.more_data = true;
    // Largest prefix that fits: start from the room left, shrink until the encoding fits.
    piece.data = std::string{};
    part.items = {piece};
    m.body.push_back(Command{part});
    auto empty = encode(m, encoding_);
    m.body.pop_back();
    if (!empty) return fail(empty.error());
    if (empty->size() + kTrailerRoom >= limit) return std::optional<Results>{std::move(r)};  // no room at all
    std::size_t n = std::min<std::size_t>(data.size(), limit - kTrailerRoom - empty->size());
    while (n > 0) {
      if (b64) n -= n % 4;  // each chunk decodes on its own
      if (n == 0) break;
      part.items.front().data = data.substr(0, n);
      part.items.front().more_data = n < data.size();
      m.body.push_back(Command{part});
      auto ok = fits(m, limit);
      m.body.pop_back();
      if (!ok) return fail(ok.error());
      if (*ok) break;
      n = n > 64 ? n - n / 8 : n - 1;  // escaping made it larger than the raw bytes
    }
    if (n == 0) return std::optional<Results>{std::move(r)};
    m.body.push_back(Command{part});
    if (n >= data.size()) {
      rest.items.erase(rest.items.begin());
      if (chunk_ && !first_chunk) chunk_.reset();
    } else {
      big.data = data.substr(n);
      if (big.meta) big.meta->size.reset();
      chunk_ = OutgoingChunk{part.cmd_id, r.cmd_ref, r.msg_ref.value_or(0)};
    }
  } else {
    if (chunk_of(r)) chunk_.reset();  // the chunked item's last piece is in this part
    m.body.push_back(Command{part});
  }
  if (rest.items.empty()) return std::optional<Results>{};
  return std::optional<Results>{std::move(rest)};
}

Result<void> MessagePacker::pack(Message& m, std::vector<Command>& queue, std::uint64_t limit, MessageBuilder& ids) {
  std::size_t taken = 0;
  for (; taken < queue.size(); ++taken) {
    m.body.push_back(queue[taken]);
    if (limit == 0) continue;
    auto ok = fits(m, limit);
    if (!ok) return fail(ok.error());
    if (*ok) {
      if (const auto* r = std::get_if<Results>(&queue[taken].value); r && chunk_of(*r)) chunk_.reset();
      continue;
    }
    m.body.pop_back();
    if (auto* r = std::get_if<Results>(&queue[taken].value)) {
      auto rest = split_results(m, *r, limit, ids);
      if (!rest) return fail(rest.error());
      if (!*rest) {
        ++taken;  // all of it went in after all
        continue;
      }
      queue[taken] = Command{std::move(**rest)};
      break;
    }
    if (taken == 0) {
      m.body.push_back(queue[taken]);  // one command larger than the limit: nothing smaller to send
      ++taken;
    }
    break;
  }
  queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(taken));
  return {};
}

}  // namespace m2mdm::syncml
