// Split: determinism, patient/duplicate grouping, stratification, folds, CSV round trip.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "common/atomic_file.h"
#include "common/error.h"
#include "support/test_support.h"
#include "data/metadata.h"
#include "data/split.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;

using testing::error_of;

LesionRecord record(const std::string& image, const std::string& patient, int target) {
  LesionRecord r;
  r.image_name = image;
  r.patient_id = patient;
  r.target = target;
  return r;
}

// Realistic shape: 400 patients with 1-20 images each; ~10 % of patients have a melanoma
// (one or two of their images), like ISIC 2020 but enriched.
std::vector<LesionRecord> synthetic_records(unsigned seed = 11) {
  std::mt19937 gen(seed);
  std::vector<LesionRecord> records;
  for (int p = 0; p < 400; ++p) {
    int images = 1 + static_cast<int>(gen() % 20);
    bool has_melanoma = gen() % 10 == 0;
    int melanomas = has_melanoma ? 1 + static_cast<int>(gen() % std::min(2, images)) : 0;
    for (int i = 0; i < images; ++i)
      records.push_back(record("IMG_" + std::to_string(p) + "_" + std::to_string(i),
                               "IP_" + std::to_string(p), i < melanomas ? 1 : 0));
  }
  return records;
}

std::map<std::string, std::pair<Part, int>> assignment(const std::vector<SplitRow>& rows) {
  std::map<std::string, std::pair<Part, int>> out;
  for (const auto& r : rows) out[r.image_name] = {r.part, r.fold};
  return out;
}

// Part of each patient id, checked independently of the split's own group names.
void expect_patients_in_one_part(const std::vector<LesionRecord>& records, const std::vector<SplitRow>& rows) {
  ASSERT_EQ(records.size(), rows.size());
  std::map<std::string, Part> part_of_patient;
  for (size_t i = 0; i < records.size(); ++i) {
    ASSERT_EQ(rows[i].image_name, records[i].image_name);
    if (records[i].patient_id.empty()) continue;
    auto [it, inserted] = part_of_patient.emplace(records[i].patient_id, rows[i].part);
    EXPECT_EQ(it->second, rows[i].part) << "patient " << records[i].patient_id;
  }
}

TEST(Split, PartNamesRoundTrip) {
  for (Part p : {Part::kTrain, Part::kVal, Part::kTest}) EXPECT_EQ(part_from_string(to_string(p)), p);
  EXPECT_NE(error_of([] { part_from_string("validation"); }).find("validation"), std::string::npos);
}

TEST(Split, SameSeedSameSplitOtherSeedDifferentRecordOrderIrrelevant) {
  auto records = synthetic_records();
  SplitOptions options;
  options.seed = 42;
  auto a = make_split(records, {}, options);
  auto b = make_split(records, {}, options);
  EXPECT_EQ(assignment(a), assignment(b));

  auto shuffled = records;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(3));
  EXPECT_EQ(assignment(make_split(shuffled, {}, options)), assignment(a));

  options.seed = 43;
  auto c = make_split(records, {}, options);
  long moved = 0;
  for (size_t i = 0; i < a.size(); ++i) moved += a[i].part != c[i].part;
  EXPECT_GT(moved, static_cast<long>(a.size() / 10));
}

TEST(Split, NoPatientInTwoPartsAndDuplicatePairsTogether) {
  auto records = synthetic_records();
  // Duplicate pairs across different patients (as happens in ISIC 2020) must merge their groups.
  std::vector<std::pair<std::string, std::string>> pairs;
  for (int p = 0; p + 1 < 400; p += 7)
    pairs.emplace_back("IMG_" + std::to_string(p) + "_0", "IMG_" + std::to_string(p + 1) + "_0");
  pairs.emplace_back("IMG_0_0", "NOT_IN_DATASET");
  for (uint64_t seed = 0; seed < 5; ++seed) {
    SplitOptions options;
    options.seed = seed;
    auto rows = make_split(records, pairs, options);
    expect_patients_in_one_part(records, rows);
    auto parts = assignment(rows);
    for (size_t k = 0; k + 1 < pairs.size(); ++k)
      EXPECT_EQ(parts[pairs[k].first], parts[pairs[k].second]) << pairs[k].first << " " << pairs[k].second;
    std::map<std::string, std::string> group;
    for (const auto& r : rows) group[r.image_name] = r.group;
    EXPECT_EQ(group["IMG_7_3"], group["IMG_8_5"]);  // patients 7 and 8 share one group
    EXPECT_EQ(group["IMG_7_3"], "IP_7");
  }
}

TEST(Split, ImagesWithoutPatientAreTheirOwnGroups) {
  std::vector<LesionRecord> records;
  for (int i = 0; i < 100; ++i) records.push_back(record("H" + std::to_string(i), "", i % 3 == 0));
  auto rows = make_split(records, {}, SplitOptions{});
  std::set<std::string> groups;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].group, records[i].image_name);
    groups.insert(rows[i].group);
  }
  EXPECT_EQ(groups.size(), 100u);
  auto summary = summarize_split(rows);
  EXPECT_NEAR(summary[Part::kTest].images, 15, 2);
}

TEST(Split, StratifiedByImagesAndMelanomas) {
  auto records = synthetic_records();
  long total = static_cast<long>(records.size()), malignant = 0;
  for (const auto& r : records) malignant += r.target;
  ASSERT_GT(malignant, 30);
  for (uint64_t seed = 0; seed < 10; ++seed) {
    SplitOptions options;
    options.seed = seed;
    options.val_fraction = 0.2;
    options.test_fraction = 0.1;
    auto summary = summarize_split(make_split(records, {}, options));
    std::map<Part, double> want = {{Part::kTrain, 0.7}, {Part::kVal, 0.2}, {Part::kTest, 0.1}};
    for (auto [part, fraction] : want) {
      const PartSummary& s = summary[part];
      EXPECT_NEAR(double(s.images) / total, fraction, 0.01) << to_string(part) << " seed " << seed;
      EXPECT_NEAR(double(s.malignant) / malignant, fraction, 0.04) << to_string(part) << " seed " << seed;
    }
  }
}

TEST(Split, FoldsHoldOutTestAndKeepGroupsInOneFold) {
  auto records = synthetic_records();
  SplitOptions options;
  options.folds = 5;
  options.val_fold = 2;
  options.seed = 9;
  auto rows = make_split(records, {}, options);
  expect_patients_in_one_part(records, rows);
  std::map<int, long> images_per_fold;
  std::map<std::string, int> fold_of_patient;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (r.part == Part::kTest) EXPECT_EQ(r.fold, -1);
    else EXPECT_EQ(r.part == Part::kVal, r.fold == 2) << r.image_name;
    auto [it, inserted] = fold_of_patient.emplace(records[i].patient_id, r.fold);
    EXPECT_EQ(it->second, r.fold);
    ++images_per_fold[r.fold];
  }
  const double total = static_cast<double>(rows.size());
  EXPECT_NEAR(images_per_fold[-1] / total, 0.15, 0.02);
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(images_per_fold[k] / total, 0.17, 0.02) << "fold " << k;

  // Changing the validation fold relabels parts only; the folds themselves stay put.
  options.val_fold = 4;
  auto other = make_split(records, {}, options);
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(other[i].fold, rows[i].fold);
}

TEST(Split, RejectsBadOptions) {
  auto records = synthetic_records();
  auto error = [&](SplitOptions o) { return error_of([&] { make_split(records, {}, o); }); };
  SplitOptions o;
  o.val_fraction = 0.5;
  o.test_fraction = 0.5;
  EXPECT_NE(error(o).find("val + test"), std::string::npos);
  o = {};
  o.test_fraction = -0.1;
  EXPECT_NE(error(o).find("test fraction"), std::string::npos);
  o = {};
  o.folds = 1;
  EXPECT_NE(error(o).find("folds"), std::string::npos);
  o.folds = 5;
  o.val_fold = 5;
  EXPECT_NE(error(o).find("val fold"), std::string::npos);
}

TEST(Split, CsvRoundTripAndSummary) {
  auto dir = fs::temp_directory_path() / ("dermsim_split_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string path = (dir / "split.csv").string();
  std::vector<LesionRecord> records = {record("A", "P1", 1), record("B", "P1", 0), record("C", "P2", 0),
                                       record("D", "", 0), record("E", "P3", 1)};
  SplitOptions options;
  options.folds = 2;
  auto rows = make_split(records, {}, options);
  write_split_csv(path, rows);
  auto back = read_split_csv(path);
  ASSERT_EQ(back.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(back[i].image_name, rows[i].image_name);
    EXPECT_EQ(back[i].group, rows[i].group);
    EXPECT_EQ(back[i].target, rows[i].target);
    EXPECT_EQ(back[i].part, rows[i].part);
    EXPECT_EQ(back[i].fold, rows[i].fold);
  }

  std::vector<SplitRow> fixed = {{"A", "P1", 1, Part::kTrain, -1}, {"B", "P1", 0, Part::kTrain, -1},
                                 {"C", "P2", 0, Part::kVal, -1},   {"D", "D", 0, Part::kTest, -1},
                                 {"E", "P3", 1, Part::kTest, -1}};
  auto summary = summarize_split(fixed);
  EXPECT_EQ(summary[Part::kTrain].images, 2);
  EXPECT_EQ(summary[Part::kTrain].groups, 1);
  EXPECT_EQ(summary[Part::kTrain].malignant, 1);
  EXPECT_EQ(summary[Part::kVal].images, 1);
  EXPECT_EQ(summary[Part::kTest].groups, 2);
  EXPECT_EQ(summary[Part::kTest].malignant, 1);
  fs::remove_all(dir);
}

TEST(Split, ReadRejectsLeaksAndBadRows) {
  auto dir = fs::temp_directory_path() / ("dermsim_split_bad_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string path = (dir / "split.csv").string();
  const std::string header = "image_name,group,target,part,fold\n";
  auto read_error = [&](const std::string& body) {
    write_file_atomic(path, header + body);
    return error_of([&] { read_split_csv(path); });
  };
  std::string message = read_error("A,P1,0,train,-1\nB,P2,0,val,-1\nC,P1,1,test,-1\n");
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("group 'P1' is in both train (image A) and test (image C)"), std::string::npos) << message;
  message = read_error("A,P1,0,train,0\nB,P1,0,train,1\n");
  EXPECT_NE(message.find("group 'P1' is in both fold 0 (image A) and fold 1 (image B)"), std::string::npos)
      << message;
  message = read_error("A,P1,0,train,-1\nB,P2,0,validation,-1\n");
  EXPECT_NE(message.find(path + ":3: column 'part'"), std::string::npos) << message;
  message = read_error("A,P1,2,train,-1\n");
  EXPECT_NE(message.find(path + ":2: column 'target'"), std::string::npos) << message;
  message = read_error("A,P1,0,train,x\n");
  EXPECT_NE(message.find(path + ":2: column 'fold'"), std::string::npos) << message;
  message = read_error("A,P1,0,train,-1\nA,P1,0,train,-1\n");
  EXPECT_NE(message.find("line 2"), std::string::npos) << message;
  write_file_atomic(path, "image_name,group,part\nA,P,train\n");
  message = error_of([&] { read_split_csv(path); });
  EXPECT_NE(message.find("'target'"), std::string::npos) << message;

  EXPECT_NO_THROW(check_no_group_crosses_parts({{"A", "G", 0, Part::kTest, -1}, {"B", "G", 1, Part::kTest, -1}}, "ok"));
  fs::remove_all(dir);
}

TEST(Split, ShippedIsic2020SampleHasNoPatientOverlap) {
  LoadedDataset d = load_dataset({std::string(DERMSIM_SOURCE_DIR) + "/data/isic2020"});
  auto rows = make_split(d.records, d.duplicate_pairs, SplitOptions{});
  expect_patients_in_one_part(d.records, rows);
  auto parts = assignment(rows);
  for (const auto& [a, b] : d.duplicate_pairs) EXPECT_EQ(parts[a], parts[b]) << a << " " << b;
  auto summary = summarize_split(rows);
  for (Part p : {Part::kTrain, Part::kVal, Part::kTest}) {
    EXPECT_NEAR(summary[p].images / 1100.0, p == Part::kTrain ? 0.7 : 0.15, 0.03) << to_string(p);
    EXPECT_NEAR(summary[p].malignant / 302.0, p == Part::kTrain ? 0.7 : 0.15, 0.03) << to_string(p);
  }
}

}  // namespace
}  // namespace dermsim
