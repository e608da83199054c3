/// @file message.hpp
/// @brief The SyncML DM 1.2 message model (OMA-TS-DM_RepPro-V1_2 §5–§6).
///
/// Plain value types, no I/O. A `Message` is one SyncML message: a `SyncHdr` and the commands of
/// the `SyncBody` in order, plus the `Final` flag. The XML and WBXML codecs (codec.hpp) turn
/// bytes into a Message and back; the client and server session engines build and read them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace m2mdm::syncml {

/// <Meta> content (MetInf namespace, DM_RepPro 1.2 §5.1 "Meta Information").
/// Only the elements OMA DM 1.2 uses are modelled; all are optional.
struct Meta {
  std::optional<std::string> format;        ///< <Format>: b64, bin, bool, chr, int, node, null, xml, date, time, float
  std::optional<std::string> type;          ///< <Type>: MIME type or DDF type URN
  std::optional<std::string> mark;          ///< <Mark>
  std::optional<std::uint64_t> size;        ///< <Size>: total size of a (large) object in bytes
  std::optional<std::string> next_nonce;    ///< <NextNonce>: as transmitted (base64 text when Format b64)
  std::optional<std::string> version;       ///< <Version>
  std::optional<std::uint64_t> max_msg_size;  ///< <MaxMsgSize> (SyncHdr only)
  std::optional<std::uint64_t> max_obj_size;  ///< <MaxObjSize> (SyncHdr only)
  std::vector<std::string> emi;             ///< <EMI> extensions, kept verbatim

  bool empty() const noexcept {
    return !format && !type && !mark && !size && !next_nonce && !version && !max_msg_size &&
           !max_obj_size && emi.empty();
  }
  friend bool operator==(const Meta&, const Meta&) = default;
};

/// <Target> or <Source>: a LocURI with an optional LocName.
struct Location {
  std::string loc_uri;
  std::optional<std::string> loc_name;
  friend bool operator==(const Location&, const Location&) = default;
};

/// <Cred>: credentials (DM_Security 1.2 §5.1): Meta Type/Format and the credential Data.
struct Cred {
  Meta meta;
  std::string data;
  friend bool operator==(const Cred&, const Cred&) = default;
};

/// <Chal>: an authentication challenge: Meta Type, Format and NextNonce.
struct Chal {
  Meta meta;
  friend bool operator==(const Chal&, const Chal&) = default;
};

/// <Item> (DM_RepPro 1.2 §6.5): Target/Source/Meta/Data/MoreData.
/// `data` holds the content as bytes: for XML it is the element's text (base64 text when
/// Meta Format is b64); for WBXML it may be opaque binary.
struct Item {
  std::optional<Location> target;
  std::optional<Location> source;
  std::optional<Meta> meta;
  std::optional<std::string> data;
  bool more_data = false;  ///< <MoreData/>: another chunk of this large object follows
  friend bool operator==(const Item&, const Item&) = default;
};

/// The Meta in effect for an item of a command: each field the item's own Meta gives, else the
/// command's (DM_RepPro 1.2 §6.5.6). An item Meta that gives only a Format leaves the command's
/// Size in effect.
Meta effective_meta(const Item& item, const std::optional<Meta>& command_meta);

/// The kinds of command a SyncBody may hold (DM_RepPro 1.2 §6.6).
enum class CommandKind { Add, Alert, Atomic, Copy, Delete, Exec, Get, Replace, Results, Sequence, Status };

/// The element name of a command kind ("Add", "Alert", ...), as used in Status/Cmd.
const char* command_name(CommandKind kind) noexcept;
/// Parses an element name into a command kind.
std::optional<CommandKind> command_from_name(std::string_view name) noexcept;

/// <Alert> (§6.6.2): Data holds the alert code (1200, 1201, 1222, 1223, 1226, ...).
struct Alert {
  std::uint32_t cmd_id = 0;
  bool no_resp = false;
  std::optional<Cred> cred;
  std::optional<std::uint16_t> data;      ///< the alert code
  std::optional<std::string> correlator;  ///< <Correlator> (Generic Alert answering an Exec)
  std::vector<Item> items;
  friend bool operator==(const Alert&, const Alert&) = default;
};

/// Add, Copy, Delete, Exec, Get, Replace: commands that act on Items.
struct ItemCommand {
  CommandKind kind = CommandKind::Get;  ///< one of Add, Copy, Delete, Exec, Get, Replace
  std::uint32_t cmd_id = 0;
  bool no_resp = false;
  std::optional<std::string> lang;        ///< <Lang> (Get only)
  std::optional<Cred> cred;
  std::optional<Meta> meta;
  std::optional<std::string> correlator;  ///< <Correlator> (Exec only)
  std::vector<Item> items;
  friend bool operator==(const ItemCommand&, const ItemCommand&) = default;
};

/// <Status> (§6.6.14): the response to a command; Data is the status code.
struct Status {
  std::uint32_t cmd_id = 0;
  std::uint32_t msg_ref = 0;
  std::uint32_t cmd_ref = 0;  ///< 0 for the status of the SyncHdr
  std::string cmd;            ///< the command answered: "SyncHdr", "Add", "Get", ...
  std::vector<std::string> target_refs;
  std::vector<std::string> source_refs;
  std::optional<Cred> cred;
  std::optional<Chal> chal;
  std::uint16_t data = 200;   ///< the status code (StatusCode)
  std::vector<Item> items;
  friend bool operator==(const Status&, const Status&) = default;
};

/// <Results> (§6.6.12): the data returned by a Get; follows its Status.
struct Results {
  std::uint32_t cmd_id = 0;
  std::optional<std::uint32_t> msg_ref;
  std::uint32_t cmd_ref = 0;
  std::optional<Meta> meta;
  std::optional<std::string> target_ref;
  std::optional<std::string> source_ref;
  std::vector<Item> items;
  friend bool operator==(const Results&, const Results&) = default;
};

struct Command;

/// <Atomic> or <Sequence> (§6.6.4, §6.6.13): a container of commands.
/// Atomic may hold Add, Alert, Atomic, Copy, Delete, Replace, Sequence; Sequence may also hold
/// Exec and Get (DM_RepPro 1.2 DTD). The codecs enforce this.
struct Container {
  CommandKind kind = CommandKind::Sequence;  ///< Atomic or Sequence
  std::uint32_t cmd_id = 0;
  bool no_resp = false;
  std::optional<Meta> meta;
  std::vector<Command> commands;
  friend bool operator==(const Container&, const Container&);
};

/// One command of a SyncBody.
struct Command {
  std::variant<Alert, ItemCommand, Status, Results, Container> value;

  /// The kind of this command.
  CommandKind kind() const noexcept;
  /// The CmdID of this command.
  std::uint32_t cmd_id() const noexcept;
  friend bool operator==(const Command&, const Command&) = default;
};

inline bool operator==(const Container& a, const Container& b) {
  return a.kind == b.kind && a.cmd_id == b.cmd_id && a.no_resp == b.no_resp && a.meta == b.meta &&
         a.commands == b.commands;
}

/// <SyncHdr> (§6.2).
struct SyncHdr {
  std::string ver_dtd = "1.2";
  std::string ver_proto = "DM/1.2";
  std::string session_id;
  std::uint32_t msg_id = 1;
  Location target;
  Location source;
  std::optional<std::string> resp_uri;
  bool no_resp = false;
  std::optional<Cred> cred;
  std::optional<Meta> meta;  ///< MaxMsgSize / MaxObjSize
  friend bool operator==(const SyncHdr&, const SyncHdr&) = default;
};

/// One SyncML message.
struct Message {
  SyncHdr hdr;
  std::vector<Command> body;
  bool final = false;  ///< <Final/>: the last message of a package
  friend bool operator==(const Message&, const Message&) = default;
};

/// MIME types of DM messages (DM_RepPro 1.2 §5.4 / DM_Protocol 1.2).
inline constexpr const char* kContentTypeXml = "application/vnd.syncml.dm+xml";
inline constexpr const char* kContentTypeWbxml = "application/vnd.syncml.dm+wbxml";

}  // namespace m2mdm::syncml
