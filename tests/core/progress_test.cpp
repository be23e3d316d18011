#include <gtest/gtest.h>

#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/progress.h"

namespace dermsim {
namespace {

TEST(HumanUnits, BytesAndDurations) {
  EXPECT_EQ(human_bytes(512), "512 B");
  EXPECT_EQ(human_bytes(1.6e9), "1.6 GB");
  EXPECT_EQ(human_duration(59.4), "59s");
  EXPECT_EQ(human_duration(125), "2m05s");
  EXPECT_EQ(human_duration(3720), "1h02m");
}

TEST(AtomicFile, ReplacesWholeFileAndLeavesNoTempBehind) {
  auto dir = std::filesystem::temp_directory_path() / "dermsim_atomic_test";
  std::filesystem::create_directories(dir);
  auto path = (dir / "out.txt").string();
  write_file_atomic(path, "first version, longer");
  write_file_atomic(path, "second");
  EXPECT_EQ(read_file(path), "second");
  { AtomicFile abandoned(path); abandoned.write("partial", 7); }  // never committed
  EXPECT_EQ(read_file(path), "second");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
  std::filesystem::remove_all(dir);
}

TEST(AtomicFile, UnwritableDirectoryNamesThePath) {
  try {
    write_file_atomic("/nonexistent-dir/x.bin", "x");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.bin"), std::string::npos);
  }
}

}  // namespace
}  // namespace dermsim
