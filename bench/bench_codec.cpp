// SyncML codec benchmarks: decode/encode of representative DM messages in XML and WBXML, and
// libwbxml's own WBXML→XML conversion (wbxml_conv_wbxml2xml_run) of the same WBXML bytes, in
// the same binary. At the end, the ratio "our WBXML decode throughput / libwbxml conversion
// throughput" is printed per message (goal ≥ 1.0). See docs/benchmarks.md.
#include "m2mdm/syncml/codec.hpp"
#include "m2mdm/test/syncml_samples.hpp"

#include <benchmark/benchmark.h>
#include <wbxml.h>

#include <cstdio>
#include <map>
#include <random>
#include <string>

extern "C" void wbxml_free(void* ptr);  // exported by libwbxml2, not in Debian's public headers

namespace {

using namespace m2mdm;
using namespace m2mdm::syncml;

Item source_item(std::string uri, std::string data) {
  Item it;
  it.source = Location{std::move(uri), std::nullopt};
  it.meta = Meta{};
  it.meta->format = "chr";
  it.meta->type = "text/plain";
  it.data = std::move(data);
  return it;
}

// Package 1: Alert 1201 + Replace of ./DevInfo (DM_Protocol 1.2 §2.6.1.1 shape) + Final.
Message package1() {
  Message m = test::sample_message(1);
  test::start_package1(m);
  ItemCommand rep;
  rep.kind = CommandKind::Replace;
  rep.cmd_id = 2;
  rep.items = {source_item("./DevInfo/DevId", "IMEI:493005100592800"), source_item("./DevInfo/Man", "Acme M2M"),
               source_item("./DevInfo/Mod", "MX-1"), source_item("./DevInfo/DmV", "1.2"),
               source_item("./DevInfo/Lang", "en-US")};
  m.body.push_back(Command{rep});
  m.final = true;
  return m;
}

// A Status for a Get and its Results with 10 items.
Message results10() {
  Message m = test::sample_message(3);
  Status st;
  st.cmd_id = 1;
  st.msg_ref = 2;
  st.cmd_ref = 4;
  st.cmd = "Get";
  st.target_refs = {"./DevDetail"};
  st.data = 200;
  m.body.push_back(Command{st});
  Results r;
  r.cmd_id = 2;
  r.msg_ref = 2;
  r.cmd_ref = 4;
  for (int i = 0; i < 10; ++i)
    r.items.push_back(source_item("./DevDetail/Ext/Param" + std::to_string(i), "value-" + std::to_string(i * 7919)));
  m.body.push_back(Command{r});
  m.final = true;
  return m;
}

// A Replace carrying 64 KB of base64 text (48 KiB of random bytes).
Message replace64k() {
  Message m = test::sample_message(4);
  std::mt19937 rng(42);
  Bytes raw(48 * 1024);
  for (auto& b : raw) b = static_cast<std::uint8_t>(rng());
  m.body.push_back(
      Command{test::replace_one(1, "./M2MSIM/MCIM/1/Data", "b64", base64_encode(raw), "application/octet-stream")});
  m.final = true;
  return m;
}

struct Fixture {
  Message model;
  Bytes xml;
  Bytes wbxml;
};

const std::map<std::string, Fixture>& fixtures() {
  static const std::map<std::string, Fixture> f = [] {
    std::map<std::string, Fixture> out;
    for (auto& [name, m] : {std::pair{std::string("package1"), package1()}, {"results10", results10()},
                            {"replace64k", replace64k()}})
      out[name] = Fixture{m, encode_xml(m).value(), encode_wbxml(m).value()};
    return out;
  }();
  return f;
}

// Runs @p op once per iteration, counting @p bytes processed per iteration.
template <typename Op>
void each_iteration(benchmark::State& st, std::size_t bytes, Op op) {
  for (auto _ : st) benchmark::DoNotOptimize(op());
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * bytes));
}

// Registers the benchmark @p name: @p op once per iteration, counting @p bytes per iteration.
template <typename Op>
void register_codec_op(const std::string& name, std::size_t bytes, Op op) {
  benchmark::RegisterBenchmark(name.c_str(), [bytes, op](benchmark::State& st) { each_iteration(st, bytes, op); });
}

// Our codec's four directions on message @p n: DecodeXml/<n>, EncodeXml/<n>, DecodeWbxml/<n>,
// EncodeWbxml/<n>.
void register_codec_benchmarks(const std::string& n) {
  const Fixture& fx = fixtures().at(n);
  register_codec_op("DecodeXml/" + n, fx.xml.size(), [&fx] { return decode_xml(fx.xml); });
  register_codec_op("EncodeXml/" + n, fx.xml.size(), [&fx] { return encode_xml(fx.model); });
  register_codec_op("DecodeWbxml/" + n, fx.wbxml.size(), [&fx] { return decode_wbxml(fx.wbxml); });
  register_codec_op("EncodeWbxml/" + n, fx.wbxml.size(), [&fx] { return encode_wbxml(fx.model); });
}

// libwbxml's own WBXML→XML conversion of the same bytes (compact XML, as the conv API is used).
void BM_LibwbxmlWbxml2Xml(benchmark::State& st, std::string name) {
  const auto& fx = fixtures().at(name);
  Bytes input = fx.wbxml;
  for (auto _ : st) {
    WBXMLConvWBXML2XML* conv = nullptr;
    if (wbxml_conv_wbxml2xml_create(&conv) != WBXML_OK) {
      st.SkipWithError("wbxml_conv_wbxml2xml_create failed");
      break;
    }
    wbxml_conv_wbxml2xml_set_gen_type(conv, WBXML_GEN_XML_COMPACT);
    WB_UTINY* xml = nullptr;
    WB_ULONG xml_len = 0;
    const WBXMLError rc = wbxml_conv_wbxml2xml_run(conv, input.data(), static_cast<WB_ULONG>(input.size()), &xml, &xml_len);
    wbxml_conv_wbxml2xml_destroy(conv);
    if (rc != WBXML_OK) {
      st.SkipWithError("wbxml_conv_wbxml2xml_run failed");
      break;
    }
    benchmark::DoNotOptimize(xml);
    wbxml_free(xml);
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations() * fx.wbxml.size()));
}

// Collects real time per benchmark so that main() can print the ratios.
class Reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs)
      if (r.run_type == Run::RT_Iteration && !r.error_occurred) {
        real_[r.benchmark_name()] = r.GetAdjustedRealTime();
        cpu_[r.benchmark_name()] = r.GetAdjustedCPUTime();
      }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> real_, cpu_;
};

}  // namespace

int main(int argc, char** argv) {
  for (const char* name : {"package1", "results10", "replace64k"}) {
    const std::string n(name);
    register_codec_benchmarks(n);
    benchmark::RegisterBenchmark(("LibwbxmlWbxml2Xml/" + n).c_str(), BM_LibwbxmlWbxml2Xml, n);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  for (const auto& [n, fx] : fixtures())
    std::printf("message %-10s XML %6zu bytes, WBXML %6zu bytes\n", n.c_str(), fx.xml.size(), fx.wbxml.size());
  Reporter rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  benchmark::Shutdown();
  // Ratio = their time / our time = our throughput / theirs, on CPU time (robust on a loaded
  // machine) and on real time.
  for (const char* name : {"package1", "results10", "replace64k"}) {
    const std::string n(name);
    const std::string ours = "DecodeWbxml/" + n, theirs = "LibwbxmlWbxml2Xml/" + n;
    if (!rep.cpu_.count(ours) || !rep.cpu_.count(theirs) || rep.cpu_[ours] <= 0 || rep.real_[ours] <= 0) continue;
    std::printf("ratio %-10s our WBXML decode / libwbxml WBXML->XML conversion throughput = %.2f (CPU time), %.2f (real time)\n",
                name, rep.cpu_[theirs] / rep.cpu_[ours], rep.real_[theirs] / rep.real_[ours]);
  }
  return 0;
}
