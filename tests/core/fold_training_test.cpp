// k-fold training through the real CLI on the HAM sample (64 px, 2 folds, two short epochs per
// fold): every fold trained into RUN/folds/k/, the out-of-fold file holds every non-test image once,
// each scored by the fold that validated on it, the ensemble is the mean of its folds, a resume
// after a kill -9 continues the unfinished fold, stale or mismatched state is refused, and folds
// whose cards read age, sex and site predict inputs without them through their image-only fallbacks.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "classify/reference_index.h"
#include "common/atomic_file.h"
#include "common/csv.h"
#include "metrics/ranking.h"
#include "support/test_support.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::run_dermsim;
constexpr auto ok = testing::run_dermsim_ok;

const std::string kHam = std::string(DERMSIM_SOURCE_DIR) + "/data/ham10000";
const std::string kHamCsv = kHam + "/ISIC_2020_Training_GroundTruth.csv";  // with age and sex
const std::string kTrainArgs = " --epochs 2 --images-per-class 8 --embed-dim 32 --threads 2";

fs::path temp_root() { return fs::temp_directory_path() / ("dermsim_folds_" + std::to_string(getpid())); }

std::string prepared(const std::string& name) {
  const std::string run = (temp_root() / name).string();
  ok("prepare --data " + kHam + " --out " + run + " --image-size 64 --folds 2");
  return run;
}

// image_name -> P(malignant) as `predict` writes it (6 decimals).
std::map<std::string, double> predicted(const std::string& args, const std::string& out) {
  ok("predict " + args + " --out " + out);
  std::map<std::string, double> p;
  for (const auto& row : read_csv(out).rows) p[row[0]] = std::stod(row[1]);
  return p;
}

// A refusal: exit 2, one line naming `names`.
void expect_refused(const CommandResult& r, const std::string& names) {
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
  EXPECT_NE(r.output.find(names), std::string::npos) << "should name " << names << ": " << r.output;
}

// One k-fold training, made once; tests that change files work on a copy.
class FoldTraining : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::remove_all(temp_root());
    run_ = prepared("base");
    train_output_ = ok("train --folds --run " + run_ + kTrainArgs).output;
  }
  static void TearDownTestSuite() { fs::remove_all(temp_root()); }

  static std::string copy_of(const std::string& name) {
    const fs::path copy = temp_root() / name;
    fs::copy(run_, copy, fs::copy_options::recursive);
    return copy.string();
  }

  static std::string run_, train_output_;
};
std::string FoldTraining::run_, FoldTraining::train_output_;

TEST_F(FoldTraining, TrainsEveryFoldIntoItsOwnFolderOnTheOneCache) {
  for (int k = 0; k < 2; ++k) {
    const std::string fold = run_ + "/folds/" + std::to_string(k);
    for (const char* file : {"train.json", "checkpoint-best.pt", "checkpoint-last.pt", "model.json"})
      EXPECT_TRUE(fs::exists(fold + "/" + file)) << fold << "/" << file;
    EXPECT_EQ(read_csv(fold + "/training-log.csv").rows.size(), 2u) << fold;
    EXPECT_FALSE(fs::exists(fold + "/cache.bin")) << "folds read the run's cache, never a copy";
    EXPECT_NE(train_output_.find("fold " + std::to_string(k + 1) + "/2"), std::string::npos) << train_output_;
  }
  EXPECT_FALSE(fs::exists(run_ + "/checkpoint-best.pt")) << "no network at the top: the folds are the model";
  EXPECT_TRUE(fs::exists(run_ + "/ensemble.json"));
}

TEST_F(FoldTraining, FoldZeroTrainsExactlyAsAPlainRunValidatedOnFoldZero) {
  // prepare --folds 2 validates on fold 0: a plain training of the same folder is fold 0's.
  const std::string plain = prepared("plain");
  ok("train --run " + plain + kTrainArgs);
  CsvTable a = read_csv(plain + "/training-log.csv"), b = read_csv(run_ + "/folds/0/training-log.csv");
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (size_t i = 0; i < a.rows.size(); ++i)
    for (const char* column : {"step", "train_loss", "val_auc"})
      EXPECT_EQ(a.rows[i][a.column(column)], b.rows[i][b.column(column)]) << column << " epoch " << i + 1;
}

TEST_F(FoldTraining, OutOfFoldScoresEveryNonTestImageOnceByTheFoldThatDidNotTrainOnIt) {
  const CsvTable split = read_csv(run_ + "/split.csv");
  std::map<std::string, int> fold_of;
  std::set<std::string> test;
  for (const auto& row : split.rows) {
    if (row[split.column("part")] == "test") test.insert(row[0]);
    else fold_of[row[0]] = std::stoi(row[split.column("fold")]);
  }
  const CsvTable oof = read_csv(run_ + "/scores-oof.csv");
  std::map<std::string, int> seen;
  std::vector<int> y;
  std::vector<double> scores;
  std::map<int, std::vector<std::string>> images_of_fold;
  for (const auto& row : oof.rows) {
    ++seen[row[0]];
    EXPECT_EQ(test.count(row[0]), 0u) << row[0] << " is a test image";
    EXPECT_EQ(std::stoi(row[oof.column("fold")]), fold_of[row[0]]) << row[0];
    y.push_back(std::stoi(row[oof.column("target")]));
    scores.push_back(std::stod(row[oof.column("score")]));
    if (images_of_fold[fold_of[row[0]]].size() < 6) images_of_fold[fold_of[row[0]]].push_back(row[0]);
  }
  EXPECT_EQ(seen.size(), fold_of.size()) << "every non-test image";
  for (const auto& [name, count] : seen) EXPECT_EQ(count, 1) << name;

  // Each image's score is the one its own fold's network and card give it through `predict --fold`:
  // with its age and sex from the CSV (`score`), and from the image file alone (`image_only_score`,
  // the fold's fallback, when the folds' cards read metadata; else `score` again).
  const int image_only_column = oof.column(oof.column("image_only_score") >= 0 ? "image_only_score" : "score");
  std::map<std::string, double> oof_score, oof_image_only;
  for (size_t i = 0; i < oof.rows.size(); ++i) {
    oof_score[oof.rows[i][0]] = scores[i];
    oof_image_only[oof.rows[i][0]] = std::stod(oof.rows[i][image_only_column]);
  }
  for (const auto& [k, names] : images_of_fold) {
    std::string images;
    for (const auto& name : names) images += " " + kHam + "/train/" + name + ".jpg";
    const std::string out = (temp_root() / ("fold" + std::to_string(k) + ".csv")).string();
    const auto from_files = predicted("--run " + run_ + " --fold " + std::to_string(k) + images, out);
    const auto from_csv = predicted("--run " + run_ + " --fold " + std::to_string(k) + " --csv " + kHamCsv, out);
    for (const auto& name : names) {
      EXPECT_NEAR(from_files.at(name), oof_image_only[name], 1e-6) << name << " fold " << k;
      EXPECT_NEAR(from_csv.at(name), oof_score[name], 1e-6) << name << " fold " << k;
    }
  }

  // evaluate --split oof reports the AUC of exactly these scores, and the source strata.
  std::string strata = "image_name,stratum\n";
  for (size_t i = 0; i < split.rows.size(); ++i) strata += split.rows[i][0] + (i % 2 ? ",odd\n" : ",even\n");
  write_file_atomic((temp_root() / "strata.csv").string(), strata);
  const std::string out =
      ok("evaluate --run " + run_ + " --split oof --strata " + (temp_root() / "strata.csv").string()).output;
  const auto metrics = nlohmann::json::parse(read_file(run_ + "/metrics-oof.json"));
  EXPECT_NEAR(metrics["metrics"]["auc"].get<double>(), roc_auc(y, scores), 1e-12);
  EXPECT_TRUE(metrics["metrics"]["auc_ci"].is_object()) << "patient-bootstrap interval";
  EXPECT_EQ(metrics["strata"].size(), 2u);
  const auto ensemble = nlohmann::json::parse(read_file(run_ + "/ensemble.json"));
  EXPECT_DOUBLE_EQ(ensemble["threshold"].get<double>(), youden_threshold(y, scores));
  EXPECT_NE(out.find("balanced accuracy"), std::string::npos) << out;
}

TEST_F(FoldTraining, TheEnsembleIsTheMeanOfItsFoldsAtTheOutOfFoldThreshold) {
  const CsvTable split = read_csv(run_ + "/split.csv");
  std::string images;
  for (const auto& row : split.rows)
    if (row[split.column("part")] == "test" && images.size() < 2000)
      images += " " + kHam + "/train/" + row[0] + ".jpg";
  const std::string out = (temp_root() / "p.csv").string();
  const auto ensemble = predicted("--run " + run_ + images, out);
  const auto fold0 = predicted("--run " + run_ + " --fold 0" + images, out);
  const auto fold1 = predicted("--run " + run_ + " --fold 1" + images, out);
  ASSERT_FALSE(ensemble.empty());
  for (const auto& [name, p] : ensemble) EXPECT_NEAR(p, (fold0.at(name) + fold1.at(name)) / 2, 2e-6) << name;

  const std::string text = ok("evaluate --run " + run_ + " --split test").output;
  EXPECT_NE(text.find("fold ensemble"), std::string::npos) << text;
  const auto metrics = nlohmann::json::parse(read_file(run_ + "/metrics-test.json"));
  const auto card = nlohmann::json::parse(read_file(run_ + "/ensemble.json"));
  EXPECT_EQ(metrics["threshold"], card["threshold"]) << "test is read at the out-of-fold threshold";
  // scores-test.csv: the ensemble with each image's age and sex (`score`), as predict --csv gives
  // it, and from the image alone (`image_only_score` when the folds read metadata), as above.
  const auto with_metadata = predicted("--run " + run_ + " --csv " + kHamCsv, out);
  const CsvTable scores = read_csv(run_ + "/scores-test.csv");
  const int image_only_column =
      scores.column(scores.column("image_only_score") >= 0 ? "image_only_score" : "score");
  ASSERT_FALSE(scores.rows.empty());
  for (const auto& row : scores.rows) {
    EXPECT_NEAR(std::stod(row[scores.column("score")]), with_metadata.at(row[0]), 1e-6) << row[0];
    if (ensemble.count(row[0]))
      EXPECT_NEAR(std::stod(row[image_only_column]), ensemble.at(row[0]), 1e-6) << row[0];
  }
}

TEST_F(FoldTraining, EmbedFoldGivesThatFoldsNetworkOnThePartsItSaw) {
  // Fold 1's parts: its fold is val, the other folds train, test stays test.
  const CsvTable split = read_csv(run_ + "/split.csv");
  std::map<std::string, std::string> expected_part;
  for (const auto& row : split.rows) {
    const std::string part = row[split.column("part")];
    expected_part[row[0]] = part == "test" ? "test" : row[split.column("fold")] == "1" ? "val" : "train";
  }
  ok("embed --run " + run_ + " --fold 1 --split all");
  const std::string base = run_ + "/folds/1/embeddings-all";
  const CsvTable rows = read_csv(base + ".csv");
  ASSERT_EQ(rows.rows.size(), split.rows.size());
  for (const auto& row : rows.rows) EXPECT_EQ(row[rows.column("part")], expected_part[row[0]]) << row[0];

  // Its train rows are, value for value, the embeddings fold 1's reference index holds: the same
  // network on the same images.
  const std::string npy = read_file(base + ".npy");
  const float* values = reinterpret_cast<const float*>(npy.data() + npy.find('\n') + 1);
  const std::string index_path = run_ + "/folds/1/reference-index.bin";
  const ReferenceIndex index = decode_reference_index(read_file(index_path), index_path);
  std::map<std::string, size_t> index_row;
  for (size_t i = 0; i < index.size(); ++i) index_row[index.names[i]] = i;
  const int dim = index.embeddings.dim;
  size_t compared = 0;
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    if (rows.rows[i][rows.column("part")] != "train") continue;
    ASSERT_EQ(index_row.count(rows.rows[i][0]), 1u) << rows.rows[i][0];
    const float* reference = index.embeddings.values.data() + index_row[rows.rows[i][0]] * dim;
    for (int j = 0; j < dim; ++j) ASSERT_NEAR(values[i * dim + j], reference[j], 1e-5) << rows.rows[i][0];
    ++compared;
  }
  EXPECT_EQ(compared, index.size());

  expect_refused(run_dermsim("embed --run " + run_ + " --fold 2 --out " + (temp_root() / "x").string()),
                 "fold 2: the run has folds 0-1");
  const std::string plain = (temp_root() / "embed-no-folds").string();
  ok("prepare --data " + kHam + " --out " + plain + " --image-size 64");
  expect_refused(run_dermsim("embed --run " + plain + " --fold 0"), "holds no k-fold training");
}

// Starts `dermsim ARGS` and kills it (SIGKILL) as soon as `path` exists.
void kill_when_exists(const std::string& args, const std::string& path) {
  const pid_t child = fork();
  if (child == 0) {
    const std::string command = std::string(DERMSIM_BINARY) + " " + args + " > /dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (!fs::exists(path) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
}

TEST_F(FoldTraining, ResumeAfterAKillContinuesTheUnfinishedFold) {
  const CsvTable log1 = read_csv(run_ + "/folds/1/training-log.csv");
  const long fold1_epoch = std::stol(log1.rows.front()[log1.column("step")]);
  const std::string run = prepared("resumed");
  // Killed in fold 1's second epoch: fold 0 finished, fold 1 has its epoch-1 checkpoint only.
  kill_when_exists("train --folds --run " + run + kTrainArgs, run + "/folds/1/checkpoint-last.pt");
  ASSERT_TRUE(fs::exists(run + "/folds/1/checkpoint-last.pt"));
  EXPECT_FALSE(fs::exists(run + "/ensemble.json"));
  const std::string fold0_before = read_file(run + "/folds/0/checkpoint-best.pt");
  const std::string out = ok("train --run " + run + " --resume").output;
  EXPECT_NE(out.find("fold 1/2: " + run + "/folds/0 already trained, skipped"), std::string::npos) << out;
  EXPECT_NE(out.find("resuming " + run + "/folds/1 at step " + std::to_string(fold1_epoch)), std::string::npos) << out;
  EXPECT_TRUE(read_file(run + "/folds/0/checkpoint-best.pt") == fold0_before) << "fold 0 untouched";
  // The resumed fold ends where an uninterrupted one ends (the log's speed column aside).
  const CsvTable resumed = read_csv(run + "/folds/1/training-log.csv");
  ASSERT_EQ(resumed.rows.size(), log1.rows.size());
  for (size_t i = 0; i < log1.rows.size(); ++i)
    for (const char* column : {"step", "train_loss", "val_auc", "val_pauc"})
      EXPECT_EQ(resumed.rows[i][resumed.column(column)], log1.rows[i][log1.column(column)]) << column;
  EXPECT_TRUE(read_file(run + "/scores-oof.csv") == read_file(run_ + "/scores-oof.csv"));
  // Everything trained: a second resume trains nothing.
  const std::string again = ok("train --run " + run + " --resume").output;
  EXPECT_NE(again.find("fold 2/2: " + run + "/folds/1 already trained, skipped"), std::string::npos) << again;
}

TEST_F(FoldTraining, StaleOrMismatchedStateIsRefused) {
  const std::string run = copy_of("stale");
  // A changed option on resume, named.
  expect_refused(run_dermsim("train --run " + run + " --resume --epochs 5"), "epochs");
  // A fold's card edited after the ensemble was made.
  auto card = nlohmann::json::parse(read_file(run + "/folds/1/model.json"));
  card["threshold"] = 0.123;
  write_file_atomic(run + "/folds/1/model.json", card.dump());
  const std::string image = kHam + "/train/" + read_csv(run + "/split.csv").rows[0][0] + ".jpg";
  expect_refused(run_dermsim("predict --run " + run + " " + image),
                 "ensemble.json is stale: made from another folds/1/model.json");
  // One fold's network copied into another fold: trained on another split of the images.
  fs::copy_file(run + "/folds/0/checkpoint-best.pt", run + "/folds/1/checkpoint-best.pt",
                fs::copy_options::overwrite_existing);
  expect_refused(run_dermsim("predict --run " + run + " --fold 1 " + image),
                 "folds/1/checkpoint-best.pt is stale: made from another split.csv");
  expect_refused(run_dermsim("train --run " + run + " --resume"), "folds/1/checkpoint-best.pt is stale");
  // Commands that need one network, and a split a k-fold training does not have.
  expect_refused(run_dermsim("similar --run " + run + " " + image),
                 "holds a k-fold training");
  expect_refused(run_dermsim("serve --run " + run + " --port 0"), "holds a k-fold training");
  expect_refused(run_dermsim("evaluate --run " + run + " --split val"), "--split oof");
  // A run prepared without folds has none to train.
  const std::string plain = (temp_root() / "no-folds").string();
  ok("prepare --data " + kHam + " --out " + plain + " --image-size 64");
  expect_refused(run_dermsim("train --folds --run " + plain), "no folds to train");
  // A plain training of a k-fold run sets the folds aside, as it does any earlier training.
  ok("train --run " + run + kTrainArgs);
  EXPECT_FALSE(fs::exists(run + "/folds"));
  EXPECT_FALSE(fs::exists(run + "/ensemble.json"));
  ASSERT_TRUE(fs::exists(run + "/superseded"));
  EXPECT_TRUE(fs::exists(fs::directory_iterator(run + "/superseded")->path() / "folds" / "1" / "model.json"));
  ok("predict --run " + run + " " + image + " --out " + (temp_root() / "plain.csv").string());
}


// P(malignant) of tests/support/add_metadata_card.py's card: age z + 0.5 for men - 0.5.
double test_card_probability(const std::string& age, const std::string& sex) {
  const double logit = (age.empty() ? 0.0 : (std::stod(age) - 50) / 15) + (sex == "male" ? 0.5 : 0.0) - 0.5;
  return 1 / (1 + std::exp(-logit));
}

TEST_F(FoldTraining, WithMetadataInputsWithoutItArePredictedThroughTheFallbacksAtTheImageOnlyThreshold) {
  // Every fold given a known card that reads age, sex and site, its own classifier kept as the
  // image-only fallback; evaluate --split oof then chooses the ensemble's two thresholds.
  const std::string run = copy_of("metadata");
  for (int k = 0; k < 2; ++k)
    ASSERT_EQ(std::system(("python3 " + std::string(DERMSIM_SOURCE_DIR) + "/tests/support/add_metadata_card.py " +
                           run + "/folds/" + std::to_string(k)).c_str()), 0);
  const std::string oof_text = ok("evaluate --run " + run + " --split oof").output;
  EXPECT_NE(oof_text.find("image-only fallback"), std::string::npos) << oof_text;
  const CsvTable oof = read_csv(run + "/scores-oof.csv");
  std::vector<int> y;
  std::vector<double> with_metadata, image_only;
  for (const auto& row : oof.rows) {
    y.push_back(std::stoi(row[oof.column("target")]));
    with_metadata.push_back(std::stod(row[oof.column("score")]));
    image_only.push_back(std::stod(row[oof.column("image_only_score")]));
  }
  // The fallbacks are the folds' own cards: their pooled scores are the original run's.
  const CsvTable base = read_csv(run_ + "/scores-oof.csv");
  const int base_column = base.column(base.column("image_only_score") >= 0 ? "image_only_score" : "score");
  ASSERT_EQ(base.rows.size(), oof.rows.size());
  for (size_t i = 0; i < oof.rows.size(); ++i)
    EXPECT_EQ(std::stod(base.rows[i][base_column]), image_only[i]) << oof.rows[i][0];
  const auto ensemble = nlohmann::json::parse(read_file(run + "/ensemble.json"));
  const double threshold = ensemble["threshold"], image_only_threshold = ensemble["image_only"]["threshold"];
  EXPECT_DOUBLE_EQ(threshold, youden_threshold(y, with_metadata));
  EXPECT_DOUBLE_EQ(image_only_threshold, youden_threshold(y, image_only));
  EXPECT_NE(threshold, image_only_threshold) << "two thresholds, each chosen for its case";
  const auto metrics = nlohmann::json::parse(read_file(run + "/metrics-oof.json"));
  EXPECT_NEAR(metrics["metrics"]["auc"].get<double>(), roc_auc(y, with_metadata), 1e-12);
  EXPECT_NEAR(metrics["image_only"]["metrics"]["auc"].get<double>(), roc_auc(y, image_only), 1e-12);

  // Image files carry no metadata: the mean of the fallbacks, decided at the image-only threshold,
  // said on stderr; the same as the original run predicts.
  const CsvTable split = read_csv(run + "/split.csv");
  std::string images;
  for (const auto& row : split.rows)
    if (row[split.column("part")] == "test") images += " " + kHam + "/train/" + row[0] + ".jpg";
  const std::string files_out = (temp_root() / "metadata-files.csv").string();
  const CommandResult files = run_dermsim("predict --run " + run + images + " --out " + files_out);
  ASSERT_EQ(files.exit_code, 0) << files.output;
  EXPECT_NE(files.output.find("scoring with the image-only classifier (fold ensemble"), std::string::npos)
      << files.output;
  char printed[32];
  std::snprintf(printed, sizeof printed, "threshold %.4f", image_only_threshold);
  EXPECT_NE(files.output.find(printed), std::string::npos) << files.output;
  const CsvTable by_files = read_csv(files_out);
  for (const auto& row : by_files.rows)
    if (std::abs(std::stod(row[1]) - image_only_threshold) > 1e-6)  // 6 decimals written
      EXPECT_EQ(row[2], std::stod(row[1]) >= image_only_threshold ? "1" : "0") << row[0];
  const std::string base_out = (temp_root() / "base-files.csv").string();
  ok("predict --run " + run_ + images + " --out " + base_out);
  EXPECT_EQ(read_file(files_out), read_file(base_out));

  // With the metadata CSV: every fold's test card (so their mean is that card's probability),
  // decided at the metadata threshold.
  const std::string csv_out = (temp_root() / "metadata-csv.csv").string();
  const std::string csv_text =
      ok("predict --run " + run + " --csv " + kHamCsv + " --out " + csv_out).output;
  EXPECT_EQ(csv_text.find("image-only"), std::string::npos) << csv_text;
  const CsvTable ham = read_csv(kHamCsv);
  const CsvTable by_csv = read_csv(csv_out);
  ASSERT_EQ(by_csv.rows.size(), ham.rows.size());
  for (size_t i = 0; i < ham.rows.size(); ++i) {
    const double p = test_card_probability(ham.rows[i][ham.column("age_approx")], ham.rows[i][ham.column("sex")]);
    EXPECT_NEAR(std::stod(by_csv.rows[i][1]), p, 1e-6) << ham.rows[i][0];
    if (std::abs(p - threshold) > 1e-6)  // ties (one age and sex) at the threshold: float features
      EXPECT_EQ(by_csv.rows[i][2], p >= threshold ? "1" : "0") << ham.rows[i][0];
  }

  // evaluate --split test reports the image-only ensemble at its own threshold.
  ok("evaluate --run " + run + " --split test");
  const auto test = nlohmann::json::parse(read_file(run + "/metrics-test.json"));
  EXPECT_EQ(test["image_only"]["threshold"].get<double>(), image_only_threshold);
  EXPECT_EQ(test["threshold"].get<double>(), threshold);

  // An ensemble card without the image-only threshold: refused like a plain card without a
  // fallback, naming the file and what adds it.
  auto edited = ensemble;
  edited.erase("image_only");
  write_file_atomic(run + "/ensemble.json", edited.dump());
  expect_refused(run_dermsim("predict --run " + run + images + " --out " + files_out),
                 "ensemble.json: the chosen classifier (fold ensemble");
  expect_refused(run_dermsim("predict --run " + run + images + " --out " + files_out),
                 "`dermsim evaluate --run " + run + " --split oof` to add an image-only fallback");
}

}  // namespace
}  // namespace dermsim
