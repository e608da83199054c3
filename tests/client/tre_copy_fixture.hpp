// TreCopyTest: a GoogleTest fixture over a private copy of a test PKI device's TRE directory
// (TestPki::tre_copy), removed after the test. Shared by the client tests that run a real
// software TRE (software_tre_test, mcim_registry_test, operator_change_test).
#pragma once

#include "../mo/mcim_test_util.hpp"

#include "m2mdm/client/software_tre.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace m2mdm::client {

class TreCopyTest : public ::testing::Test {
 protected:
  /// The TRE of the test PKI's device @p dev_id, copied into a fresh directory named after @p tag.
  TreCopyTest(std::string dev_id, std::string tag) : dev_id_(std::move(dev_id)), tag_(std::move(tag)) {}

  void SetUp() override { dir_ = test::TestPki::instance().tre_copy(dev_id_, tag_); }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// The software TRE over the copy (a start of the device); throws when it does not open.
  std::unique_ptr<SoftwareTre> open_tre() {
    auto t = SoftwareTre::open(dir_);
    if (!t) throw std::runtime_error("tre open: " + t.error().message());
    return std::move(*t);
  }

  std::string dev_id_;
  std::string tag_;
  std::filesystem::path dir_;
};

}  // namespace m2mdm::client
