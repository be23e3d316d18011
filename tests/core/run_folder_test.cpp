// The run folder keeps its promise under ordinary mistakes: stale artefacts are refused (the
// provenance chain), a second writer is refused (the lock), damaged bytes are refused, a kill -9
// leaves nothing that blocks the next command, a full disk fails cleanly. Each case runs the real
// binary on a copy of one small trained run (HAM sample, 64 px, two short epochs).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "classify/reference_index.h"
#include "common/atomic_file.h"
#include "support/test_support.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::run_dermsim;

const std::string kHam = std::string(DERMSIM_SOURCE_DIR) + "/data/ham10000";
const std::string kTrainArgs = " --epochs 2 --images-per-class 8 --embed-dim 32 --threads 2";

fs::path temp_root() {
  return fs::temp_directory_path() / ("dermsim_runfolder_" + std::to_string(getpid()));
}

int lines_of(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// Every regular file of a run (outside superseded/), with its bytes.
std::map<std::string, std::string> snapshot(const fs::path& run) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(run))
    if (entry.is_regular_file() && entry.path().filename() != ".lock")
      files[entry.path().filename().string()] = read_file(entry.path().string());
  return files;
}

std::vector<std::string> temp_files(const fs::path& run) {
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(run))
    if (entry.path().filename().string().find(".tmp-") != std::string::npos)
      found.push_back(entry.path().string());
  return found;
}

// A refusal as the project defines it: exit 2, one line, naming what it is about; and nothing
// that was on disk before changed.
void expect_refused(const CommandResult& r, const std::string& names, const fs::path& run,
                    const std::map<std::string, std::string>& before) {
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(lines_of(r.output), 1) << "one line: " << r.output;
  EXPECT_NE(r.output.find(names), std::string::npos) << "should name " << names << ": " << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
  EXPECT_TRUE(snapshot(run) == before) << "artefacts changed by a refused command";
}

constexpr auto ok = testing::run_dermsim_ok;

// One trained and evaluated run, made once; every test works on its own copy.
class RunFolder : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::remove_all(temp_root());
    const std::string run = (temp_root() / "base").string();
    ok("prepare --data " + kHam + " --out " + run + " --image-size 64");
    ok("train --run " + run + kTrainArgs);
    ok("evaluate --run " + run + " --split val --skip-floor");
  }
  static void TearDownTestSuite() { fs::remove_all(temp_root()); }

  fs::path copy_of_base(const std::string& name) {
    const fs::path dir = temp_root() / name;
    fs::remove_all(dir);
    fs::copy(temp_root() / "base", dir, fs::copy_options::recursive);
    return dir;
  }
  std::string arg(const fs::path& run) { return " --run " + run.string(); }
};

TEST_F(RunFolder, PrepareWithOtherOptionsOnATrainedRunIsRefusedUnlessFresh) {
  const fs::path run = copy_of_base("reprepare");
  const auto before = snapshot(run);
  for (const char* change : {" --image-size 64 --seed 7", " --image-size 64 --val 0.3",
                             " --image-size 32", " --image-size 64 --test 0.05"})
    expect_refused(run_dermsim("prepare --data " + kHam + " --out " + run.string() + change),
                   "--fresh", run, before);
  // The same options again change nothing and are allowed (the cache is verified and reused).
  CommandResult same = ok("prepare --data " + kHam + " --out " + run.string() + " --image-size 64");
  EXPECT_NE(same.output.find("reused"), std::string::npos) << same.output;
  EXPECT_TRUE(fs::exists(run / "checkpoint-best.pt"));
  // --fresh sets the training aside; the old network's files are kept, not mixed.
  ok("prepare --data " + kHam + " --out " + run.string() + " --image-size 64 --seed 7 --fresh");
  EXPECT_FALSE(fs::exists(run / "checkpoint-best.pt"));
  EXPECT_FALSE(fs::exists(run / "model.json"));
  ASSERT_TRUE(fs::exists(run / "superseded"));
  const fs::path aside = *fs::directory_iterator(run / "superseded");
  EXPECT_EQ(read_file((aside / "checkpoint-best.pt").string()), before.at("checkpoint-best.pt"));
  CommandResult eval = run_dermsim("evaluate" + arg(run));
  EXPECT_EQ(eval.exit_code, 2);
  EXPECT_NE(eval.output.find("dermsim train"), std::string::npos) << eval.output;
}

// similar and explain read the reference index evaluate wrote; a damaged, stale or missing one is
// refused in one line naming it and the command that rebuilds it, and that command does.
TEST_F(RunFolder, TheReferenceIndexIsReadAndADamagedStaleOrMissingOneIsRefused) {
  const fs::path run = copy_of_base("index");
  const std::string index = (run / "reference-index.bin").string();
  ASSERT_TRUE(fs::exists(index));
  const std::string image = (fs::path(kHam) / "train" / "ISIC_0024383.jpg").string();
  const std::string similar = "similar" + arg(run) + " " + image + " --k 3";
  CommandResult good = ok(similar);
  EXPECT_NE(good.output.find("3 most similar"), std::string::npos) << good.output;
  ok("explain" + arg(run) + " " + image + " --out " + (run / "e.png").string());

  const std::string bytes = read_file(index);
  std::string damaged = bytes;
  damaged[damaged.size() / 2] = static_cast<char>(damaged[damaged.size() / 2] ^ 1);
  write_file_atomic(index, damaged);
  auto before = snapshot(run);
  expect_refused(run_dermsim(similar), "reference-index.bin: damaged reference index", run, before);
  expect_refused(run_dermsim("explain" + arg(run) + " " + image), "dermsim evaluate", run, before);

  // A re-chosen card at the same precision leaves the index valid (it holds nothing else a card
  // decides); an index of another checkpoint is stale.
  write_file_atomic(index, bytes);
  nlohmann::json card = nlohmann::json::parse(read_file((run / "model.json").string()));
  card["threshold"] = card["threshold"].get<double>() / 2;
  write_file_atomic((run / "model.json").string(), card.dump());
  ok(similar);
  ReferenceIndex other = decode_reference_index(bytes, index);
  other.made_from["checkpoint-best.pt"] = "0123456789abcdef";
  write_file_atomic(index, encode_reference_index(other));
  before = snapshot(run);
  expect_refused(run_dermsim(similar), "reference-index.bin is stale: made from another checkpoint-best.pt",
                 run, before);

  fs::remove(index);
  before = snapshot(run);
  expect_refused(run_dermsim(similar), "no reference-index.bin; run `dermsim evaluate", run, before);
  ok("evaluate" + arg(run) + " --split val --skip-floor");
  ok(similar);
}

TEST_F(RunFolder, ANewTrainingSetsTheOldNetworksFilesAsideAndAStaleCardIsRefused) {
  const fs::path run = copy_of_base("retrain");
  const std::string old_card = read_file((run / "model.json").string());
  const std::string old_index = read_file((run / "reference-index.bin").string());
  ok("train" + arg(run) + kTrainArgs + " --seed 3");
  EXPECT_FALSE(fs::exists(run / "metrics-val.json"));
  // train chose a new classifier on validation for the new network: predict works right away.
  ASSERT_TRUE(fs::exists(run / "model.json"));
  EXPECT_NE(read_file((run / "model.json").string()), old_card);
  // ... and wrote the new network's reference index; the old one went aside with its network.
  ASSERT_TRUE(fs::exists(run / "reference-index.bin"));
  EXPECT_NE(read_file((run / "reference-index.bin").string()), old_index);
  const std::string image = (fs::path(kHam) / "train" / "ISIC_0024383.jpg").string();
  ok("predict" + arg(run) + " " + image + " --out " + (run / "p.csv").string());
  // The old card put back by hand belongs to another checkpoint: refused by name.
  write_file_atomic((run / "model.json").string(), old_card);
  CommandResult r = run_dermsim("predict" + arg(run) + " " + image + " --out " + (run / "p.csv").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("model.json is stale"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("checkpoint-best.pt"), std::string::npos) << r.output;
}

TEST_F(RunFolder, ResumeRefusesChangedOptionsByName) {
  const fs::path run = copy_of_base("resume");
  ok("train" + arg(run) + kTrainArgs + " --stop-after-steps 20");  // inside epoch 2
  const auto before = snapshot(run);
  expect_refused(run_dermsim("train" + arg(run) + " --resume --epochs 5"), "epochs", run, before);
  expect_refused(run_dermsim("train" + arg(run) + " --resume --lr 0.01"), "learning_rate", run, before);
  expect_refused(run_dermsim("train" + arg(run) + " --resume --loss triplet"), "loss", run, before);
  expect_refused(run_dermsim("train" + arg(run) + " --resume --backbone resnet18"), "backbone", run,
                 before);
  // Flags equal to the run's, and the thread count, are accepted.
  ok("train" + arg(run) + " --resume --epochs 2 --threads 1");
}

TEST_F(RunFolder, EditedSplitOrDamagedCacheIsRefusedThenRebuiltByPrepare) {
  const fs::path run = copy_of_base("damage");
  std::string split = read_file((run / "split.csv").string());
  const std::string original_split = split;
  const size_t test_row = split.find(",test,");
  ASSERT_NE(test_row, std::string::npos);
  split.replace(test_row, 6, ",train");  // a test image moved into train by hand
  write_file_atomic((run / "split.csv").string(), split);
  auto before = snapshot(run);
  expect_refused(run_dermsim("evaluate" + arg(run)), "split.csv", run, before);
  write_file_atomic((run / "split.csv").string(), original_split);

  // One byte of pixels flipped, far past the header.
  std::string cache = read_file((run / "cache.bin").string());
  cache[cache.size() - 1000] ^= 0x5a;
  write_file_atomic((run / "cache.bin").string(), cache);
  before = snapshot(run);
  for (const char* command : {"evaluate", "train", "report"})
    expect_refused(run_dermsim(std::string(command) + arg(run)), "cache.bin", run, before);
  CommandResult p = ok("prepare --data " + kHam + " --out " + run.string() + " --image-size 64");
  EXPECT_NE(p.output.find("rebuilt"), std::string::npos) << p.output;
  // Decoding is deterministic: the rebuilt cache is the one the network was trained on.
  ok("evaluate" + arg(run) + " --split val --skip-floor");
}

TEST_F(RunFolder, SecondWriterIsRefusedAtOnceNamingTheHolder) {
  const fs::path run = copy_of_base("lock");
  const std::string log = (run.parent_path() / "lock-train.log").string();
  const pid_t child = fork();
  if (child == 0) {
    const std::string command = std::string(DERMSIM_BINARY) + " train --run " + run.string() +
                                " --epochs 200 --images-per-class 8 --embed-dim 32 --threads 1 > " +
                                log + " 2>&1";
    execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until the trainer holds the lock (it writes its note into RUN/.lock).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline &&
         (!fs::exists(run / ".lock") || read_file((run / ".lock").string()).find("train") == std::string::npos))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (const char* command : {"train", "evaluate", "report"}) {
    const auto start = std::chrono::steady_clock::now();
    CommandResult r = run_dermsim(std::string(command) + arg(run));
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.output;
    EXPECT_NE(r.output.find("in use by `dermsim train`"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("pid "), std::string::npos) << r.output;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20)) << "refused at once";
  }
  CommandResult prepare = run_dermsim("prepare --data " + kHam + " --out " + run.string());
  EXPECT_EQ(prepare.exit_code, 2) << prepare.output;
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  // The kernel dropped the killed holder's lock: the next writer goes on, and cleans its temp files.
  ok("evaluate" + arg(run) + " --split val --skip-floor");
  EXPECT_TRUE(temp_files(run).empty());
}

// kill -9 at several moments of a command; the next command must clean up and go on.
void kill_during(const std::string& args, int after_ms) {
  const pid_t child = fork();
  if (child == 0) {
    const std::string command = std::string(DERMSIM_BINARY) + " " + args + " > /dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(after_ms));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
}

TEST_F(RunFolder, KilledCommandsLeaveNothingThatBlocksTheNext) {
  const fs::path run = copy_of_base("kill");
  for (int ms : {300, 900, 1800}) {
    kill_during("train" + arg(run) + kTrainArgs, ms);
    ok("train" + arg(run) + " --resume" + kTrainArgs);  // same flags as the run: accepted
    EXPECT_TRUE(temp_files(run).empty()) << "after a kill at " << ms << " ms";
    kill_during("evaluate" + arg(run) + " --split val", ms);
    ok("evaluate" + arg(run) + " --split val --skip-floor");
    EXPECT_TRUE(temp_files(run).empty());
  }
  const fs::path fresh = temp_root() / "kill-prepare";
  for (int ms : {200, 600}) {
    kill_during("prepare --data " + kHam + " --out " + fresh.string() + " --image-size 64 --threads 1", ms);
    ok("prepare --data " + kHam + " --out " + fresh.string() + " --image-size 64");
    EXPECT_TRUE(temp_files(fresh).empty());
  }
}

TEST_F(RunFolder, EmptyValidationOrBadNumbersAreRefusedBeforeTraining) {
  const fs::path run = temp_root() / "noval";
  ok("prepare --data " + kHam + " --out " + run.string() + " --image-size 32 --val 0 --test 0");
  auto before = snapshot(run);
  const auto start = std::chrono::steady_clock::now();
  expect_refused(run_dermsim("train" + arg(run) + kTrainArgs), "no val images", run, before);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20)) << "before any epoch";
  const fs::path trained = copy_of_base("badnumbers");
  before = snapshot(trained);
  for (const char* flag : {" --lr nan", " --lr -1", " --weight-decay inf", " --margin nan"})
    expect_refused(run_dermsim("train" + arg(trained) + kTrainArgs + flag),
                   std::string(flag).substr(1, std::string(flag).find(' ', 1) - 1), trained, before);
}

TEST_F(RunFolder, NothingToReadIsRefusedByName) {
  const fs::path run = copy_of_base("nothing");
  const fs::path empty = temp_root() / "empty-folder";
  fs::create_directories(empty);
  const std::string csv = (temp_root() / "test-metadata.csv").string();
  write_file_atomic(csv, "image,patient,sex,age_approx,anatom_site_general\nISIC_0000001,P1,,,\n");
  const auto before = snapshot(run);
  expect_refused(run_dermsim("embed" + arg(run) + " --dir " + empty.string()), empty.string(), run, before);
  expect_refused(run_dermsim("predict" + arg(run) + " --csv " + csv + " --images " + empty.string() +
                             " --out " + (temp_root() / "p.csv").string()),
                 "ISIC_0000001", run, before);
  expect_refused(run_dermsim("evaluate" + arg(run) + " --split val --strata " + csv), csv, run, before);
}

// A small tmpfs, so that "disk full" is real. Needs root (CI runs as root).
class FullDisk : public RunFolder {
 protected:
  void SetUp() override {
    mount_point_ = temp_root() / ("tmpfs_" + std::to_string(counter_++));
    fs::create_directories(mount_point_);
    if (mount("tmpfs", mount_point_.c_str(), "tmpfs", 0, "size=64m") != 0) {
      if (std::getenv("CI")) FAIL() << "cannot mount a tmpfs (root needed): " << std::strerror(errno);
      GTEST_SKIP() << "cannot mount a tmpfs here (not root)";
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) umount2(mount_point_.c_str(), MNT_DETACH);
  }
  // Copies the base run onto the tmpfs and fills it up to `free_bytes` of free space.
  fs::path full_run(uint64_t free_bytes) {
    const fs::path run = mount_point_ / "run";
    fs::copy(temp_root() / "base", run, fs::copy_options::recursive);
    struct statvfs info;
    statvfs(mount_point_.c_str(), &info);
    const uint64_t available = uint64_t(info.f_bavail) * info.f_frsize;
    std::ofstream filler(mount_point_ / "filler", std::ios::binary);
    const std::string block(1 << 16, 'x');
    uint64_t left = available > free_bytes ? available - free_bytes : 0;
    for (; left > 0; left -= std::min<uint64_t>(left, block.size()))
      filler.write(block.data(), static_cast<std::streamsize>(std::min<uint64_t>(left, block.size())));
    return run;
  }
  fs::path mount_point_;
  bool mounted_ = false;
  static inline int counter_ = 0;
};

TEST_F(FullDisk, EveryWriterFailsCleanlyAndKeepsWhatWasThere) {
  const std::vector<std::pair<std::string, std::string>> commands = {
      {"evaluate", " --split val --skip-floor"}, {"report", " --split val"}, {"train", kTrainArgs}};
  for (const auto& [command, extra] : commands) {
    const fs::path run = full_run(/*free_bytes=*/4096);
    const auto before = snapshot(run);
    CommandResult r = run_dermsim(command + arg(run) + extra);
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.output;
    EXPECT_NE(r.output.find("no space left"), std::string::npos) << command << ": " << r.output;
    EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
    EXPECT_TRUE(temp_files(run).empty()) << command;
    if (command == "train") {
      // A fresh training first sets the old one aside: still all there, byte for byte.
      ASSERT_TRUE(fs::exists(run / "superseded")) << r.output;
      const fs::path aside = *fs::directory_iterator(run / "superseded");
      EXPECT_EQ(read_file((aside / "checkpoint-best.pt").string()), before.at("checkpoint-best.pt"));
      EXPECT_EQ(read_file((aside / "model.json").string()), before.at("model.json"));
    } else {
      EXPECT_TRUE(snapshot(run) == before) << command << ": earlier artefacts changed";
    }
    fs::remove_all(run);
    fs::remove(mount_point_ / "filler");
  }
  const fs::path fresh = mount_point_ / "prepared";
  full_run(/*free_bytes=*/1024 * 1024);  // room for the CSVs, not for the cache
  CommandResult r = run_dermsim("prepare --data " + kHam + " --out " + fresh.string() + " --image-size 64");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no space left"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cache.bin"), std::string::npos) << r.output;
  EXPECT_TRUE(temp_files(fresh).empty());
}

}  // namespace
}  // namespace dermsim
