/// @file test_dir.hpp
/// @brief A working directory named after the running GoogleTest test (header-only; GoogleTest).
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace m2mdm::test {

/// <temp dir>/m2mdm-<tag>-<pid>-<test name>, emptied and created. The fixture removes it in its
/// TearDown (a test may also remove and re-create it in between).
inline std::filesystem::path fresh_test_dir(std::string_view tag) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const auto dir = std::filesystem::temp_directory_path() /
                   ("m2mdm-" + std::string(tag) + "-" + std::to_string(::getpid()) + "-" + (info ? info->name() : "none"));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace m2mdm::test
