// Metadata loading: layout detection, column aliases/overrides, every validation error, the shipped sample.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "common/atomic_file.h"
#include "common/csv.h"
#include "common/error.h"
#include "support/test_support.h"
#include "data/metadata.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;

using testing::error_of;

// A scratch dataset folder; image files are one byte (metadata never decodes them).
class DataDir {
 public:
  DataDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("dermsim_meta_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~DataDir() { fs::remove_all(path_); }
  std::string str() const { return path_.string(); }
  std::string file(const std::string& relative, const std::string& contents = "x") const {
    fs::path p = path_ / relative;
    fs::create_directories(p.parent_path());
    write_file_atomic(p.string(), contents);
    return p.string();
  }
  void images(const std::string& folder, const std::vector<std::string>& names) const {
    for (const auto& name : names) file(folder + "/" + name + ".jpg");
  }

 private:
  fs::path path_;
};

const char* kOfficialHeader =
    "image_name,patient_id,sex,age_approx,anatom_site_general_challenge,diagnosis,benign_malignant,target\r\n";

// Four rows of the official layout (CRLF, empty fields), with images for all.
void make_official(const DataDir& dir) {
  dir.file("ISIC_2020_Training_GroundTruth.csv",
           std::string(kOfficialHeader) +
               "ISIC_0000001,IP_1,female,45,head/neck,unknown,benign,0\r\n"
               "ISIC_0000002,IP_1,female,45,,nevus,benign,0\r\n"
               "ISIC_0000003,IP_2,,,torso,melanoma,malignant,1\r\n"
               "ISIC_0000004,IP_3,male,70,lower extremity,unknown,benign,0\r\n");
  dir.images("train", {"ISIC_0000001", "ISIC_0000002", "ISIC_0000003", "ISIC_0000004"});
}

// The official layout plus one more row (line 6, image ISIC_0000009); returns the CSV's path.
std::string official_with_extra_row(const DataDir& dir, const std::string& row) {
  make_official(dir);
  const std::string csv = dir.str() + "/ISIC_2020_Training_GroundTruth.csv";
  write_file_atomic(csv, read_file(csv) + row + "\r\n");
  dir.images("train", {"ISIC_0000009"});
  return csv;
}

LoadedDataset load_dir(const DataDir& dir, bool skip_missing = false) {
  LoadOptions options;
  options.data_dir = dir.str();
  options.skip_missing = skip_missing;
  return load_dataset(options);
}

TEST(Metadata, OfficialLayoutIsDetectedAndParsed) {
  DataDir dir;
  make_official(dir);
  LoadedDataset d = load_dir(dir);
  EXPECT_EQ(d.layout, "official");
  ASSERT_EQ(d.records.size(), 4u);
  const LesionRecord& first = d.records[0];
  EXPECT_EQ(first.image_name, "ISIC_0000001");
  EXPECT_EQ(first.patient_id, "IP_1");
  EXPECT_EQ(first.sex, "female");
  EXPECT_EQ(first.age, 45);
  EXPECT_EQ(first.site, "head/neck");
  EXPECT_EQ(first.target, 0);
  EXPECT_EQ(first.csv_line, 2);
  EXPECT_EQ(fs::path(first.image_path), fs::path(dir.str()) / "train" / "ISIC_0000001.jpg");
  const LesionRecord& third = d.records[2];
  EXPECT_TRUE(third.sex.empty());
  EXPECT_TRUE(std::isnan(third.age));
  EXPECT_EQ(third.diagnosis, "melanoma");
  EXPECT_EQ(third.target, 1);
  EXPECT_TRUE(d.missing_images.empty());
  EXPECT_TRUE(d.duplicate_pairs.empty());
}

TEST(Metadata, KaggleLayoutIsDetected) {
  DataDir dir;
  dir.file("train-metadata.csv",
           "isic_id,patient_id,target,sex,age_approx,anatom_site_general,extra\n"
           "ISIC_1,IP_1,0,male,40,torso,q\n"
           "ISIC_2,IP_2,1,female,,upper extremity,r\n");
  dir.images("train-image/image", {"ISIC_1", "ISIC_2"});
  LoadedDataset d = load_dir(dir);
  EXPECT_EQ(d.layout, "kaggle");
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.records[1].image_name, "ISIC_2");
  EXPECT_EQ(d.records[1].site, "upper extremity");
  EXPECT_EQ(d.records[1].target, 1);
  EXPECT_EQ(d.records[0].age, 40);
  EXPECT_EQ(fs::path(d.records[1].image_path), fs::path(dir.str()) / "train-image/image/ISIC_2.jpg");
}

TEST(Metadata, OfficialTestMetadataHasNoLabels) {
  DataDir dir;
  dir.file("ISIC_2020_Test_Metadata.csv",
           "image,patient,sex,age_approx,anatom_site_general\r\n"
           "ISIC_9,IP_9,male,50,torso\r\nISIC_8,IP_9,male,50,\r\n");
  dir.images("test", {"ISIC_9", "ISIC_8"});
  LoadOptions options;
  options.data_dir = dir.str();
  options.require_labels = false;
  LoadedDataset d = load_dataset(options);
  EXPECT_EQ(d.layout, "official-test");
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.records[0].patient_id, "IP_9");
  EXPECT_EQ(d.records[0].target, -1);
  EXPECT_EQ(d.records[1].target, -1);

  // Training on test metadata: the missing label column is named, with the columns that are there.
  options.require_labels = true;
  std::string message = error_of([&] { load_dataset(options); });
  EXPECT_NE(message.find("'target'"), std::string::npos) << message;
  EXPECT_NE(message.find("columns found: image, patient, sex"), std::string::npos) << message;
}

TEST(Metadata, ExplicitCsvKaggleTestSpellingAndColumnOverrides) {
  DataDir dir;
  std::string csv = dir.file("meta/ISIC_2020_Test_Metadata.csv",
                             "image_name,patient_id,sex,age_approx,anatom_site_general\nA,P,,,\n");
  dir.images("meta/test", {"A"});
  LoadOptions options;
  options.csv_path = csv;
  options.require_labels = false;
  LoadedDataset d = load_dataset(options);
  EXPECT_EQ(d.layout, "explicit");
  EXPECT_EQ(fs::path(d.image_dir), fs::path(dir.str()) / "meta/test");
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0].image_name, "A");

  std::string custom = dir.file("custom.csv", "lesion,who,label\nL1,W1,1\nL2,W2,0\n");
  dir.images("pics", {"L1", "L2"});
  options = {};
  options.csv_path = custom;
  options.image_dir = dir.str() + "/pics";
  options.columns.image = "lesion";
  options.columns.patient = "who";
  options.columns.target = "label";
  d = load_dataset(options);
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.records[0].patient_id, "W1");
  EXPECT_EQ(d.records[0].target, 1);

  options.columns.target = "verdict";
  std::string message = error_of([&] { load_dataset(options); });
  EXPECT_NE(message.find("'verdict'"), std::string::npos) << message;
  EXPECT_NE(message.find("columns found: lesion, who, label"), std::string::npos) << message;
}

TEST(Metadata, NoRecognisedLayoutSaysWhatWasLookedFor) {
  DataDir dir;
  dir.file("readme.txt");
  std::string message = error_of([&] { load_dir(dir); });
  EXPECT_NE(message.find(dir.str()), std::string::npos) << message;
  for (const char* name : {"ISIC_2020_Training_GroundTruth.csv", "train-metadata.csv", "ISIC_2020_Test_Metadata.csv"})
    EXPECT_NE(message.find(name), std::string::npos) << message;
  EXPECT_NE(error_of([&] { load_dataset({dir.str() + "/nope"}); }).find("not found"), std::string::npos);
}

TEST(Metadata, MissingRequiredColumnListsColumnsFound) {
  DataDir dir;
  dir.file("ISIC_2020_Training_GroundTruth.csv", "image_name,sex,target\nA,male,0\n");
  std::string message = error_of([&] { load_dir(dir); });
  EXPECT_NE(message.find("ISIC_2020_Training_GroundTruth.csv"), std::string::npos) << message;
  EXPECT_NE(message.find("'patient_id'"), std::string::npos) << message;
  EXPECT_NE(message.find("columns found: image_name, sex, target"), std::string::npos) << message;
}

// Each bad row gives "<csv>:<line>: column '<name>': ..." for the right line and column.
TEST(Metadata, BadValuesNameFileLineAndColumn) {
  struct Case {
    std::string row, column, needle;
  };
  std::vector<Case> cases = {
      {"ISIC_0000009,IP_9,male,40,torso,unknown,benign,2", "target", "got '2'"},
      {"ISIC_0000009,IP_9,male,40,torso,unknown,benign,", "target", "got ''"},
      {"ISIC_0000009,IP_9,male,40,torso,melanoma,benign,1", "benign_malignant", "says benign"},
      {"ISIC_0000009,IP_9,male,40,torso,unknown,maybe,0", "benign_malignant", "maybe"},
      {"ISIC_0000009,IP_9,male,forty,torso,unknown,benign,0", "age_approx", "forty"},
      {",IP_9,male,40,torso,unknown,benign,0", "image_name", "empty image name"},
  };
  for (const auto& c : cases) {
    DataDir dir;
    const std::string csv = official_with_extra_row(dir, c.row);
    std::string message = error_of([&] { load_dir(dir); });
    EXPECT_NE(message.find(csv + ":6: column '" + c.column + "'"), std::string::npos) << message;
    EXPECT_NE(message.find(c.needle), std::string::npos) << message;
  }
}

TEST(Metadata, TextThatIsNotUtf8NamesFileLineColumnAndByte) {
  struct Case {
    std::string row, column, needle;
  };
  const std::vector<Case> cases = {
      {"ISIC_0000009,IP_\xE9t\xE9,male,40,torso,unknown,benign,0", "patient_id", "byte 0xE9 at byte 4"},
      {"ISIC_0000009,IP_9,male,40,torso,n\xE6vus,benign,0", "diagnosis", "byte 0xE6"},
      {"ISIC_000000\xB9,IP_9,male,40,torso,unknown,benign,0", "image_name", "byte 0xB9"},
      {"ISIC_0000009,IP_9,m\xE2le,40,torso,unknown,benign,0", "sex", "byte 0xE2"},
      {"ISIC_0000009,IP_9,male,40,t\xC3,unknown,benign,0", "anatom_site_general_challenge",
       "byte 0xC3"},                                                                    // truncated
      {"ISIC_0000009,IP_9,male,40,\xC0\xAF,unknown,benign,0", "anatom_site_general_challenge",
       "byte 0xC0"},                                                                    // overlong
      {"ISIC_0000009,IP_9,male,40,\xED\xA0\x80,unknown,benign,0", "anatom_site_general_challenge",
       "byte 0xED"},                                                                    // surrogate
      {"ISIC_0000009,IP_9,male,40,\xF4\x90\x80\x80,unknown,benign,0",
       "anatom_site_general_challenge", "byte 0xF4"},                                   // > U+10FFFF
  };
  for (const auto& c : cases) {
    DataDir dir;
    const std::string csv = official_with_extra_row(dir, c.row);
    for (bool require_labels : {true, false}) {
      LoadOptions options;
      options.data_dir = dir.str();
      options.skip_missing = true;
      options.require_labels = require_labels;
      std::string message = error_of([&] { load_dataset(options); });
      EXPECT_EQ(message.rfind(csv + ":6: column '" + c.column + "': not valid UTF-8", 0), 0u) << message;
      EXPECT_NE(message.find(c.needle), std::string::npos) << message;
    }
  }
}

TEST(Metadata, Utf8TextOfEveryLengthIsAccepted) {
  DataDir dir;
  make_official(dir);
  std::string csv = dir.str() + "/ISIC_2020_Training_GroundTruth.csv";
  // 2-, 3- and 4-byte sequences, including the largest code point U+10FFFF.
  const std::string patient = "IP_\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF";
  write_file_atomic(csv, read_file(csv) + "ISIC_0000009," + patient + ",male,40,torso,n\xC3\xA6vus,benign,0\r\n");
  dir.images("train", {"ISIC_0000009"});
  const LoadedDataset dataset = load_dir(dir);
  ASSERT_EQ(dataset.records.size(), 5u);
  EXPECT_EQ(dataset.records[4].patient_id, patient);
}

TEST(Metadata, Latin1HeaderAndDuplicatesCsvAreRefusedToo) {
  DataDir dir;
  make_official(dir);
  dir.file("ISIC_2020_Training_Duplicates.csv", "image_name_1,image_name_2\nISIC_0000001,ISIC_\xE9" "0002\n");
  std::string message = error_of([&] { load_dir(dir); });
  EXPECT_EQ(message.rfind(dir.str() + "/ISIC_2020_Training_Duplicates.csv:2: column 'image_name_2': not valid UTF-8", 0), 0u) << message;

  DataDir other;
  other.file("ISIC_2020_Training_GroundTruth.csv", "image_name,patient_id,target,r\xE9gion\nISIC_0000001,IP_1,0,x\n");
  message = error_of([&] { load_dir(other); });
  EXPECT_EQ(message.rfind(other.str() + "/ISIC_2020_Training_GroundTruth.csv:1: column '#4 (header)': not valid UTF-8", 0), 0u) << message;
}

TEST(Metadata, DuplicateImageNameNamesBothLines) {
  DataDir dir;
  make_official(dir);
  std::string csv = dir.str() + "/ISIC_2020_Training_GroundTruth.csv";
  write_file_atomic(csv, read_file(csv) + "ISIC_0000002,IP_5,male,40,torso,unknown,benign,0\r\n");
  std::string message = error_of([&] { load_dir(dir); });
  EXPECT_NE(message.find(csv + ":6:"), std::string::npos) << message;
  EXPECT_NE(message.find("ISIC_0000002"), std::string::npos) << message;
  EXPECT_NE(message.find("line 3"), std::string::npos) << message;
}

TEST(Metadata, MissingImagesFailOrAreSkippedAndListed) {
  DataDir dir;
  make_official(dir);
  fs::remove(dir.str() + "/train/ISIC_0000002.jpg");
  fs::remove(dir.str() + "/train/ISIC_0000004.jpg");
  std::string message = error_of([&] { load_dir(dir); });
  EXPECT_NE(message.find("GroundTruth.csv:3:"), std::string::npos) << message;
  EXPECT_NE(message.find("ISIC_0000002.jpg"), std::string::npos) << message;
  EXPECT_NE(message.find("2 of 4"), std::string::npos) << message;

  LoadedDataset d = load_dir(dir, /*skip_missing=*/true);
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.records[0].image_name, "ISIC_0000001");
  EXPECT_EQ(d.records[1].image_name, "ISIC_0000003");
  EXPECT_EQ(d.missing_images, (std::vector<std::string>{"ISIC_0000002", "ISIC_0000004"}));

  std::string list = dir.str() + "/skipped.csv";
  write_missing_list(list, d.missing_images);
  CsvTable back = read_csv(list);
  EXPECT_EQ(back.header, (std::vector<std::string>{"image_name"}));
  EXPECT_EQ(back.rows, (std::vector<std::vector<std::string>>{{"ISIC_0000002"}, {"ISIC_0000004"}}));

  fs::remove_all(dir.str() + "/train");
  EXPECT_NE(error_of([&] { load_dir(dir); }).find("image folder not found"), std::string::npos);
}

TEST(Metadata, FallsBackToJpegAndPngExtensions) {
  DataDir dir;
  make_official(dir);
  fs::rename(dir.str() + "/train/ISIC_0000002.jpg", dir.str() + "/train/ISIC_0000002.jpeg");
  fs::rename(dir.str() + "/train/ISIC_0000003.jpg", dir.str() + "/train/ISIC_0000003.png");
  dir.file("train/ISIC_0000004.png");  // .jpg wins when both exist
  LoadedDataset d = load_dir(dir);
  EXPECT_EQ(fs::path(d.records[1].image_path).filename(), "ISIC_0000002.jpeg");
  EXPECT_EQ(fs::path(d.records[2].image_path).filename(), "ISIC_0000003.png");
  EXPECT_EQ(fs::path(d.records[3].image_path).filename(), "ISIC_0000004.jpg");
}

TEST(Metadata, NeedsBothClassesWhenLabelsAreRequired) {
  DataDir dir;
  make_official(dir);
  fs::remove(dir.str() + "/train/ISIC_0000003.jpg");  // the only malignant image
  std::string message = error_of([&] { load_dir(dir, /*skip_missing=*/true); });
  EXPECT_NE(message.find("no malignant"), std::string::npos) << message;
  EXPECT_NE(message.find("column 'target'"), std::string::npos) << message;

  DataDir all_malignant;
  all_malignant.file("train-metadata.csv", "isic_id,patient_id,target\nA,P,1\nB,Q,1\n");
  all_malignant.images("train-image/image", {"A", "B"});
  message = error_of([&] { load_dir(all_malignant); });
  EXPECT_NE(message.find("no benign"), std::string::npos) << message;
}

TEST(Metadata, DuplicatePairsKeptOnlyWhenBothImagesArePresent) {
  DataDir dir;
  make_official(dir);
  dir.file("ISIC_2020_Training_Duplicates.csv",
           "image_name_1,image_name_2\r\nISIC_0000001,ISIC_0000004\r\nISIC_0000002,ISIC_7777777\r\n"
           "ISIC_0000003,ISIC_0000002\r\n");
  LoadedDataset d = load_dir(dir);
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(d.duplicate_pairs, (Pairs{{"ISIC_0000001", "ISIC_0000004"}, {"ISIC_0000003", "ISIC_0000002"}}));

  fs::remove(dir.str() + "/train/ISIC_0000004.jpg");
  d = load_dir(dir, /*skip_missing=*/true);
  EXPECT_EQ(d.duplicate_pairs, (Pairs{{"ISIC_0000003", "ISIC_0000002"}}));
}

TEST(Metadata, ShippedIsic2020SampleLoads) {
  LoadedDataset d = load_dataset({std::string(DERMSIM_SOURCE_DIR) + "/data/isic2020"});
  EXPECT_EQ(d.layout, "official");
  EXPECT_EQ(d.records.size(), 1100u);
  std::set<std::string> patients;
  long malignant = 0;
  for (const auto& r : d.records) {
    patients.insert(r.patient_id);
    malignant += r.target;
    EXPECT_TRUE(fs::is_regular_file(r.image_path)) << r.image_path;
  }
  EXPECT_EQ(malignant, 302);
  EXPECT_EQ(patients.size(), 267u);
  std::set<std::string> names;
  for (const auto& r : d.records) names.insert(r.image_name);
  for (const auto& [a, b] : d.duplicate_pairs) EXPECT_TRUE(names.count(a) && names.count(b)) << a << " " << b;
}

TEST(Metadata, ShippedHam10000SampleLoadsWithoutPatients) {
  LoadedDataset d = load_dataset({std::string(DERMSIM_SOURCE_DIR) + "/data/ham10000"});
  EXPECT_EQ(d.records.size(), 300u);
  long malignant = 0;
  for (const auto& r : d.records) {
    EXPECT_TRUE(r.patient_id.empty());
    malignant += r.target;
  }
  EXPECT_EQ(malignant, 120);
}

}  // namespace
}  // namespace dermsim
