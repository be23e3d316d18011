// Shared by the fuzz targets: run a parser on hostile input, where a UserError is the expected
// outcome and anything else (another exception, a sanitizer report, a crash) is a finding.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include "common/error.h"

namespace dermsim::fuzz {

// Calls fn(); a UserError is fine, any other exception aborts so libFuzzer saves the input.
template <typename Fn>
void expect_only_user_errors(Fn fn) {
  try {
    fn();
  } catch (const UserError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: not a UserError: %s\n", e.what());
    std::abort();
  }
}

// A folder of this process's own under the temp dir, for targets that need files on disk.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("dermsim-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// Writes bytes to path (overwriting).
inline void write_bytes(const std::filesystem::path& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}

}  // namespace dermsim::fuzz
