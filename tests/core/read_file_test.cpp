// read_file, the one whole-file reader (CSV, JSON, weights): only regular files, never more than a
// cap, one-line UserErrors naming the path.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/atomic_file.h"
#include "support/test_support.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir() {
  auto dir = fs::temp_directory_path() / ("dermsim_read_file_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(ReadFile, ReadsRegularFilesWhole) {
  const auto dir = fresh_dir();
  const auto path = (dir / "a.csv").string();
  const std::string contents("a,b\n1,\0\n", 8);  // embedded NUL kept
  write_file_atomic(path, contents);
  EXPECT_EQ(read_file(path), contents);
  write_file_atomic(path, "");
  EXPECT_EQ(read_file(path), "");
  fs::remove_all(dir);
}

TEST(ReadFile, RefusesDevicesFifosAndDirectories) {
  const auto dir = fresh_dir();
  const auto fifo = (dir / "pipe.csv").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::pair<std::string, std::string> cases[] = {
      {"/dev/zero", "not a regular file (a device)"},
      {fifo, "not a regular file (a FIFO (named pipe))"},
      {dir.string(), "not a regular file (a directory)"},
      {(dir / "missing.csv").string(), "cannot read: No such file or directory"},
  };
  for (const auto& [path, why] : cases) {
    const std::string message = testing::error_of([&] { read_file(path); });
    EXPECT_EQ(message.rfind(path + ": " + why, 0), 0u) << message;
  }
  fs::remove_all(dir);
}

TEST(ReadFile, RefusesFilesAboveTheCapBeforeReading) {
  const auto dir = fresh_dir();
  const auto path = (dir / "big.json").string();
  write_file_atomic(path, std::string(101, 'x'));
  EXPECT_EQ(read_file(path, 101).size(), 101u);
  const std::string message = testing::error_of([&] { read_file(path, 100); });
  EXPECT_EQ(message, path + ": file too large (101 bytes; the limit is 100)");
  // The default cap, on a sparse file (no disk, and it must not be allocated).
  { std::ofstream(path, std::ios::trunc).put('x'); }
  fs::resize_file(path, kMaxReadFileBytes + 1);
  EXPECT_NE(testing::error_of([&] { read_file(path); }).find("file too large"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dermsim
