// The one decision for oracle tests whose reference (Python with Pillow, scikit-learn, numpy,
// torchvision) is not installed: skip on a developer machine, FAIL in CI, so that a CI image that
// lost a package cannot pass by skipping the comparisons. CI services set CI=true.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace dermsim::testing {

// True when the CI environment variable is set to anything but "", "0" or "false".
inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  if (ci == nullptr) return false;
  const std::string value = ci;
  return !value.empty() && value != "0" && value != "false";
}

}  // namespace dermsim::testing

// Ends the current test (a TEST body or a fixture's SetUp) because its oracle cannot run: skipped
// with `message`, or failed with the same message when running in CI.
#define ORACLE_UNAVAILABLE(message)                                                     \
  do {                                                                                  \
    if (::dermsim::testing::running_in_ci()) {                                          \
      FAIL() << message << " (CI is set: oracle tests must run there, not skip; "       \
                           "scripts/install-deps.sh installs what they need)";          \
    } else {                                                                            \
      GTEST_SKIP() << message;                                                          \
    }                                                                                   \
  } while (false)
