// `dermsim train --nproc 2` through the real binary on the HAM sample (64 px, short runs): two
// identical runs log identically, a resumed run continues exactly, a killed rank stops the other
// with a message, and bad distributed input is refused in one line.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "common/atomic_file.h"
#include "common/csv.h"
#include "support/test_support.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::run_dermsim;

const std::string kHam = std::string(DERMSIM_SOURCE_DIR) + "/data/ham10000";
const std::string kTrainArgs = " --epochs 2 --images-per-class 4 --embed-dim 16 --nproc 2";

fs::path temp_root() {
  return fs::temp_directory_path() / ("dermsim_distributed_" + std::to_string(getpid()));
}

constexpr auto ok = testing::run_dermsim_ok;

// training-log.csv without its images_per_second column (timing): everything that is the result.
std::string log_without_timing(const fs::path& run) {
  std::istringstream in(read_file((run / "training-log.csv").string()));
  std::string line, out;
  while (std::getline(in, line)) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}

// /proc files report size 0, so they are read as streams.
std::string read_stream(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The pid of the process whose command line holds `needle` and whose environment has RANK=rank.
pid_t pid_of_rank(const std::string& needle, int rank) {
  const std::string wanted = std::string("RANK=") + std::to_string(rank) + '\0';
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string cmdline = read_stream(entry.path() / "cmdline");
    const std::string environ = '\0' + read_stream(entry.path() / "environ");
    if (cmdline.find(needle) != std::string::npos &&
        environ.find('\0' + wanted) != std::string::npos)
      return static_cast<pid_t>(std::stol(name));
  }
  return 0;
}

class DistributedTraining : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::remove_all(temp_root());
    ok("prepare --data " + kHam + " --out " + (temp_root() / "base").string() + " --image-size 64");
  }
  static void TearDownTestSuite() { fs::remove_all(temp_root()); }

  fs::path copy_of_base(const std::string& name) {
    const fs::path dir = temp_root() / name;
    fs::remove_all(dir);
    fs::copy(temp_root() / "base", dir, fs::copy_options::recursive);
    return dir;
  }
};

TEST_F(DistributedTraining, IdenticalRunsLogIdenticallyAndAResumedRunContinuesExactly) {
  const fs::path first = copy_of_base("first"), second = copy_of_base("second"),
                 resumed = copy_of_base("resumed");
  const CommandResult r = ok("train --run " + first.string() + kTrainArgs);
  EXPECT_NE(r.output.find("training as 2 data-parallel ranks (gloo), 1 CPU thread(s) each"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("communication"), std::string::npos) << r.output;
  ok("train --run " + second.string() + kTrainArgs);
  const std::string log = log_without_timing(first);
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 3) << log;  // header + 2 epochs
  EXPECT_EQ(log_without_timing(second), log);

  // Killed (as if) 5 steps into the second epoch, then resumed from the first epoch's checkpoint.
  const CsvTable table = read_csv((first / "training-log.csv").string());
  const long steps_per_epoch = std::stol(table.rows.at(0).at(1));
  ok("train --run " + resumed.string() + kTrainArgs + " --stop-after-steps " +
     std::to_string(steps_per_epoch + 5));
  const CommandResult again = ok("train --run " + resumed.string() + kTrainArgs + " --resume");
  EXPECT_NE(again.output.find("resuming"), std::string::npos) << again.output;
  EXPECT_EQ(log_without_timing(resumed), log);
}

TEST_F(DistributedTraining, AKilledRankStopsTheOtherWithAMessage) {
  const fs::path run = copy_of_base("killed");
  const std::string command = "timeout 120 " + std::string(DERMSIM_BINARY) + " train --run " +
                              run.string() + " --epochs 50 --images-per-class 4 --nproc 2 2>&1";
  const auto start = std::chrono::steady_clock::now();
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char line[4096];
  bool killed = false;
  while (fgets(line, sizeof line, pipe)) {
    output += line;
    if (!killed && output.find("data-parallel ranks") != std::string::npos) {
      const pid_t rank_one = pid_of_rank(run.string(), 1);
      ASSERT_GT(rank_one, 0) << "rank 1 not found";
      ASSERT_EQ(kill(rank_one, SIGKILL), 0);
      killed = true;
    }
  }
  const int status = pclose(pipe);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(killed) << output;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status << "\n" << output;
  EXPECT_NE(output.find("rank 0 of 2: lost the other ranks"), std::string::npos) << output;
  EXPECT_NE(output.find("dermsim: error: rank 1 of 2 was killed by signal 9"), std::string::npos)
      << output;
  EXPECT_LT(seconds, 60) << "the surviving rank should stop at its next collective";
}

TEST_F(DistributedTraining, BadRankInputIsOneLine) {
  const fs::path run = copy_of_base("bad");
  CommandResult r = run_dermsim("train --run " + run.string() + " --images-per-class 4 --nproc 3");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(r.output,
            "dermsim: error: --images-per-class 4 with 3 ranks: each rank takes an equal "
            "share of each class, so the ranks must divide it\n");
  setenv("WORLD_SIZE", "2", 1);
  setenv("RANK", "5", 1);
  r = run_dermsim("train --run " + run.string());
  unsetenv("WORLD_SIZE");
  unsetenv("RANK");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(r.output,
            "dermsim: error: environment variable RANK=5: expected an integer from 0 to 1\n");
}

}  // namespace
}  // namespace dermsim
