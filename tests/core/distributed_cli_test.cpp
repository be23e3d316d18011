// `dermsim train --nproc 2` through the real binary on the HAM sample (64 px, short runs): two
// identical runs log identically, a resumed run continues exactly (also on another number of ranks,
// which the run records), torchrun starts the same ranks, a killed rank stops the other with a
// message, and bad distributed input is refused in one line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "common/atomic_file.h"
#include "common/csv.h"
#include "common/run_dir.h"
#include "support/ranks.h"
#include "support/test_support.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::run_shell;
using testing::ShellRun;
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

// A resume may change the number of ranks (the batches stay the same for any N dividing K); it
// says what changes, and train.json and the report record the latest session's ranks.
TEST_F(DistributedTraining, TheRunRecordsItsRanksAndAResumeOnOtherRanksSaysWhatChanges) {
  const fs::path run = copy_of_base("world");
  const std::string args = " --epochs 2 --images-per-class 4 --embed-dim 16 --threads 1";
  ok("train --run " + run.string() + args);
  nlohmann::json config = read_json_file((run / "train.json").string());
  EXPECT_EQ(config.at("ranks"), 1);
  EXPECT_EQ(config.at("dist_backend"), "");
  const CommandResult r = ok("train --run " + run.string() + args + " --resume --nproc 2");
  EXPECT_NE(r.output.find("note: resuming as 2 rank(s), the run used 1: the batches are the same"),
            std::string::npos)
      << r.output;
  config = read_json_file((run / "train.json").string());
  EXPECT_EQ(config.at("ranks"), 2);
  EXPECT_EQ(config.at("dist_backend"), "gloo");
  EXPECT_EQ(config.at("threads"), 1);
  ok("evaluate --run " + run.string() + " --threads 1");
  ok("report --run " + run.string());
  EXPECT_NE(read_file((run / "report.html").string()).find("2 data-parallel ranks (gloo), 1 CPU thread each"),
            std::string::npos);
}

// Under torchrun (Debian's python3-torch 1.13: torch.distributed.run, static rendezvous, so rank 0
// joins the agent's store) the ranks train exactly as `--nproc 2` starts them.
TEST_F(DistributedTraining, TorchrunStartsRanksThatTrainLikeNproc) {
  if (std::system("/usr/bin/python3 -c 'import torch.distributed.run' > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 has no torch.distributed.run (python3-torch): torchrun untested";
  const fs::path by_nproc = copy_of_base("by_nproc"), by_torchrun = copy_of_base("by_torchrun");
  const std::string args = " --epochs 2 --images-per-class 4 --embed-dim 16 --threads 1";
  ok("train --run " + by_nproc.string() + args + " --nproc 2");
  const std::string port =
      "$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); "
      "print(s.getsockname()[1])')";
  // --redirects/--tee 1: Debian's 1.13 on Python 3.11 parses their default "0" as None and fails
  // (IntFlag changed), so the ranks' stdout also goes to files under --log_dir; stderr is ours.
  const ShellRun r = run_shell(
      "timeout 300 /usr/bin/python3 -m torch.distributed.run --nnodes 1 --nproc_per_node 2 "
      "--master_addr 127.0.0.1 --master_port " + port + " --redirects 1 --tee 1 --log_dir " +
      (temp_root() / "torchrun-logs").string() + " --no_python " + DERMSIM_BINARY +
      " train --run " + by_torchrun.string() + args);
  ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.status << "\n" << r.output;
  EXPECT_NE(r.output.find("training as 2 data-parallel ranks (gloo), 1 CPU thread(s) each"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(log_without_timing(by_torchrun), log_without_timing(by_nproc));
}

TEST_F(DistributedTraining, AKilledRankStopsTheOtherWithAMessage) {
  const fs::path run = copy_of_base("killed");
  const auto start = std::chrono::steady_clock::now();
  const ShellRun r = run_shell("timeout 120 " + std::string(DERMSIM_BINARY) + " train --run " +
                                   run.string() +
                                   " --epochs 50 --images-per-class 4 --nproc 2 --dist-timeout 20",
                               "data-parallel ranks", run.string());
  const int status = r.status;
  const std::string& output = r.output;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r.killed_rank_one) << output;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status << "\n" << output;
  EXPECT_NE(output.find("rank 0 of 2: lost the other ranks"), std::string::npos) << output;
  EXPECT_NE(output.find("dermsim: rank 1 of 2 was killed by signal 9 (Killed): the other ranks stop "
                        "at their next collective (25 s at most)"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("dermsim: error: rank 1 of 2 was killed by signal 9"), std::string::npos)
      << output;
  EXPECT_EQ(output.find("did not stop"), std::string::npos) << output;
  // A closed connection fails the next collective at once; a silent one after --dist-timeout 20.
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
