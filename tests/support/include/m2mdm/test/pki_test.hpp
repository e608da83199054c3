/// @file pki_test.hpp
/// @brief A GoogleTest fixture with a fresh directory and the test PKI in it (header-only;
/// GoogleTest, m2mdm_test_support_mo).
#pragma once

#include "m2mdm/test/device_fixture.hpp"
#include "m2mdm/test/test_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

namespace m2mdm::test {

/// Each test gets dir_ (fresh_test_dir(tag)) holding the test PKI with one device (make_test_pki
/// into dir_/"pki", its files in pki_); dir_ is removed after the test. A fixture that sets up
/// more calls PkiTest::SetUp() first and returns if HasFatalFailure().
class PkiTest : public ::testing::Test {
 protected:
  explicit PkiTest(std::string tag, std::string_view dev_id = kTestDevId) : tag_(std::move(tag)), dev_id_(dev_id) {}

  void SetUp() override {
    dir_ = fresh_test_dir(tag_);
    auto pki = make_test_pki(dir_ / "pki", dev_id_);
    ASSERT_TRUE(pki) << pki.error().message();
    pki_ = std::move(*pki);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;  ///< this test's directory
  PkiFiles pki_;               ///< the files of the test PKI (make_test_pki)

 private:
  std::string tag_;
  std::string dev_id_;
};

}  // namespace m2mdm::test
