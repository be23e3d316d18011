// tests/support/oracle.h: a missing oracle fails the test when CI is set, and only then.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "support/oracle.h"

namespace dermsim {
namespace {

// Restores the CI variable as it was, whatever the test did to it.
class CiVariable : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* ci = std::getenv("CI")) saved_ = ci;
  }
  void TearDown() override {
    if (saved_) {
      ::setenv("CI", saved_->c_str(), 1);
    } else {
      ::unsetenv("CI");
    }
  }
  std::optional<std::string> saved_;
};

void oracle_missing() { ORACLE_UNAVAILABLE("/usr/bin/python3 with sklearn missing"); }

TEST_F(CiVariable, SetMeansCi) {
  ::unsetenv("CI");
  EXPECT_FALSE(testing::running_in_ci());
  for (const char* off : {"", "0", "false"}) {
    ::setenv("CI", off, 1);
    EXPECT_FALSE(testing::running_in_ci()) << "CI='" << off << "'";
  }
  for (const char* on : {"true", "1", "yes"}) {
    ::setenv("CI", on, 1);
    EXPECT_TRUE(testing::running_in_ci()) << "CI='" << on << "'";
  }
}

TEST_F(CiVariable, MissingOracleFailsInCiWithTheSameMessage) {
  ::setenv("CI", "true", 1);
  EXPECT_FATAL_FAILURE(oracle_missing(), "/usr/bin/python3 with sklearn missing");
}

}  // namespace
}  // namespace dermsim
