// Hostile input through the real CLI: devices, FIFOs, directories, non-UTF-8 text, scores that are
// not probabilities, broken model cards and forged image headers. Every one must end as a
// UserError: exit 2, one line naming the file (and line/column where there is one), and leave what
// is already in the run folder untouched. One small trained run (data/ham10000, 64 px) is shared.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/csv.h"
#include "support/test_support.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;

const fs::path kHam = fs::path(DERMSIM_SOURCE_DIR) / "data/ham10000";
const char* kTrainArgs = " --epochs 1 --images-per-class 8 --embed-dim 16 --threads 2";

// Every file of a folder with its bytes: to check that a failed command changed nothing.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) files[entry.path().string()] = read_file(entry.path().string());
  return files;
}

// A user error as the CLI must report it: exit 2, exactly one line, starting with `where`.
void expect_one_line_user_error(const testing::CommandResult& r, const std::string& where,
                                const std::string& why) {
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line:\n" << r.output;
  EXPECT_NE(r.output.find(where), std::string::npos) << "names " << where << ":\n" << r.output;
  EXPECT_NE(r.output.find(why), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
}

// A copy of the HAM sample whose image `replaced` is swapped for `bytes` saved as `file_name`.
fs::path ham_copy_with(const fs::path& dir, const std::string& replaced, const std::string& file_name,
                       const std::string& bytes) {
  fs::create_directories(dir);
  fs::copy(kHam, dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  fs::remove(dir / "train" / (replaced + ".jpg"));
  write_file_atomic((dir / "train" / file_name).string(), bytes);
  return dir;
}

std::string first_ham_image() { return read_csv((kHam / "ISIC_2020_Training_GroundTruth.csv").string()).rows.at(0).at(0); }

class HostileInput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("dermsim_hostile_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    run_ = (dir_ / "run").string();
    for (const std::string args : {"prepare --data " + kHam.string() + " --out " + run_ + " --image-size 64",
                                   "train --run " + run_ + kTrainArgs, "evaluate --run " + run_}) {
      const auto r = testing::run_dermsim(args);
      ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.output;
    }
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static fs::path dir_;
  static std::string run_;
};
fs::path HostileInput::dir_;
std::string HostileInput::run_;

// predict on a device, a FIFO and a directory. Today predict treats an unreadable image as a
// warning and goes on (one bad upload must not stop a batch), so these assert what the image
// reader guarantees: it returns at once (no 8 GB read of /dev/zero, no wait on the FIFO), names
// the file and why, and the run folder is untouched. The lead owns predict: see the report for
// making "every image unreadable" an exit-2 error.
TEST_F(HostileInput, PredictOnDeviceFifoOrDirectoryNamesItAndReturnsAtOnce) {
  const std::string fifo = (dir_ / "pipe.jpg").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string folder = (dir_ / "folder.jpg").string();
  fs::create_directories(folder);
  const auto before = snapshot(run_);
  for (const auto& [path, why] : std::map<std::string, std::string>{
           {"/dev/zero", "a device"}, {fifo, "a FIFO"}, {folder, "a directory"}}) {
    const auto start = std::chrono::steady_clock::now();
    const auto r = testing::run_dermsim("predict --run " + run_ + " " + path + " --out " +
                                        (dir_ / "predictions.csv").string());
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30)) << path;
    EXPECT_EQ(r.exit_code, 2) << "nothing readable to predict: " << r.output;
    EXPECT_NE(r.output.find(path + ": not a regular file (" + why), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
  }
  EXPECT_EQ(snapshot(run_), before);
}

TEST_F(HostileInput, MalformedModelCardIsAUserErrorNamingIt) {
  // Broken in the file itself, or well-formed and of this checkpoint but with a bad classifier.
  const std::string card = read_file(run_ + "/model.json");
  nlohmann::json bad_classifier = nlohmann::json::parse(card);
  bad_classifier["classifier"] = {{"type", "knn"}, {"k", "three"}};
  nlohmann::json bad_threshold = nlohmann::json::parse(card);
  bad_threshold["threshold"] = "high";
  const std::vector<std::string> broken = {
      card.substr(0, card.size() / 2),  // truncated
      "[1, 2, 3]\n",                    // wrong type at the top
      bad_classifier.dump(), bad_threshold.dump(),
  };
  const std::string image = (kHam / "train" / (first_ham_image() + ".jpg")).string();
  for (const auto& contents : broken) {
    write_file_atomic(run_ + "/model.json", contents);
    const auto r = testing::run_dermsim("predict --run " + run_ + " " + image + " --out " +
                                        (dir_ / "predictions.csv").string());
    expect_one_line_user_error(r, "model.json", "");
  }
  write_file_atomic(run_ + "/model.json", card);
}

TEST_F(HostileInput, ScoreRefusesValuesThatAreNotProbabilities) {
  const std::string truth = (dir_ / "truth.csv").string(), pred = (dir_ / "pred.csv").string();
  write_file_atomic(truth, "image_name,target\nA,0\nB,1\nC,0\n");
  for (const std::string bad : {"1.3", "87", "-0.1"}) {
    write_file_atomic(pred, "image_name,target\nA,0.2\nB," + bad + "\nC,0.1\n");
    const auto r = testing::run_dermsim("score --truth " + truth + " --pred " + pred);
    expect_one_line_user_error(r, pred + ":3: column 'target': " + bad, "not a probability in [0, 1]");
  }
  write_file_atomic(pred, "image_name,target\nA,0.2\nB,1\nC,0\n");
  EXPECT_EQ(testing::run_dermsim("score --truth " + truth + " --pred " + pred).exit_code, 0);
}

TEST_F(HostileInput, Latin1FieldIsRefusedAtPrepareWithLineAndColumn) {
  const fs::path data = dir_ / "latin1";
  fs::copy(kHam, data, fs::copy_options::recursive);
  const std::string csv = (data / "ISIC_2020_Training_GroundTruth.csv").string();
  CsvTable table = read_csv(csv);
  table.rows[2][table.column("diagnosis")] = "n\xE6vus";  // Latin-1 "naevus"
  write_csv(csv, table.header, table.rows);
  const std::string out = (dir_ / "latin1-run").string();
  const auto r = testing::run_dermsim("prepare --data " + data.string() + " --out " + out);
  expect_one_line_user_error(r, csv + ":4: column 'diagnosis': not valid UTF-8", "0xE6");
  EXPECT_FALSE(fs::exists(out + "/cache.bin"));
  // predict --csv reads test metadata through the same loader.
  const auto p = testing::run_dermsim("predict --run " + run_ + " --csv " + csv + " --images " +
                                      (data / "train").string());
  expect_one_line_user_error(p, csv + ":4: column 'diagnosis': not valid UTF-8", "0xE6");
}

// An inverted-CMYK (YCCK) JPEG, as Photoshop saves, of `rgb_jpeg`'s pixels.
std::string as_cmyk_jpeg(const std::string& rgb_jpeg) {
  tjhandle tj = tjInitDecompress();
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(rgb_jpeg.data());
  tjDecompressHeader3(tj, data, rgb_jpeg.size(), &width, &height, &subsampling, &colorspace);
  std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
  EXPECT_EQ(tjDecompress2(tj, data, rgb_jpeg.size(), rgb.data(), width, 0, height, TJPF_RGB, 0), 0);
  tjDestroy(tj);
  std::vector<uint8_t> cmyk(static_cast<size_t>(width) * height * 4);
  for (size_t i = 0; i < rgb.size() / 3; ++i) {  // no ink but black: K = max, C = M = Y = 255 * v / K
    const unsigned k = std::max({rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]});
    for (int c = 0; c < 3; ++c) cmyk[i * 4 + c] = k ? static_cast<uint8_t>(255 * rgb[i * 3 + c] / k) : 255;
    cmyk[i * 4 + 3] = static_cast<uint8_t>(k);
  }
  tjhandle out = tjInitCompress();
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  EXPECT_EQ(tjCompress2(out, cmyk.data(), width, 0, height, TJPF_CMYK, &jpeg, &size, TJSAMP_444, 95, 0), 0);
  std::string bytes(reinterpret_cast<char*>(jpeg), size);
  tjFree(jpeg);
  tjDestroy(out);
  return bytes;
}

TEST_F(HostileInput, CmykJpegInADatasetIsPrepared) {
  const std::string name = first_ham_image();
  const fs::path data = ham_copy_with(dir_ / "cmyk", name, name + ".jpg",
                                      as_cmyk_jpeg(read_file((kHam / "train" / (name + ".jpg")).string())));
  const auto r = testing::run_dermsim("prepare --data " + data.string() + " --out " +
                                      (dir_ / "cmyk-run").string() + " --image-size 64");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// A valid PNG signature and IHDR claiming 20000 x 20000 (1.2 GB of RGB), and no pixel data.
std::string huge_png_header() {
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  std::string chunk = "IHDR" + be32(20000) + be32(20000) + std::string("\x08\x02\x00\x00\x00", 5);
  const auto crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(chunk.data()), chunk.size()));
  // libpng reads the header up to the first IDAT: an empty one, then IEND.
  std::string out = std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + chunk + be32(crc);
  for (const char* type : {"IDAT", "IEND"})
    out += be32(0) + type + be32(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(type), 4)));
  return out;
}

TEST_F(HostileInput, HugeDimensionHeaderIsRefusedAtOnce) {
  const std::string name = first_ham_image();
  const fs::path data = ham_copy_with(dir_ / "huge", name, name + ".png", huge_png_header());
  const std::string out = (dir_ / "huge-run").string();
  const auto start = std::chrono::steady_clock::now();
  const auto r = testing::run_dermsim("prepare --data " + data.string() + " --out " + out + " --image-size 64");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  // prepare's ProgressBar prints its 0% line even when stderr is not a terminal (common/progress,
  // not this test's to change): the error must be the one line after it.
  testing::CommandResult error_only = r;
  if (r.output.rfind("decode images [", 0) == 0) error_only.output = r.output.substr(r.output.find('\n') + 1);
  expect_one_line_user_error(error_only, (data / "train" / (name + ".png")).string(),
                             "20000x20000 pixels; the limit is 100 megapixels");
}

TEST_F(HostileInput, FifoInTheImageFolderIsNotWaitedOn) {
  const std::string name = first_ham_image();
  const fs::path data = ham_copy_with(dir_ / "fifo", name, name + ".keep", "");
  fs::remove(data / "train" / (name + ".keep"));
  ASSERT_EQ(::mkfifo((data / "train" / (name + ".jpg")).c_str(), 0600), 0);
  const auto r = testing::run_dermsim("prepare --data " + data.string() + " --out " +
                                      (dir_ / "fifo-run").string() + " --image-size 64");
  // The image folder lists regular files only, so the FIFO is a missing image, named with its line.
  expect_one_line_user_error(r, "ISIC_2020_Training_GroundTruth.csv:2: column 'image_name'", name);
}

}  // namespace
}  // namespace dermsim
