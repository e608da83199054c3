// The report of a `m2mdm conformance` run: a text summary and JUnit XML (one testcase per case,
// classname = the spec clause it checks).
#pragma once

#include "remote_runner.hpp"

#include <string>
#include <vector>

namespace m2mdm::cli {

/// One line per case: outcome, id, clause, time; failures and reasons indented below; totals.
std::string text_summary(const std::vector<CaseResult>& results, double seconds);

/// JUnit XML (testsuite "m2mdm conformance"): failed cases have <failure>, cases not run <skipped>.
std::string junit_xml(const std::vector<CaseResult>& results, double seconds);

/// The progress line of one case, e.g. "[ 3/36] PASS  atomic_rollback_216_507  DM_RepPro 1.2 §6.6.4  (0.4 s)".
std::string progress_line(const CaseResult& r, std::size_t index, std::size_t total);

}  // namespace m2mdm::cli
