// m2mdm syncml decode|encode
//   decode FILE              XML or WBXML (detected) -> canonical XML, indented, on stdout
//   encode --to wbxml|xml FILE  XML or WBXML -> the chosen encoding on stdout (binary-safe)
// Bad input: exit 1 with one line on stderr: "m2mdm: FILE: <reason>: <detail> (at <where>)".
#include "cli_support.hpp"

#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/syncml/error.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace m2mdm::cli {
namespace {

syncml::Message decode_or_fail(const std::string& path) {
  const auto bytes = read_file_or_fail(path);
  syncml::DecodeError err;
  auto m = syncml::decode(bytes, {}, &err);
  if (!m) {
    std::string line = path + ": " + m.error().message();
    if (!err.what.empty()) line += ": " + err.what;
    if (!err.where.empty()) line += " (at " + err.where + ")";
    fail(line);
  }
  return std::move(*m);
}

}  // namespace

void add_syncml_codec_commands(CLI::App& syncml) {
  auto file = std::make_shared<std::string>();
  auto* dec = syncml.add_subcommand("decode", "Decode an XML or WBXML DM message (detected) and print canonical XML");
  dec->add_option("FILE", *file, "message file ('-' = stdin)")->required();
  dec->callback([file] {
    const auto m = decode_or_fail(*file);
    auto xml = syncml::encode_xml(m, true);
    if (!xml) fail(*file + ": cannot print as XML: " + xml.error().message() +
                   " (binary Data; use 'encode --to wbxml')");
    write_file_or_fail("-", *xml);
  });

  auto in = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  auto* enc = syncml.add_subcommand("encode", "Re-encode a DM message (XML or WBXML) as WBXML or canonical XML on stdout");
  enc->add_option("--to", *to, "output encoding")->required()->check(CLI::IsMember({"wbxml", "xml"}));
  enc->add_option("FILE", *in, "message file ('-' = stdin)")->required();
  enc->callback([in, to] {
    const auto m = decode_or_fail(*in);
    const auto target = *to == "wbxml" ? syncml::Encoding::Wbxml : syncml::Encoding::Xml;
    auto out = syncml::encode(m, target);
    if (!out) fail(*in + ": cannot encode as " + *to + ": " + out.error().message());
    write_file_or_fail("-", *out);
  });
}

}  // namespace m2mdm::cli
