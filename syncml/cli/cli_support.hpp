/// @file cli_support.hpp
/// @brief Small helpers every `m2mdm` sub-command uses: declaring a sub-command with its own
///        arguments, failing with a one-line reason and an exit code, and reading/writing whole
///        files binary-safe.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <expected>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace m2mdm::cli {

/// Adds the sub-command @p name (help @p help) of @p parent that only groups sub-commands: one of
/// them is required.
inline CLI::App* add_command_group(CLI::App& parent, const std::string& name, const std::string& help) {
  CLI::App* group = parent.add_subcommand(name, help);
  group->require_subcommand(1);
  return group;
}

/// Adds the sub-command @p name (help @p help) of @p parent with its own arguments @p Args (owned
/// by the command); @p run gets them when the command runs. Returns the command and its
/// arguments, for the command's options.
template <class Args, class Run>
std::pair<CLI::App*, Args*> add_command(CLI::App& parent, const std::string& name, const std::string& help, Run run) {
  auto args = std::make_shared<Args>();
  CLI::App* cmd = parent.add_subcommand(name, help);
  cmd->callback([args, run] { run(*args); });
  return {cmd, args.get()};
}

/// Prints "m2mdm: <reason>" on stderr and ends the command with exit code @p code.
/// (CLI::RuntimeError is caught in main and turned into the process exit code.)
[[noreturn]] inline void fail(std::string_view reason, int code = 1) {
  std::cerr << "m2mdm: " << reason << '\n' << std::flush;
  throw CLI::RuntimeError(code);
}

/// Reads a whole file ("-" = stdin) as bytes.
inline std::expected<std::vector<std::uint8_t>, std::error_code> read_file(const std::string& path) {
  if (path == "-") {
    std::vector<std::uint8_t> out{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(std::make_error_code(std::errc::no_such_file_or_directory));
  std::vector<std::uint8_t> out{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return std::unexpected(std::make_error_code(std::errc::io_error));
  return out;
}

/// Reads a whole file or fails the command with "cannot read PATH: reason".
inline std::vector<std::uint8_t> read_file_or_fail(const std::string& path) {
  auto r = read_file(path);
  if (!r) fail("cannot read " + path + ": " + r.error().message());
  return std::move(*r);
}

/// Writes bytes to @p path ("-" = stdout), binary-safe; fails the command on error.
inline void write_file_or_fail(const std::string& path, const void* data, std::size_t size) {
  if (path == "-") {
    std::cout.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    std::cout.flush();
    if (!std::cout) fail("cannot write to stdout");
    return;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) fail("cannot write " + path);
}

template <class Bytes>
inline void write_file_or_fail(const std::string& path, const Bytes& bytes) {
  write_file_or_fail(path, std::data(bytes), std::size(bytes));
}

}  // namespace m2mdm::cli
