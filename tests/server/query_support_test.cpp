// The tables and field lines of the daily-work commands (server/cli/query_support.hpp,
// text_table.hpp): columns aligned on the widest cell, UTC times, a job's result in one cell.
#include "query_support.hpp"
#include "text_table.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace m2mdm::cli {
namespace {
using json = nlohmann::json;

TEST(TextTable, AlignsColumnsOnTheWidestCellAndLeavesNoTrailingBlanks) {
  TextTable t({"ID", "NAME", "X"});
  t.add({"1", "a-long-name", ""});
  t.add({"1234", "b"});  // a missing cell prints empty
  std::ostringstream out;
  t.print(out);
  EXPECT_EQ(out.str(),
            "ID    NAME         X\n"
            "1     a-long-name\n"
            "1234  b\n");
  EXPECT_EQ(t.rows(), 2u);
}

TEST(TextTable, PrintsUnixSecondsAsUtcAndNothingAsADash) {
  EXPECT_EQ(utc_time(0), "-");
  EXPECT_EQ(utc_time(-5), "-");
  EXPECT_EQ(utc_time(1'700'000'000), "2023-11-14T22:13:20Z");
}

TEST(QuerySupport, AJobRowShowsItsResultCodeAndMessage) {
  const json jobs = json::parse(R"([
    {"id": 7, "kind": "install", "state": "succeeded", "attempts": 1, "correlator": "c-1", "updated": 1700000000,
     "result": {"code": 1200, "message": "installed", "at": 1700000000}},
    {"id": 8, "kind": "delete", "state": "queued", "attempts": 0, "correlator": "", "updated": 0}])");
  std::ostringstream out;
  jobs_table(jobs).print(out);
  EXPECT_EQ(out.str(),
            "ID  KIND     STATE      ATTEMPTS  RESULT          CORRELATOR  UPDATED\n"
            "7   install  succeeded  1         1200 installed  c-1         2023-11-14T22:13:20Z\n"
            "8   delete   queued     0         -               -           -\n");
}

TEST(QuerySupport, AChangeRowShowsOnlyWhatTheCallersRoleWasGiven) {
  // The new SHO's view: no fromSho (docs/operator-change.md), a result code.
  const json changes = json::parse(R"([{"id": 3, "devId": "IMEI:1", "variant": "A", "state": "completed",
    "toSho": 2, "resultCode": 1200, "discarded": true, "acknowledged": false, "updated": 1700000000}])");
  std::ostringstream out;
  changes_table(changes).print(out);
  EXPECT_EQ(out.str(),
            "ID  DEVID   VARIANT  STATE      FROM  TO  RESULT  DISCARDED  ACKED  UPDATED\n"
            "3   IMEI:1  A        completed  -     2   1200    yes        no     2023-11-14T22:13:20Z\n");
}

TEST(QuerySupport, FieldsPrintNestedObjectsWithDottedKeysAndTimesAsUtc) {
  const json device = json::parse(
      R"({"devId": "IMEI:1", "hasPfc": true, "lastSeen": 0, "created": 1700000000, "shoId": 4, "secMethod": "",
          "pfcValidation": {"verdict": "trusted", "at": 1700000000}})");
  std::ostringstream out;
  print_fields(out, device);
  const std::string s = out.str();
  EXPECT_NE(s.find("devId: IMEI:1\n"), std::string::npos);
  EXPECT_NE(s.find("hasPfc: yes\n"), std::string::npos);
  EXPECT_NE(s.find("lastSeen: -\n"), std::string::npos);
  EXPECT_NE(s.find("created: 2023-11-14T22:13:20Z\n"), std::string::npos);
  EXPECT_NE(s.find("shoId: 4\n"), std::string::npos);
  EXPECT_NE(s.find("secMethod: \n"), std::string::npos);
  EXPECT_NE(s.find("pfcValidation.verdict: trusted\n"), std::string::npos);
  EXPECT_NE(s.find("pfcValidation.at: 2023-11-14T22:13:20Z\n"), std::string::npos);
}

TEST(QuerySupport, TextAndNumberCellsOfAbsentMembersAreDashes) {
  const json j = json::parse(R"({"s": "", "n": "7", "i": 9})");
  EXPECT_EQ(text_of(j, "s"), "-");
  EXPECT_EQ(text_of(j, "missing"), "-");
  EXPECT_EQ(number_of(j, "n"), "-");
  EXPECT_EQ(number_of(j, "i"), "9");
}

}  // namespace
}  // namespace m2mdm::cli
