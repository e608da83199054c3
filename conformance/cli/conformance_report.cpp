// Text summary and JUnit XML of a `m2mdm conformance` run.
#include "conformance_report.hpp"

#include <spdlog/fmt/fmt.h>

namespace m2mdm::cli {
namespace {

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::passed: return "PASS";
    case Outcome::failed: return "FAIL";
    case Outcome::not_run: return "SKIP";
  }
  return "?";
}

std::string xml_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

struct Totals {
  std::size_t passed = 0, failed = 0, not_run = 0;
};
Totals totals(const std::vector<CaseResult>& results) {
  Totals t;
  for (const auto& r : results) {
    if (r.outcome == Outcome::passed) ++t.passed;
    if (r.outcome == Outcome::failed) ++t.failed;
    if (r.outcome == Outcome::not_run) ++t.not_run;
  }
  return t;
}

}  // namespace

std::string progress_line(const CaseResult& r, std::size_t index, std::size_t total) {
  std::string line = fmt::format("[{:>2}/{}] {}  {}  {}", index, total, outcome_name(r.outcome), r.plan.id,
                                 r.plan.clause);
  if (r.outcome == Outcome::not_run) return line + "  (not run: " + r.plan.not_run_reason + ")";
  line += fmt::format("  ({} sessions, {:.2f} s)", r.plan.sessions.size(), r.seconds);
  for (const auto& f : r.failures) line += "\n      " + f;
  return line;
}

std::string text_summary(const std::vector<CaseResult>& results, double seconds) {
  std::string out = "m2mdm conformance: client vectors against the device under test\n\n";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    out += progress_line(r, i + 1, results.size()) + "\n";
    out += "      rule: " + r.plan.rule + "\n";
    if (!r.plan.not_on_wire.empty()) out += "      not checked on the wire: " + joined(r.plan.not_on_wire, ", ") + "\n";
  }
  const auto t = totals(results);
  out += fmt::format("\n{} passed, {} failed, {} not run, of {} cases in {:.1f} s\n", t.passed, t.failed, t.not_run,
                     results.size(), seconds);
  return out;
}

std::string junit_xml(const std::vector<CaseResult>& results, double seconds) {
  const auto t = totals(results);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3f}\">\n", results.size(),
                     t.failed, t.not_run, seconds);
  out += fmt::format("  <testsuite name=\"m2mdm conformance\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" "
                     "time=\"{:.3f}\">\n",
                     results.size(), t.failed, t.not_run, seconds);
  for (const auto& r : results) {
    out += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\">\n", xml_text(r.plan.clause),
                       xml_text(r.plan.id), r.seconds);
    if (r.outcome == Outcome::failed)
      out += "      <failure message=\"" + xml_text(r.failures.front()) + "\">" + xml_text(joined(r.failures, "\n")) +
             "</failure>\n";
    if (r.outcome == Outcome::not_run) out += "      <skipped message=\"" + xml_text(r.plan.not_run_reason) + "\"/>\n";
    std::string props = "rule: " + r.plan.rule;
    if (!r.plan.not_on_wire.empty()) props += "\nnot checked on the wire: " + joined(r.plan.not_on_wire, ", ");
    out += "      <system-out>" + xml_text(props) + "</system-out>\n";
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace m2mdm::cli
