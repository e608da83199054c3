/// @file refused.hpp
/// @brief `refused_with`: what a test of a refusal asserts about a Result (header-only;
///        GoogleTest).
#pragma once

#include "m2mdm/syncml/result.hpp"

#include <gtest/gtest.h>

#include <system_error>

namespace m2mdm::test {

/// Success when @p r is an error and that error is @p expected (an error enum of the tree, made
/// an error code by its make_error_code); otherwise a failure that says what came instead.
/// `ASSERT_TRUE(refused_with(r, errc::x))` asserts what `ASSERT_FALSE(r)` followed by
/// `EXPECT_EQ(r.error(), make_error_code(errc::x))` does, and stops the test on either failure.
template <typename T, typename ErrorEnum>
::testing::AssertionResult refused_with(const Result<T>& r, ErrorEnum expected) {
  const std::error_code want = make_error_code(expected);
  if (r.has_value()) return ::testing::AssertionFailure() << "accepted; expected the error " << want.message();
  if (r.error() != want)
    return ::testing::AssertionFailure() << "refused with " << r.error().message() << "; expected " << want.message();
  return ::testing::AssertionSuccess();
}

}  // namespace m2mdm::test
