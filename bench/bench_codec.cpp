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

Message header(std::uint32_t msg_id) {
  Message m;
  m.hdr.session_id = "4E2";
  m.hdr.msg_id = msg_id;
  m.hdr.target.loc_uri = "https://dm.example.net:8443/dm";
  m.hdr.source.loc_uri = "IMEI:493005100592800";
  return m;
}

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
  Message m = header(1);
  m.hdr.cred = Cred{};
  m.hdr.cred->meta.type = "syncml:auth-md5";
  m.hdr.cred->meta.format = "b64";
  m.hdr.cred->data = "Zz6EivR3yeaaENcRN6lpAQ==";
  m.hdr.meta = Meta{};
  m.hdr.meta->max_msg_size = 16384;
  Alert a;
  a.cmd_id = 1;
  a.data = 1201;
  m.body.push_back(Command{a});
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
  Message m = header(3);
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
  Message m = header(4);
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

void BM_DecodeXml(benchmark::State& st, std::string name) {
  const auto& fx = fixtures().at(name);
  each_iteration(st, fx.xml.size(), [&] { return decode_xml(fx.xml); });
}
void BM_EncodeXml(benchmark::State& st, std::string name) {
  const auto& fx = fixtures().at(name);
  each_iteration(st, fx.xml.size(), [&] { return encode_xml(fx.model); });
}
void BM_DecodeWbxml(benchmark::State& st, std::string name) {
  const auto& fx = fixtures().at(name);
  each_iteration(st, fx.wbxml.size(), [&] { return decode_wbxml(fx.wbxml); });
}
void BM_EncodeWbxml(benchmark::State& st, std::string name) {
  const auto& fx = fixtures().at(name);
  each_iteration(st, fx.wbxml.size(), [&] { return encode_wbxml(fx.model); });
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
    benchmark::RegisterBenchmark(("DecodeXml/" + n).c_str(), BM_DecodeXml, n);
    benchmark::RegisterBenchmark(("EncodeXml/" + n).c_str(), BM_EncodeXml, n);
    benchmark::RegisterBenchmark(("DecodeWbxml/" + n).c_str(), BM_DecodeWbxml, n);
    benchmark::RegisterBenchmark(("EncodeWbxml/" + n).c_str(), BM_EncodeWbxml, n);
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
