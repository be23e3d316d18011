// `dermsim predict` and `dermsim embed` sharded over `--nproc 2` ranks through the real binary, on
// a run trained briefly on the HAM sample at 64 px: every mode writes byte for byte what one
// process writes at the same thread count (inputs not divisible by the ranks, fewer inputs than
// ranks, a bad image in rank 1's share), and a killed rank stops the other with a message.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "common/atomic_file.h"
#include "support/ranks.h"
#include "support/test_support.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::run_dermsim;
constexpr auto ok = testing::run_dermsim_ok;

const std::string kHam = std::string(DERMSIM_SOURCE_DIR) + "/data/ham10000";
// Both sides at one thread: results agree bit for bit only at the same thread count.
const std::string kOneRank = " --threads 1";
const std::string kTwoRanks = " --threads 1 --nproc 2";

fs::path temp_root() {
  return fs::temp_directory_path() / ("dermsim_sharded_" + std::to_string(getpid()));
}
fs::path run_dir() {
  return temp_root() / "run";
}
std::string run_flag() {
  return " --run " + run_dir().string();
}
// The HAM images plus one that is not an image, named to sort last: 301 inputs, so the 256-image
// blocks the ranks share give rank 0 the first 256 and rank 1 the other 45, the bad one among them.
fs::path folder() {
  return temp_root() / "folder";
}
const char kBadName[] = "zzz_not_an_image.jpg";

// The lines of `output` that are results, not progress or notes about the ranks.
std::string result_lines(const std::string& output) {
  std::istringstream in(output);
  std::string line, out;
  while (std::getline(in, line))
    if (line.rfind("warning:", 0) == 0 || line.rfind("wrote", 0) == 0 ||
        line.rfind("dermsim: error:", 0) == 0 || line.rfind("classifier:", 0) == 0)
      out += line + "\n";
  return out;
}

class ShardedInference : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::remove_all(temp_root());
    fs::create_directories(folder());
    ok("prepare --data " + kHam + " --out " + run_dir().string() + " --image-size 64");
    ok("train" + run_flag() + " --epochs 1 --images-per-class 4 --embed-dim 16 --threads 1");
    for (const auto& entry : fs::directory_iterator(kHam + "/train"))
      fs::copy_file(entry.path(), folder() / entry.path().filename());
    write_file_atomic((folder() / kBadName).string(), "not a JPEG");
  }
  static void TearDownTestSuite() { fs::remove_all(temp_root()); }

  // `args` run once as one process and once as two ranks, each writing `out_flag` + a name of its
  // own: the printed results and every file written must be the same. Returns the first file.
  std::string expect_same_on_two_ranks(const std::string& args, const std::string& out_flag,
                                       const std::vector<std::string>& extensions) {
    const std::string one = (temp_root() / "one").string(), two = (temp_root() / "two").string();
    const CommandResult a = ok(args + kOneRank + out_flag + one);
    const CommandResult b = ok(args + kTwoRanks + out_flag + two);
    EXPECT_NE(b.output.find("2 ranks (gloo)"), std::string::npos) << b.output;
    std::string results_b = result_lines(b.output);
    for (size_t at; (at = results_b.find(two)) != std::string::npos;)
      results_b.replace(at, two.size(), one);
    EXPECT_EQ(results_b, result_lines(a.output));
    for (const auto& ext : extensions) {
      const std::string written = read_file(one + ext);
      EXPECT_FALSE(written.empty()) << one + ext;
      EXPECT_EQ(read_file(two + ext), written) << ext << " differs";
    }
    return read_file(one + extensions.front());
  }
};

TEST_F(ShardedInference, PredictOnAFolderWritesWhatOneProcessWrites) {
  const std::string args = "predict" + run_flag() + " --dir " + folder().string();
  const auto lines = [](const std::string& text) {
    return std::count(text.begin(), text.end(), '\n');
  };
  EXPECT_EQ(lines(expect_same_on_two_ranks(args, " --out ", {""})), 301) << "header + 300 images";
  EXPECT_EQ(lines(expect_same_on_two_ranks(args + " --tta 2 --kaggle", " --out ", {""})), 301);
  // Fewer inputs than ranks: rank 0, which writes, has none of its own (rank 1 takes the block).
  EXPECT_EQ(lines(expect_same_on_two_ranks(
                "predict" + run_flag() + " " + kHam + "/train/ISIC_0024383.jpg", " --out ", {""})),
            2);
}

TEST_F(ShardedInference, PredictFromACsvWritesWhatOneProcessWrites) {
  const std::string written = expect_same_on_two_ranks(
      "predict" + run_flag() + " --csv " + kHam + "/ISIC_2020_Training_GroundTruth.csv --images " +
          kHam + "/train",
      " --out ", {""});
  EXPECT_EQ(std::count(written.begin(), written.end(), '\n'), 301) << "header + 300 rows";
}

TEST_F(ShardedInference, EmbedWritesWhatOneProcessWrites) {
  expect_same_on_two_ranks("embed" + run_flag() + " --split all", " --out ", {".npy", ".csv"});
  expect_same_on_two_ranks("embed" + run_flag() + " --dir " + folder().string(), " --out ",
                           {".npy", ".csv"});
}

TEST_F(ShardedInference, NoReadableImageIsTheSameOneLineErrorOnTwoRanks) {
  // 257 bad files: the last one in rank 1's share.
  const fs::path bad = temp_root() / "bad";
  fs::create_directories(bad);
  for (int i = 0; i < 257; ++i)
    write_file_atomic((bad / ("bad_" + std::to_string(1000 + i) + ".jpg")).string(), "not a JPEG");
  const std::string args = "predict" + run_flag() + " --dir " + bad.string() + " --out " +
                           (temp_root() / "none.csv").string();
  const CommandResult one = run_dermsim(args + kOneRank), two = run_dermsim(args + kTwoRanks);
  EXPECT_EQ(one.exit_code, 2) << one.output;
  EXPECT_EQ(two.exit_code, 2) << two.output;
  EXPECT_NE(
      one.output.find("dermsim: error: predict: none of the 257 images could be read (first: " +
                      (bad / "bad_1000.jpg").string()),
      std::string::npos)
      << one.output;
  EXPECT_NE(one.output.find("bad_1256.jpg"), std::string::npos) << one.output;
  EXPECT_EQ(result_lines(two.output), result_lines(one.output));
  EXPECT_FALSE(fs::exists(temp_root() / "none.csv"));
}

TEST_F(ShardedInference, AKilledRankStopsTheOtherWithAMessage) {
  const testing::ShellRun r = testing::run_shell(
      "timeout 120 " + std::string(DERMSIM_BINARY) + " predict" + run_flag() + " --dir " +
          folder().string() + " --tta 8 --out " + (temp_root() / "killed.csv").string() + kTwoRanks +
          " --dist-timeout 20",
      "predicting as 2 ranks", folder().string());
  const std::string& output = r.output;
  ASSERT_TRUE(r.killed_rank_one) << output;
  EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 2) << r.status << "\n" << output;
  EXPECT_NE(output.find("rank 0 of 2: lost the other ranks during all-gather"), std::string::npos)
      << output;
  EXPECT_NE(output.find("dermsim: error: rank 1 of 2 was killed by signal 9"), std::string::npos)
      << output;
  EXPECT_FALSE(fs::exists(temp_root() / "killed.csv"));
}

}  // namespace
}  // namespace dermsim
