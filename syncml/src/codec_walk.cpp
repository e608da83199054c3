// Decoded element tree → Message, strictly: elements the SyncML DM 1.2 DTD does not allow at a
// place are unknown_element, absent mandatory ones missing_element, bad numbers invalid_value.
// Errors carry the element path ("SyncML/SyncBody/Status[2]/Data"). Children are accepted in any
// order (the encoders always write DTD order); a singular element present twice is refused.
#include "codec_internal.hpp"

#include <array>
#include <charconv>
#include <limits>
#include <optional>
#include <string>

namespace m2mdm::syncml::detail {
namespace {

struct Failure {
  errc code;
  std::string what;
};

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

class Walker {
 public:
  Walker(const DecodeLimits& limits) : limits_(limits) {}

  Message message(Node& root) {
    if (root.tag != Tag::SyncML) {
      enter(root, 0);
      fail(errc::unknown_element, "root element is <" + root.name + ">, expected <SyncML>");
    }
    enter(root, 0);
    Message m;
    bool hdr = false, body = false;
    no_text(root);
    for (Node& c : root.children) {
      switch (c.tag) {
        case Tag::SyncHdr: once(hdr, c); m.hdr = sync_hdr(c); break;
        case Tag::SyncBody: once(body, c); sync_body(c, m); break;
        default: unexpected(c);
      }
    }
    if (!hdr) missing("SyncHdr");
    if (!body) missing("SyncBody");
    leave();
    return m;
  }

  std::string where() const {
    std::string w;
    for (const auto& p : path_) {
      if (!w.empty()) w += '/';
      w += p;
    }
    return w;
  }

 private:
  const DecodeLimits& limits_;
  std::vector<std::string> path_;
  std::size_t commands_ = 0;

  [[noreturn]] void fail(errc code, std::string what) { throw Failure{code, std::move(what)}; }

  void enter(Node& n, std::size_t index) {
    std::string p = n.tag == Tag::Unknown ? n.name : tag_info(n.tag).name;
    if (index > 0) p += "[" + std::to_string(index) + "]";
    path_.push_back(std::move(p));
  }
  void leave() { path_.pop_back(); }

  [[noreturn]] void unexpected(Node& c) {
    const std::string parent = path_.empty() ? std::string{} : path_.back();
    enter(c, 0);
    if (c.space == Space::Other)
      fail(errc::unknown_element, "element <" + c.name + "> in a foreign namespace");
    fail(errc::unknown_element, "element <" + c.name + "> is not allowed in <" + parent + ">");
  }
  [[noreturn]] void missing(const char* name) {
    fail(errc::missing_element, std::string("mandatory element <") + name + "> is missing");
  }
  [[noreturn]] void repeated(Node& c) {
    enter(c, 0);
    fail(errc::invalid_value, "element <" + c.name + "> appears more than once");
  }
  void once(bool& seen, Node& c) {
    if (seen) repeated(c);
    seen = true;
  }
  void no_text(Node& n) {
    if (n.has_text) fail(errc::invalid_value, "unexpected text content");
  }
  // Enters @p n, an element that holds elements only, and hands each child to @p visit. @p n
  // stays entered: the caller checks what is mandatory, then leave()s.
  template <class Visit>
  void enter_element(Node& n, std::size_t index, Visit&& visit) {
    enter(n, index);
    no_text(n);
    for (Node& c : n.children) visit(c);
  }

  // A leaf: text only. Entered/left by the caller's helpers below.
  std::string text_of(Node& n, bool keep_ws) {
    enter(n, 0);
    if (!n.children.empty()) unexpected(n.children.front());
    // The tree is consumed: leaf text is moved into the model, not copied.
    std::string v = keep_ws ? std::move(n.text) : std::string(trim(n.text));
    leave();
    return v;
  }
  template <class T>
  T number_of(Node& n) {
    enter(n, 0);
    if (!n.children.empty()) unexpected(n.children.front());
    const std::string_view t = trim(n.text);
    std::uint64_t v = 0;
    const auto* end = t.data() + t.size();
    auto [p, ec] = std::from_chars(t.data(), end, v);
    if (t.empty() || ec != std::errc{} || p != end || v > std::numeric_limits<T>::max())
      fail(errc::invalid_value, "'" + std::string(t.substr(0, 32)) + "' is not a number in range");
    leave();
    return static_cast<T>(v);
  }
  void flag(Node& n) {
    enter(n, 0);
    if (!n.children.empty()) unexpected(n.children.front());
    if (n.has_text) fail(errc::invalid_value, "element must be empty");
    leave();
  }
  template <class T>
  void set_once(std::optional<T>& slot, Node& c, T value) {
    if (slot) repeated(c);
    slot = std::move(value);
  }

  Meta meta(Node& n) {
    Meta m;
    enter_element(n, 0, [&](Node& c) {
      // MetInf children may carry xmlns="syncml:metinf", inherit SYNCML:SYNCML1.2 or have none.
      switch (c.tag) {
        case Tag::Format: set_once(m.format, c, text_of(c, false)); break;
        case Tag::Type: set_once(m.type, c, text_of(c, false)); break;
        case Tag::Mark: set_once(m.mark, c, text_of(c, false)); break;
        case Tag::Size: set_once(m.size, c, number_of<std::uint64_t>(c)); break;
        case Tag::Version: set_once(m.version, c, text_of(c, false)); break;
        case Tag::NextNonce: set_once(m.next_nonce, c, text_of(c, false)); break;
        case Tag::MaxMsgSize: set_once(m.max_msg_size, c, number_of<std::uint64_t>(c)); break;
        case Tag::MaxObjSize: set_once(m.max_obj_size, c, number_of<std::uint64_t>(c)); break;
        case Tag::EMI: m.emi.push_back(text_of(c, false)); break;
        default: unexpected(c);
      }
    });
    leave();
    return m;
  }

  Location location(Node& n) {
    Location l;
    std::optional<std::string> uri;
    enter_element(n, 0, [&](Node& c) {
      switch (c.tag) {
        case Tag::LocURI: set_once(uri, c, text_of(c, false)); break;
        case Tag::LocName: set_once(l.loc_name, c, text_of(c, false)); break;
        default: unexpected(c);
      }
    });
    if (!uri) missing("LocURI");
    l.loc_uri = std::move(*uri);
    leave();
    return l;
  }

  Cred cred(Node& n) {
    Cred cr;
    std::optional<Meta> m;
    std::optional<std::string> data;
    enter_element(n, 0, [&](Node& c) {
      switch (c.tag) {
        case Tag::Meta: set_once(m, c, meta(c)); break;
        case Tag::Data: set_once(data, c, text_of(c, false)); break;
        default: unexpected(c);
      }
    });
    if (!data) missing("Data");
    if (m) cr.meta = std::move(*m);
    cr.data = std::move(*data);
    leave();
    return cr;
  }

  Chal chal(Node& n) {
    std::optional<Meta> m;
    enter_element(n, 0, [&](Node& c) {
      if (c.tag == Tag::Meta) set_once(m, c, meta(c));
      else unexpected(c);
    });
    if (!m) missing("Meta");
    leave();
    return Chal{std::move(*m)};
  }

  Item item(Node& n, std::size_t index) {
    Item it;
    bool more = false;
    enter_element(n, index, [&](Node& c) {
      switch (c.tag) {
        case Tag::Target: set_once(it.target, c, location(c)); break;
        case Tag::Source: set_once(it.source, c, location(c)); break;
        case Tag::Meta: set_once(it.meta, c, meta(c)); break;
        case Tag::Data: set_once(it.data, c, text_of(c, true)); break;
        case Tag::MoreData: once(more, c); flag(c); it.more_data = true; break;
        default: unexpected(c);
      }
    });
    leave();
    return it;
  }

  std::uint32_t require(const std::optional<std::uint32_t>& v, const char* name) {
    if (!v) missing(name);
    return *v;
  }

  // CmdID and NoResp: the head of Alert, Add/Copy/Delete/Exec/Get/Replace, Atomic and Sequence.
  struct CommandHead {
    std::optional<std::uint32_t> cmd_id;
    bool no_resp = false;
  };
  // Takes @p c into @p head if it is CmdID or NoResp; false for any other element.
  bool command_head(CommandHead& head, Node& c) {
    if (c.tag == Tag::CmdID) {
      set_once(head.cmd_id, c, number_of<std::uint32_t>(c));
    } else if (c.tag == Tag::NoResp) {
      once(head.no_resp, c);
      flag(c);
    } else {
      return false;
    }
    return true;
  }
  // An empty ItemCommand or Container of @p kind.
  template <class C>
  static C of_kind(CommandKind kind) {
    C cmd;
    cmd.kind = kind;
    return cmd;
  }
  // Alert, Add/Copy/Delete/Exec/Get/Replace, Atomic and Sequence: enters @p n, takes CmdID and
  // NoResp into @p cmd and hands every other child to @p visit(cmd, child). @p n stays entered:
  // the caller checks what else is mandatory, then leave()s.
  template <class C, class Visit>
  C headed_command(Node& n, std::size_t index, C cmd, Visit&& visit) {
    CommandHead head;
    enter_element(n, index, [&](Node& c) {
      if (!command_head(head, c)) visit(cmd, c);
    });
    cmd.cmd_id = require(head.cmd_id, "CmdID");
    cmd.no_resp = head.no_resp;
    return cmd;
  }

  Command command(Node& n, std::size_t index) {
    if (++commands_ > limits_.max_commands) {
      enter(n, index);
      fail(errc::too_large, "more than " + std::to_string(limits_.max_commands) + " commands");
    }
    switch (n.tag) {
      case Tag::Alert: return Command{alert(n, index)};
      case Tag::Status: return Command{status(n, index)};
      case Tag::Results: return Command{results(n, index)};
      case Tag::Atomic: return Command{container(n, index, CommandKind::Atomic)};
      case Tag::Sequence: return Command{container(n, index, CommandKind::Sequence)};
      case Tag::Add: return Command{item_command(n, index, CommandKind::Add)};
      case Tag::Copy: return Command{item_command(n, index, CommandKind::Copy)};
      case Tag::Delete: return Command{item_command(n, index, CommandKind::Delete)};
      case Tag::Exec: return Command{item_command(n, index, CommandKind::Exec)};
      case Tag::Get: return Command{item_command(n, index, CommandKind::Get)};
      case Tag::Replace: return Command{item_command(n, index, CommandKind::Replace)};
      default: unexpected(n);
    }
  }

  Alert alert(Node& n, std::size_t index) {
    std::size_t items = 0;
    Alert a = headed_command(n, index, Alert{}, [&](Alert& cmd, Node& c) {
      switch (c.tag) {
        case Tag::Cred: set_once(cmd.cred, c, cred(c)); break;
        case Tag::Data: set_once(cmd.data, c, number_of<std::uint16_t>(c)); break;
        case Tag::Correlator: set_once(cmd.correlator, c, text_of(c, false)); break;
        case Tag::Item: cmd.items.push_back(item(c, ++items)); break;
        default: unexpected(c);
      }
    });
    leave();
    return a;
  }

  ItemCommand item_command(Node& n, std::size_t index, CommandKind kind) {
    std::size_t items = 0;
    ItemCommand ic = headed_command(n, index, of_kind<ItemCommand>(kind), [&](ItemCommand& cmd, Node& c) {
      switch (c.tag) {
        case Tag::Cred: set_once(cmd.cred, c, cred(c)); break;
        case Tag::Meta: set_once(cmd.meta, c, meta(c)); break;
        case Tag::Item: cmd.items.push_back(item(c, ++items)); break;
        case Tag::Lang:  // Get only
          if (kind != CommandKind::Get) unexpected(c);
          set_once(cmd.lang, c, text_of(c, false));
          break;
        case Tag::Correlator:  // Exec only
          if (kind != CommandKind::Exec) unexpected(c);
          set_once(cmd.correlator, c, text_of(c, false));
          break;
        default: unexpected(c);
      }
    });
    if (ic.items.empty()) missing("Item");
    if (kind == CommandKind::Exec && ic.items.size() > 1)
      fail(errc::invalid_value, "Exec holds exactly one Item");
    leave();
    return ic;
  }

  Status status(Node& n, std::size_t index) {
    Status st;
    std::optional<std::uint32_t> cmd_id, msg_ref, cmd_ref;
    std::optional<std::string> cmd;
    std::optional<std::uint16_t> data;
    std::size_t items = 0;
    enter_element(n, index, [&](Node& c) {
      switch (c.tag) {
        case Tag::CmdID: set_once(cmd_id, c, number_of<std::uint32_t>(c)); break;
        case Tag::MsgRef: set_once(msg_ref, c, number_of<std::uint32_t>(c)); break;
        case Tag::CmdRef: set_once(cmd_ref, c, number_of<std::uint32_t>(c)); break;
        case Tag::Cmd: set_once(cmd, c, text_of(c, false)); break;
        case Tag::TargetRef: st.target_refs.push_back(text_of(c, false)); break;
        case Tag::SourceRef: st.source_refs.push_back(text_of(c, false)); break;
        case Tag::Cred: set_once(st.cred, c, cred(c)); break;
        case Tag::Chal: set_once(st.chal, c, chal(c)); break;
        case Tag::Data: set_once(data, c, number_of<std::uint16_t>(c)); break;
        case Tag::Item: st.items.push_back(item(c, ++items)); break;
        default: unexpected(c);
      }
    });
    st.cmd_id = require(cmd_id, "CmdID");
    st.msg_ref = require(msg_ref, "MsgRef");
    st.cmd_ref = require(cmd_ref, "CmdRef");
    if (!cmd) missing("Cmd");
    st.cmd = std::move(*cmd);
    if (!data) missing("Data");
    st.data = *data;
    leave();
    return st;
  }

  Results results(Node& n, std::size_t index) {
    Results r;
    std::optional<std::uint32_t> cmd_id, cmd_ref;
    std::size_t items = 0;
    enter_element(n, index, [&](Node& c) {
      switch (c.tag) {
        case Tag::CmdID: set_once(cmd_id, c, number_of<std::uint32_t>(c)); break;
        case Tag::MsgRef: set_once(r.msg_ref, c, number_of<std::uint32_t>(c)); break;
        case Tag::CmdRef: set_once(cmd_ref, c, number_of<std::uint32_t>(c)); break;
        case Tag::Meta: set_once(r.meta, c, meta(c)); break;
        case Tag::TargetRef: set_once(r.target_ref, c, text_of(c, false)); break;
        case Tag::SourceRef: set_once(r.source_ref, c, text_of(c, false)); break;
        case Tag::Item: r.items.push_back(item(c, ++items)); break;
        default: unexpected(c);
      }
    });
    r.cmd_id = require(cmd_id, "CmdID");
    r.cmd_ref = require(cmd_ref, "CmdRef");
    if (r.items.empty()) missing("Item");
    leave();
    return r;
  }

  // Atomic: (CmdID, NoResp?, Meta?, (Add|Delete|Copy|Atomic|Replace|Sequence|Alert)+)
  // Sequence: the same plus Exec and Get (DM_RepPro 1.2 §6.6.4, §6.6.13).
  Container container(Node& n, std::size_t index, CommandKind kind) {
    std::array<std::size_t, 16> counts{};
    Container ct = headed_command(n, index, of_kind<Container>(kind), [&](Container& cmd, Node& c) {
      switch (c.tag) {
        case Tag::Meta: set_once(cmd.meta, c, meta(c)); break;
        case Tag::Exec:
        case Tag::Get:
          if (kind != CommandKind::Sequence) unexpected(c);
          [[fallthrough]];
        case Tag::Add:
        case Tag::Alert:
        case Tag::Atomic:
        case Tag::Copy:
        case Tag::Delete:
        case Tag::Replace:
        case Tag::Sequence:
          cmd.commands.push_back(command(c, ++counts[static_cast<std::size_t>(c.tag) % counts.size()]));
          break;
        default: unexpected(c);
      }
    });
    if (ct.commands.empty()) fail(errc::missing_element, "a container holds at least one command");
    leave();
    return ct;
  }

  SyncHdr sync_hdr(Node& n) {
    SyncHdr h;
    std::optional<std::string> ver_dtd, ver_proto, session_id;
    std::optional<std::uint32_t> msg_id;
    std::optional<Location> target, source;
    bool no_resp = false;
    enter_element(n, 0, [&](Node& c) {
      switch (c.tag) {
        case Tag::VerDTD: set_once(ver_dtd, c, text_of(c, false)); break;
        case Tag::VerProto: set_once(ver_proto, c, text_of(c, false)); break;
        case Tag::SessionID: set_once(session_id, c, text_of(c, false)); break;
        case Tag::MsgID: set_once(msg_id, c, number_of<std::uint32_t>(c)); break;
        case Tag::Target: set_once(target, c, location(c)); break;
        case Tag::Source: set_once(source, c, location(c)); break;
        case Tag::RespURI: set_once(h.resp_uri, c, text_of(c, false)); break;
        case Tag::NoResp: once(no_resp, c); flag(c); break;
        case Tag::Cred: set_once(h.cred, c, cred(c)); break;
        case Tag::Meta: set_once(h.meta, c, meta(c)); break;
        default: unexpected(c);
      }
    });
    if (!ver_dtd) missing("VerDTD");
    if (!ver_proto) missing("VerProto");
    if (!session_id) missing("SessionID");
    if (!msg_id) missing("MsgID");
    if (!target) missing("Target");
    if (!source) missing("Source");
    h.ver_dtd = std::move(*ver_dtd);
    h.ver_proto = std::move(*ver_proto);
    h.session_id = std::move(*session_id);
    h.msg_id = *msg_id;
    h.target = std::move(*target);
    h.source = std::move(*source);
    h.no_resp = no_resp;
    leave();
    return h;
  }

  void sync_body(Node& n, Message& m) {
    bool final = false;
    std::array<std::size_t, 64> counts{};
    enter_element(n, 0, [&](Node& c) {
      switch (c.tag) {
        case Tag::Add:
        case Tag::Alert:
        case Tag::Atomic:
        case Tag::Copy:
        case Tag::Delete:
        case Tag::Exec:
        case Tag::Get:
        case Tag::Replace:
        case Tag::Results:
        case Tag::Sequence:
        case Tag::Status:
          if (final) {
            enter(c, 0);
            fail(errc::invalid_value, "command after <Final/>");
          }
          m.body.push_back(command(c, ++counts[static_cast<std::size_t>(c.tag) % counts.size()]));
          break;
        case Tag::Final: once(final, c); flag(c); break;
        default: unexpected(c);
      }
    });
    m.final = final;
    leave();
  }
};

}  // namespace

Result<Message> build_message(Node& root, const DecodeLimits& limits, DecodeError* error) {
  Walker w(limits);
  try {
    return w.message(root);
  } catch (Failure& f) {
    return decode_fail(error, f.code, std::move(f.what), w.where());
  }
}

}  // namespace m2mdm::syncml::detail
