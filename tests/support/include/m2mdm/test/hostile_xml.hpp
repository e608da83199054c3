// The XML attacks every XML parser of the tree must refuse: XXE (general and parameter
// entities), "billion laughs", an external DTD that would declare an entity, undeclared entity
// references, the other DTD declarations, deep nesting. Shared by the reader's own tests
// (tests/syncml/xml_reader_test.cpp) and the tests that drive each parser through its public
// entry point (tests/bootstrap/xml_hardening_test.cpp, tests/mo/ddf_hardening_test.cpp).
// Header-only, GoogleTest.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace m2mdm::test {

/// What the secret file holds: no parser's output or message may ever contain it.
inline constexpr std::string_view kSecret = "m2mdm-secret-7f3a9c";

/// A file holding kSecret (the target the XXE attacks name), removed at the end of the test.
class SecretFile {
 public:
  SecretFile()
      : path_(std::filesystem::temp_directory_path() / ("m2mdm_xml_secret_" + std::to_string(::getpid()))) {
    std::ofstream(path_) << kSecret;
  }
  ~SecretFile() { std::filesystem::remove(path_); }
  SecretFile(const SecretFile&) = delete;
  SecretFile& operator=(const SecretFile&) = delete;
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

/// Builds a document of one vocabulary around a payload: @p payload goes where that vocabulary
/// takes free text or an attribute value (so "plain" makes a document the parser accepts).
using Wrap = std::function<std::string(std::string_view payload)>;

struct Hostile {
  std::string name;      ///< what the attack is, for test messages
  std::string document;  ///< the whole document
};

/// A document whose root is @p root: optional DOCTYPE @p doctype, then wrap(payload).
inline std::string with_doctype(std::string_view doctype, const Wrap& wrap, std::string_view payload) {
  std::string d = "<?xml version=\"1.0\"?>\n";
  d += doctype;
  d += "\n";
  std::string body = wrap(payload);
  if (body.rfind("<?xml", 0) == 0) body.erase(0, body.find("?>") + 2);  // keep one XML declaration
  return d + body;
}

/// The attacks, for a vocabulary whose root element is @p root. @p secret_file names a file
/// whose content must never appear anywhere (the XXE targets point at it).
inline std::vector<Hostile> hostile_documents(std::string_view root, const Wrap& wrap,
                                              const std::string& secret_file) {
  const std::string r(root);
  std::string laughs = "<!DOCTYPE " + r + " [\n<!ENTITY lol0 \"lol\">\n";
  for (int i = 1; i < 10; ++i) {
    laughs += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k) laughs += "&lol" + std::to_string(i - 1) + ";";
    laughs += "\">\n";
  }
  laughs += "]>";
  return {
      {"XXE general entity (SYSTEM file)",
       with_doctype("<!DOCTYPE " + r + " [<!ENTITY xxe SYSTEM \"file://" + secret_file + "\">]>", wrap, "&xxe;")},
      {"XXE parameter entity",
       with_doctype("<!DOCTYPE " + r + " [<!ENTITY % p SYSTEM \"file://" + secret_file + "\"> %p;]>", wrap, "x")},
      {"XXE over the network (NONET)",
       with_doctype("<!DOCTYPE " + r + " [<!ENTITY net SYSTEM \"http://127.0.0.1:9/x\">]>", wrap, "&net;")},
      {"billion laughs", with_doctype(laughs, wrap, "&lol9;")},
      {"internal entity", with_doctype("<!DOCTYPE " + r + " [<!ENTITY e \"x\">]>", wrap, "&e;")},
      {"external DTD declaring the entity used",
       with_doctype("<!DOCTYPE " + r + " SYSTEM \"file://" + secret_file + "\">", wrap, "&e;")},
      {"external DTD over the network",
       with_doctype("<!DOCTYPE " + r + " PUBLIC \"-//X//Y//EN\" \"http://127.0.0.1:9/x.dtd\">", wrap, "&e;")},
      {"undeclared entity reference", with_doctype("", wrap, "&undeclared;")},
      {"ELEMENT declaration", with_doctype("<!DOCTYPE " + r + " [<!ELEMENT " + r + " ANY>]>", wrap, "plain")},
      {"ATTLIST declaration (default attribute)",
       with_doctype("<!DOCTYPE " + r + " [<!ATTLIST " + r + " injected CDATA \"x\">]>", wrap, "plain")},
      {"NOTATION declaration",
       with_doctype("<!DOCTYPE " + r + " [<!NOTATION n SYSTEM \"file://" + secret_file + "\">]>", wrap, "plain")},
      {"unparsed entity",
       with_doctype("<!DOCTYPE " + r + " [<!NOTATION n SYSTEM \"x\"><!ENTITY u SYSTEM \"file://" + secret_file +
                        "\" NDATA n>]>",
                    wrap, "plain")},
      {"comment in the internal subset", with_doctype("<!DOCTYPE " + r + " [<!-- nothing -->]>", wrap, "plain")},
  };
}

/// @p depth elements nested in one another.
inline std::string nested(std::string_view element, std::size_t depth) {
  std::string d;
  for (std::size_t i = 0; i < depth; ++i) d += "<" + std::string(element) + ">";
  for (std::size_t i = 0; i < depth; ++i) d += "</" + std::string(element) + ">";
  return d;
}

/// Every attack of hostile_documents(@p root, @p wrap) through @p parse (the document -> a
/// Result): each one refused with @p expected, and nothing written to stderr while it parses.
/// @p parse may check more of its own (e.g. that no error text names the secret).
/// First the control: @p parse accepts `wrap("plain")`, the same document with a harmless
/// payload (else every refusal below would prove nothing); its result is returned for the
/// caller's checks of what was read.
template <typename Parse>
auto expect_every_attack_refused(std::string_view root, const Wrap& wrap, Parse parse, std::error_code expected) {
  auto plain = parse(wrap("plain"));
  EXPECT_TRUE(plain) << "the harmless document is refused: " << plain.error().message();
  SecretFile secret;
  for (const auto& h : hostile_documents(root, wrap, secret.path())) {
    SCOPED_TRACE(h.name);
    ::testing::internal::CaptureStderr();
    auto r = parse(h.document);
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
    EXPECT_FALSE(r) << h.document;
    if (!r) {
      EXPECT_EQ(r.error(), expected);
    }
  }
  return plain;
}

}  // namespace m2mdm::test
