// Small helpers shared by the test files: catching a UserError's text, running the dermsim binary.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "common/error.h"

namespace dermsim::testing {

// The UserError message of `fn`, or "" if it did not throw one.
template <typename Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};

// Runs `dermsim ARGS` (the binary built with the tests) and captures what it printed.
inline CommandResult run_dermsim(const std::string& args) {
  const std::string command = std::string(DERMSIM_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  std::array<char, 4096> buffer;
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// run_dermsim, expecting success (a failure shows the command and its output).
inline CommandResult run_dermsim_ok(const std::string& args) {
  CommandResult r = run_dermsim(args);
  EXPECT_EQ(r.exit_code, 0) << "dermsim " << args << "\n" << r.output;
  return r;
}

}  // namespace dermsim::testing
