// The dermsim binary as a user runs it: one-line errors with non-zero exits on bad input, and the
// whole pipeline (prepare -> train -> evaluate -> predict -> score -> similar -> embed -> report) on
// the real HAM10000 sample shipped in data/, kept small (64 px, few steps) so it runs in CI.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/atomic_file.h"
#include "common/csv.h"
#include "support/test_support.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;

using Result = testing::CommandResult;
Result run(const std::string& args) { return testing::run_dermsim(args); }

fs::path temp_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("dermsim_cli_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

const std::string kHam = std::string(DERMSIM_SOURCE_DIR) + "/data/ham10000";

// A copy of the HAM sample's first rows, with its CSV edited by `edit`, for bad-input tests.
fs::path broken_copy(const std::string& name, const std::function<void(std::string&)>& edit) {
  fs::path dir = temp_dir(name);
  fs::create_directories(dir / "train");
  CsvTable table = read_csv(kHam + "/ISIC_2020_Training_GroundTruth.csv");
  std::string csv = "image_name,patient_id,sex,age_approx,anatom_site_general_challenge,diagnosis,"
                    "benign_malignant,target\r\n";
  for (size_t i = 0; i < table.rows.size(); ++i) {
    const auto& r = table.rows[i];
    if (i >= 40 && r[7] == "0") continue;  // keep it small but with both classes
    fs::copy_file(kHam + "/train/" + r[0] + ".jpg", dir / "train" / (r[0] + ".jpg"));
    std::string line;
    for (size_t c = 0; c < r.size(); ++c) line += (c ? "," : "") + r[c];
    csv += line + "\r\n";
  }
  edit(csv);
  write_file_atomic((dir / "ISIC_2020_Training_GroundTruth.csv").string(), csv);
  return dir;
}

TEST(Cli, NoArgumentsPrintsUsageAndFails) {
  Result r = run("");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("prepare"), std::string::npos);
}

TEST(Cli, ABadFlagValueIsOneLineAndExitTwo) {
  for (const char* args : {"train --run R --images-per-class 1", "similar --run R IMG --k 0",
                           "evaluate --run R --tta 9", "prepare --out R --fit stretch", "predict"}) {
    Result r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << args << ": " << r.output;
  }
  EXPECT_EQ(run("train --help").exit_code, 0);
}

TEST(Cli, ABadPrecisionIsOneLineNamingTheOption) {
  // Refused before the run is even looked at (R does not exist).
  Result r = run("evaluate --run R --precision fp16");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(r.output, "dermsim: error: --precision fp16: expected fp32 or bf16\n");
  // The card decides the precision of every inference: predict has no option to disagree with it.
  r = run("predict --run R --precision bf16 x.jpg");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("not expected: --precision"), std::string::npos) << r.output;
}

TEST(Cli, PrepareOnMissingFolderNamesIt) {
  Result r = run("prepare --data /nonexistent/isic --out " + temp_dir("missing").string() + "/run");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("/nonexistent/isic"), std::string::npos) << r.output;
}

TEST(Cli, BadTargetIsReportedWithFileAndLine) {
  fs::path data = broken_copy("badtarget", [](std::string& csv) {
    const size_t second_row = csv.find("\r\n") + 2;
    const size_t end = csv.find("\r\n", second_row);
    csv.replace(end - 1, 1, "7");  // target of the first data row
  });
  Result r = run("prepare --data " + data.string() + " --out " + (data / "run").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("ISIC_2020_Training_GroundTruth.csv:2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("target"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
}

TEST(Cli, MissingImageFailsByDefaultAndIsSkippedOnRequest) {
  fs::path data = broken_copy("missingimage", [](std::string&) {});
  const std::string victim = fs::directory_iterator(data / "train")->path().stem().string();
  fs::remove(data / "train" / (victim + ".jpg"));
  Result r = run("prepare --data " + data.string() + " --out " + (data / "run").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find(victim), std::string::npos) << r.output;
  r = run("prepare --skip-missing --image-size 32 --data " + data.string() + " --out " +
          (data / "run").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(read_file((data / "run" / "missing-images.txt").string()).find(victim), std::string::npos);
}

TEST(Cli, CorruptImageIsNamed) {
  fs::path data = broken_copy("corrupt", [](std::string&) {});
  const fs::path victim = *fs::directory_iterator(data / "train");
  write_file_atomic(victim.string(), "this is not a jpeg");
  Result r = run("prepare --image-size 32 --data " + data.string() + " --out " + (data / "run").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find(victim.filename().string()), std::string::npos) << r.output;
}

TEST(Cli, CommandsOnAnUnpreparedRunSayWhatToDo) {
  fs::path dir = temp_dir("unprepared");
  for (const char* command : {"train", "evaluate", "report"}) {
    Result r = run(std::string(command) + " --run " + dir.string());
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.output;
    EXPECT_NE(r.output.find("dermsim prepare"), std::string::npos) << command << ": " << r.output;
  }
}

}  // namespace
}  // namespace dermsim
