// Canonical XML output. Choices (docs/syncml.md):
//  - starts with <?xml version="1.0" encoding="UTF-8"?>, then <SyncML xmlns="SYNCML:SYNCML1.2">;
//  - elements in the order of the SyncML RepPro 1.2 DTD, no attributes other than xmlns;
//  - every MetInf element carries xmlns="syncml:metinf" (as in the DM 1.2 spec examples);
//  - text escaped: & < > as entities, CR as &#13; (so that it survives XML line-end
//    normalisation); empty elements as <X/>;
//  - compact (no whitespace between elements) unless pretty, which indents by two spaces and
//    never adds whitespace inside a text element.
// Text that is not valid UTF-8 or holds characters XML 1.0 cannot carry (NUL, C0 controls...)
// cannot be written: encode_xml fails with encode_failed instead of emitting invalid XML (binary
// Item Data travels in XML only as base64 text with Meta Format b64).
#include "codec_internal.hpp"
#include "m2mdm/syncml/xml_text.hpp"

#include <string>

namespace m2mdm::syncml {
namespace {

using detail::Tag;
using detail::TokenSink;

class XmlSink final : public TokenSink {
 public:
  explicit XmlSink(bool pretty) : pretty_(pretty) {
    out_.reserve(1024);
    out_ += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    if (pretty_) out_ += '\n';
  }

  void open(Tag t) override {
    tag_line(t, Form::start);
    ++depth_;
  }
  void close(Tag t) override {
    --depth_;
    tag_line(t, Form::end);
  }
  void empty(Tag t) override { tag_line(t, Form::empty); }
  void leaf(Tag t, std::string_view value, Content) override {
    if (!detail::xml_safe_text(value)) {
      if (!failed_) failed_ = true;
      return;
    }
    if (value.empty()) return empty(t);
    indent();
    start_tag(t, false);
    append_xml_text(out_, value);
    end_tag(t);
    if (pretty_) out_ += '\n';
  }

  bool failed() const { return failed_; }
  std::string& out() { return out_; }

 private:
  bool pretty_;
  bool failed_ = false;
  int depth_ = 0;
  std::string out_;

  void indent() {
    if (pretty_) out_.append(static_cast<std::size_t>(depth_) * 2, ' ');
  }
  enum class Form { start, end, empty };
  // One tag on a line of its own (when pretty).
  void tag_line(Tag t, Form form) {
    indent();
    if (form == Form::end) end_tag(t);
    else start_tag(t, form == Form::empty);
    if (pretty_) out_ += '\n';
  }
  void end_tag(Tag t) {
    out_ += "</";
    out_ += detail::tag_info(t).name;
    out_ += '>';
  }
  void start_tag(Tag t, bool self_close) {
    const auto& info = detail::tag_info(t);
    out_ += '<';
    out_ += info.name;
    if (t == Tag::SyncML) out_ += " xmlns=\"SYNCML:SYNCML1.2\"";
    else if (info.page == 1) out_ += " xmlns=\"syncml:metinf\"";
    out_ += self_close ? "/>" : ">";
  }
};

}  // namespace

Result<Bytes> encode_xml(const Message& message, bool pretty) {
  XmlSink sink(pretty);
  detail::serialize(message, sink);
  if (sink.failed()) return fail(make_error_code(errc::encode_failed));
  const std::string& s = sink.out();
  return Bytes(s.begin(), s.end());
}

}  // namespace m2mdm::syncml
