// m2mdm aka milenage | vector | auts: an operator's debugging aid for Milenage / UMTS AKA
// (TS 35.206, TS 33.102 §6.3). Output is one `name: hex` line per value, lower-case hex.
#include "cli_support.hpp"

#include "m2mdm/mo/aka.hpp"
#include "m2mdm/mo/milenage.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <string>

namespace m2mdm::cli {
namespace {

constexpr int kBadInput = 2;  // bad hex, wrong lengths, conflicting options
constexpr int kAuthFailed = 1;  // a MAC did not verify

struct KeyOptions {
  std::string k, op, opc;
};

void add_key_options(CLI::App* cmd, KeyOptions& o) {
  cmd->add_option("--k", o.k, "subscriber key K (32 hex digits)")->required();
  cmd->add_option("--op", o.op, "operator variant OP (32 hex digits); exactly one of --op / --opc");
  cmd->add_option("--opc", o.opc, "OPc (32 hex digits); exactly one of --op / --opc");
}

Bytes hex_arg(const std::string& name, const std::string& value, std::size_t size) {
  auto b = hex_decode(value);
  if (!b) fail(name + ": not hex", kBadInput);
  if (b->size() != size)
    fail(name + ": expected " + std::to_string(size * 2) + " hex digits, got " + std::to_string(value.size()),
         kBadInput);
  return std::move(*b);
}

std::uint64_t sqn_arg(const std::string& value) {
  const Bytes b = hex_arg("--sqn", value, mo::kSqnSize);
  return mo::sqn_from_bytes(b);
}

/// K of the key options, once exactly one of --op / --opc is known to be given.
Bytes checked_k(const KeyOptions& o) {
  if (o.op.empty() == o.opc.empty()) fail("give exactly one of --op and --opc", kBadInput);
  return hex_arg("--k", o.k, mo::kMilenageKeySize);
}

/// Builds the Milenage instance; prints `OPc:` first when OP was given.
mo::Milenage milenage_from(const KeyOptions& o, bool print_opc) {
  const Bytes k = checked_k(o);
  if (!o.op.empty()) {
    const Bytes op = hex_arg("--op", o.op, mo::kMilenageKeySize);
    auto m = mo::Milenage::create_from_op(k, op);
    if (!m) fail("milenage: " + m.error().message());
    if (print_opc) std::cout << "OPc: " << hex_encode(m->opc().view()) << '\n';
    return std::move(*m);
  }
  const Bytes opc = hex_arg("--opc", o.opc, mo::kMilenageKeySize);
  auto m = mo::Milenage::create(k, opc);
  if (!m) fail("milenage: " + m.error().message());
  return std::move(*m);
}

template <class T>
std::string hx(const T& a) {
  return hex_encode(ByteView(a.data(), a.size()));
}

struct MilenageArgs {
  KeyOptions keys;
  std::string rand, sqn, amf;
};

void run_milenage(const MilenageArgs& a) {
  // Validate everything before printing anything.
  checked_k(a.keys);
  const Bytes rand = hex_arg("--rand", a.rand, mo::kRandSize);
  const Bytes sqn = hex_arg("--sqn", a.sqn, mo::kSqnSize);
  const Bytes amf = hex_arg("--amf", a.amf, mo::kAmfSize);
  if (!a.keys.op.empty()) hex_arg("--op", a.keys.op, mo::kMilenageKeySize);
  if (!a.keys.opc.empty()) hex_arg("--opc", a.keys.opc, mo::kMilenageKeySize);

  const auto m = milenage_from(a.keys, true);
  auto f1 = m.f1(rand, sqn, amf);
  auto f = m.f2345(rand);
  auto ak_star = m.f5_star(rand);
  if (!f1 || !f || !ak_star) fail("milenage: computation failed");
  std::cout << "MAC-A: " << hx(f1->mac_a) << '\n'
            << "MAC-S: " << hx(f1->mac_s) << '\n'
            << "RES: " << hx(f->res.bytes) << '\n'
            << "CK: " << hx(f->ck.bytes) << '\n'
            << "IK: " << hx(f->ik.bytes) << '\n'
            << "AK: " << hx(f->ak.bytes) << '\n'
            << "AK*: " << hx(ak_star->bytes) << '\n'
            << std::flush;
}

using VectorArgs = MilenageArgs;  // the same options; --rand is optional here

void run_vector(const VectorArgs& a) {
  checked_k(a.keys);
  const std::uint64_t sqn = sqn_arg(a.sqn);
  const Bytes amf = hex_arg("--amf", a.amf, mo::kAmfSize);
  Bytes rand;
  if (!a.rand.empty()) {
    rand = hex_arg("--rand", a.rand, mo::kRandSize);
  } else {
    rand.resize(mo::kRandSize);
    mo::OpenSslRandom rng;
    if (!rng.fill(rand)) fail("cannot draw RAND");
  }
  const auto m = milenage_from(a.keys, false);
  auto v = mo::generate_vector(m, rand, sqn, amf);
  if (!v) fail("vector: " + v.error().message());
  std::cout << "RAND: " << hx(v->rand) << '\n'
            << "XRES: " << hx(v->xres.bytes) << '\n'
            << "CK: " << hx(v->ck.bytes) << '\n'
            << "IK: " << hx(v->ik.bytes) << '\n'
            << "AUTN: " << hx(v->autn) << '\n'
            << std::flush;
}

struct AutsArgs {
  KeyOptions keys;
  std::string rand, auts;
};

void run_auts(const AutsArgs& a) {
  checked_k(a.keys);
  const Bytes rand = hex_arg("--rand", a.rand, mo::kRandSize);
  const Bytes auts = hex_arg("--auts", a.auts, mo::kAutsSize);
  const auto m = milenage_from(a.keys, false);
  auto sqn_ms = mo::verify_auts(m, rand, auts);
  if (!sqn_ms) fail("AUTS refused: " + sqn_ms.error().message(), kAuthFailed);
  std::cout << "SQN-MS: " << hx(mo::sqn_to_bytes(*sqn_ms)) << '\n' << std::flush;
}

}  // namespace

void add_aka_commands(CLI::App& parent) {
  auto* aka = add_command_group(parent, "aka", "Milenage / UMTS AKA tools (TS 35.206, TS 33.102 §6.3)");

  auto [mil, milenage_args] = add_command<MilenageArgs>(
      *aka, "milenage",
      "Run f1, f1*, f2..f5, f5* and print MAC-A, MAC-S, RES, CK, IK, AK, AK* (and OPc when --op is "
      "given) as `name: hex` lines. Exit 2 on bad input.",
      run_milenage);
  add_key_options(mil, milenage_args->keys);
  mil->add_option("--rand", milenage_args->rand, "RAND (32 hex digits)")->required();
  mil->add_option("--sqn", milenage_args->sqn, "SQN (12 hex digits)")->required();
  mil->add_option("--amf", milenage_args->amf, "AMF (4 hex digits)")->required();

  auto [vec, vector_args] = add_command<VectorArgs>(
      *aka, "vector",
      "Generate an authentication vector (RAND, XRES, CK, IK, AUTN = SQN^AK || AMF || MAC-A). "
      "RAND is random unless --rand is given. Exit 2 on bad input.",
      run_vector);
  add_key_options(vec, vector_args->keys);
  vec->add_option("--sqn", vector_args->sqn, "SQN (12 hex digits)")->required();
  vec->add_option("--amf", vector_args->amf, "AMF (4 hex digits)")->required();
  vec->add_option("--rand", vector_args->rand, "RAND (32 hex digits); default: random");

  auto [auts, auts_args] = add_command<AutsArgs>(
      *aka, "auts",
      "Verify a resynchronisation token AUTS = SQN_MS^AK* || MAC-S for RAND and print SQN-MS. "
      "Exit 1 if MAC-S does not verify, 2 on bad input.",
      run_auts);
  add_key_options(auts, auts_args->keys);
  auts->add_option("--rand", auts_args->rand, "RAND of the failed challenge (32 hex digits)")->required();
  auts->add_option("--auts", auts_args->auts, "AUTS (28 hex digits)")->required();
}

}  // namespace m2mdm::cli
