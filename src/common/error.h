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

}  // namespace dermsim
