// Small helpers shared by the test files: catching a UserError's text, running the dermsim binary.
#pragma once

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

}  // namespace dermsim::testing
