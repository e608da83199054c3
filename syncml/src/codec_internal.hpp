/// @file codec_internal.hpp
/// @brief Private pieces shared by the XML and WBXML codecs: the SyncML DM 1.2 tag table, a
///        small element tree both decoders build, the tree→model walker and the model→tokens
///        serializer both encoders drive.
#pragma once

#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/syncml/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace m2mdm::syncml::detail {

/// The elements of SyncML DM 1.2 that the model holds. Code page 0 = SyncML, page 1 = MetInf.
/// WBXML tokens: SyncML RepPro 1.2 §8 / MetInf 1.2 WBXML tables. These were written by hand and
/// cross-checked token by token against the output of Debian's xml2wbxml (libwbxml 0.11.8,
/// WBXML_LANG_SYNCML_SYNCML12) for a message using every element; the unit tests decode what we
/// encode with libwbxml's own tables, which checks every token again.
enum class Tag : std::uint8_t {
  // code page 0 (SyncML)
  Add, Alert, Atomic, Chal, Cmd, CmdID, CmdRef, Copy, Cred, Data, Delete, Exec, Final, Get, Item,
  Lang, LocName, LocURI, Meta, MsgID, MsgRef, NoResp, Replace, RespURI, Results, Sequence,
  SessionID, Source, SourceRef, Status, SyncBody, SyncHdr, SyncML, Target, TargetRef, VerDTD,
  VerProto, MoreData, Correlator,
  // code page 1 (MetInf)
  EMI, Format, Mark, MaxMsgSize, NextNonce, Size, Type, Version, MaxObjSize,
  Unknown,
};

struct TagInfo {
  const char* name;
  std::uint8_t page;
  std::uint8_t token;
};

/// Name, code page and token of a tag.
const TagInfo& tag_info(Tag t) noexcept;
/// Looks up a tag by its name in a given code page (0 SyncML, 1 MetInf); Tag::Unknown if none.
Tag tag_from_name(std::string_view name, int page) noexcept;
/// Looks up a tag by WBXML page + token; Tag::Unknown if none.
Tag tag_from_token(std::uint8_t page, std::uint8_t token) noexcept;

/// Which vocabulary an element was found in.
enum class Space : std::uint8_t { None, SyncML, MetInf, Other };

/// An element of a decoded document: what both decoders produce before the model is built.
struct Node {
  Tag tag = Tag::Unknown;
  Space space = Space::None;
  std::string name;          ///< element name as found (for messages about unknown elements)
  std::string text;          ///< concatenated character content (text, CDATA, STR_I, OPAQUE)
  bool has_text = false;     ///< some non-whitespace character content was present
  std::vector<Node> children;
};

/// Builds the message from a decoded tree (consumed: leaf text is moved out). Fills @p error.
Result<Message> build_message(Node& root, const DecodeLimits& limits, DecodeError* error);

/// Records an error (if @p out) and returns it.
std::unexpected<std::error_code> decode_fail(DecodeError* out, errc code, std::string what, std::string where);

/// A sink for the serializer (XML or WBXML writer).
class TokenSink {
 public:
  virtual ~TokenSink() = default;
  /// Opens an element that has content.
  virtual void open(Tag t) = 0;
  virtual void close(Tag t) = 0;
  /// An element with no content (<NoResp/>, <Final/>, <Meta/>).
  virtual void empty(Tag t) = 0;
  /// What a leaf holds: plain text, Item Data, or Item Data whose Meta Format is bin.
  enum class Content { Text, Data, BinaryData };
  /// An element holding text only.
  virtual void leaf(Tag t, std::string_view value, Content content) = 0;
};

/// Walks the message in DTD order (DM_RepPro 1.2 / SyncML RepPro 1.2 DTD) into @p sink.
void serialize(const Message& m, TokenSink& sink);

/// True when @p s is valid UTF-8 made of characters XML 1.0 allows (no NUL, no C0 controls
/// other than TAB, LF, CR; no U+FFFE/U+FFFF; no surrogates).
bool xml_safe_text(std::string_view s) noexcept;

}  // namespace m2mdm::syncml::detail
