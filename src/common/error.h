// UserError: a problem with the user's input (a file, a row, a flag), reported as one line and a
// non-zero exit by the CLI. Anything else thrown is a bug in dermsim.
#pragma once

#include <stdexcept>
#include <string>

namespace dermsim {

class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& message) : std::runtime_error(message) {}
};

// A failure already reported in one line by a child process (a rank of `--nproc`, whose stderr is
// ours): the CLI exits non-zero without a second line.
class AlreadyReported : public UserError {
 public:
  AlreadyReported() : UserError("(reported above)") {}
};

}  // namespace dermsim
