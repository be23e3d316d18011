// End to end on real images (data/ham10000, 64 px, a few training steps): every command a user runs,
// checked against each other (predict + score reproduce evaluate's AUC) and for resume equivalence.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/csv.h"
#include "image/cache.h"
#include "image/decode_many.h"
#include "metrics/ranking.h"
#include "support/test_support.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;

const std::string kHam = std::string(DERMSIM_SOURCE_DIR) + "/data/ham10000";
// Small and fast: 64 px, batches of 8 + 8, two epochs. Real images, real split, real training.
const std::string kTrainArgs = " --epochs 2 --images-per-class 8 --embed-dim 32 --threads 2";

// Runs dermsim and expects success; returns what it printed.
std::string dermsim(const std::string& args) {
  testing::CommandResult r = testing::run_dermsim(args);
  EXPECT_EQ(r.exit_code, 0) << "dermsim " << args << "\n" << r.output;
  return r.output;
}

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("dermsim_pipeline_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(Pipeline, EveryCommandOnTheHamSample) {
  const fs::path dir = fresh_dir("all");
  const std::string run = (dir / "run").string();
  std::string out = dermsim("prepare --data " + kHam + " --out " + run + " --image-size 64");
  EXPECT_NE(out.find("no patient appears in two parts"), std::string::npos) << out;
  out = dermsim("train --run " + run + kTrainArgs);
  EXPECT_TRUE(fs::exists(run + "/checkpoint-best.pt"));
  // train ends by naming the classifier it wrote into model.json.
  const auto trained_card = nlohmann::json::parse(read_file(run + "/model.json"));
  EXPECT_NE(out.find("chosen on validation: " + trained_card["classifier_description"].get<std::string>() + " (val AUC"),
            std::string::npos) << out;
  CsvTable log = read_csv(run + "/training-log.csv");
  EXPECT_EQ(log.rows.size(), 2u);

  // Two made-up strata (alternating rows) so each holds both classes.
  CsvTable rows = read_csv(run + "/split.csv");
  std::string strata = "image_name,stratum\n";
  for (size_t i = 0; i < rows.rows.size(); ++i) strata += rows.rows[i][0] + (i % 2 ? ",odd\n" : ",even\n");
  write_file_atomic((dir / "strata.csv").string(), strata);
  out = dermsim("evaluate --run " + run + " --split test --strata " + (dir / "strata.csv").string());
  const auto metrics = nlohmann::json::parse(read_file(run + "/metrics-test.json"));
  const double auc = metrics["metrics"]["auc"];
  // What training must show: its chosen classifier beats the same classifiers on the untrained
  // network, on validation (where the choice is made; the test split is scored once).
  ASSERT_FALSE(metrics["untrained_floor"].empty());
  double floor_val_auc = 0;
  for (const auto& row : metrics["untrained_floor"])
    floor_val_auc = std::max(floor_val_auc, row["val_auc"].get<double>());
  EXPECT_GT(metrics["chosen"]["validation_auc"].get<double>(), floor_val_auc)
      << "trained network no better than its untrained floor on val";
  EXPECT_NE(out.find("precision"), std::string::npos) << "classification report printed";

  // Within-stratum AUC equals the AUC of the saved test scores restricted to that stratum.
  CsvTable scores = read_csv(run + "/scores-test.csv");
  std::map<std::string, std::pair<std::vector<int>, std::vector<double>>> by_stratum;
  std::map<std::string, std::string> stratum_of;
  for (size_t i = 0; i < rows.rows.size(); ++i) stratum_of[rows.rows[i][0]] = i % 2 ? "odd" : "even";
  for (const auto& row : scores.rows) {
    auto& g = by_stratum[stratum_of[row[0]]];
    g.first.push_back(std::stoi(row[scores.column("target")]));
    g.second.push_back(std::stod(row[scores.column("score")]));
  }
  ASSERT_EQ(metrics["strata"].size(), 2u);
  for (const auto& st : metrics["strata"]) {
    const auto& g = by_stratum[st["stratum"].get<std::string>()];
    EXPECT_NEAR(st["auc"].get<double>(), roc_auc(g.first, g.second), 1e-12) << st.dump();
  }

  // predict on a test-metadata CSV built from the test split, then score it against the truth:
  // the same images and the same classifier must give evaluate's AUC.
  // The CSV carries each image's sex, age and site, as ISIC's test metadata does.
  CsvTable split = read_csv(run + "/split.csv");
  const CsvTable ham = read_csv(kHam + "/ISIC_2020_Training_GroundTruth.csv");
  std::map<std::string, std::string> metadata_of;
  for (const auto& row : ham.rows)
    metadata_of[row[0]] = row[ham.column("sex")] + "," + row[ham.column("age_approx")] + "," +
                          row[ham.column("anatom_site_general_challenge")];
  std::string meta = "image,patient,sex,age_approx,anatom_site_general\n";
  std::string truth = "image_name,patient_id,target\n";
  for (const auto& row : split.rows) {
    if (row[split.column("part")] != "test") continue;
    meta += row[0] + ",," + metadata_of.at(row[0]) + "\n";
    truth += row[0] + "," + row[split.column("group")] + "," + row[split.column("target")] + "\n";
  }
  fs::create_directories(dir / "test");
  for (const auto& row : split.rows)
    if (row[split.column("part")] == "test")
      fs::copy_file(kHam + "/train/" + row[0] + ".jpg", dir / "test" / (row[0] + ".jpg"));
  write_file_atomic((dir / "ISIC_2020_Test_Metadata.csv").string(), meta);
  write_file_atomic((dir / "truth.csv").string(), truth);
  dermsim("predict --run " + run + " --csv " + (dir / "ISIC_2020_Test_Metadata.csv").string() +
          " --out " + (dir / "submission.csv").string() + " --kaggle");
  CsvTable submission = read_csv((dir / "submission.csv").string());
  EXPECT_EQ(submission.header, (std::vector<std::string>{"image_name", "target"}));
  const auto scored = nlohmann::json::parse(dermsim("score --json --truth " + (dir / "truth.csv").string() +
                                                    " --pred " + (dir / "submission.csv").string()));
  EXPECT_NEAR(scored["auc"].get<double>(), auc, 1e-4) << "predict+score must reproduce evaluate";
  // A card that reads age, sex and site (tests/support/add_metadata_card.py, on a copy of the run):
  // with the CSV's metadata predict uses it; without, it falls back to the run's own image-only
  // classifier and says so.
  const std::string meta_run = (dir / "run-metadata").string();
  fs::copy(run, meta_run, fs::copy_options::recursive);
  ASSERT_EQ(std::system(("python3 " + std::string(DERMSIM_SOURCE_DIR) + "/tests/support/add_metadata_card.py " +
                         meta_run).c_str()), 0);
  dermsim("predict --run " + meta_run + " --csv " + (dir / "ISIC_2020_Test_Metadata.csv").string() +
          " --out " + (dir / "with-metadata.csv").string());
  const CsvTable with_metadata = read_csv((dir / "with-metadata.csv").string());
  const CsvTable test_metadata = read_csv((dir / "ISIC_2020_Test_Metadata.csv").string());
  ASSERT_EQ(with_metadata.rows.size(), test_metadata.rows.size());
  for (size_t i = 0; i < test_metadata.rows.size(); ++i) {  // the test card: age z + 0.5 male - 0.5
    const std::string& age = test_metadata.rows[i][test_metadata.column("age_approx")];
    const double logit = (age.empty() ? 0.0 : (std::stod(age) - 50) / 15) +
                         (test_metadata.rows[i][test_metadata.column("sex")] == "male" ? 0.5 : 0.0) - 0.5;
    EXPECT_NEAR(std::stod(with_metadata.rows[i][1]), 1 / (1 + std::exp(-logit)), 1e-6) << test_metadata.rows[i][0];
  }
  for (const std::string& r : {run, meta_run}) {
    out = dermsim("predict --run " + r + " --dir " + (dir / "test").string() + " --out " +
                  (dir / "images-only.csv").string() + " --kaggle");
    EXPECT_EQ(out.find("image-only classifier") != std::string::npos, r == meta_run || metrics["image_only"].is_object())
        << out;
    fs::rename(dir / "images-only.csv", dir / (r == run ? "images-only-run.csv" : "images-only-meta.csv"));
  }
  EXPECT_EQ(read_file((dir / "images-only-run.csv").string()), read_file((dir / "images-only-meta.csv").string()));

  const std::string query = split.rows[0][0];
  out = dermsim("similar --run " + run + " " + query + " --k 3 --json");
  const auto neighbours = nlohmann::json::parse(out.substr(out.find('[')));
  ASSERT_EQ(neighbours.size(), 3u);
  EXPECT_LE(neighbours[0]["distance"].get<double>(), neighbours[2]["distance"].get<double>());

  dermsim("embed --run " + run + " --split val --out " + (dir / "val").string());
  const std::string npy = read_file((dir / "val.npy").string());
  EXPECT_EQ(npy.substr(1, 5), "NUMPY");
  const size_t data_bytes = npy.size() - (npy.find('\n') + 1);  // header ends at its newline
  EXPECT_EQ(read_csv((dir / "val.csv").string()).rows.size() * 32 * sizeof(float), data_bytes);

  dermsim("report --run " + run);
  const std::string html = read_file(run + "/report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("not a diagnostic device"), std::string::npos);
  for (const char* external : {"http://", "https://", "<link", "<script src"})
    EXPECT_EQ(html.find(external), std::string::npos) << "self-contained, but found " << external;
  // The interactive charts' data (docs/web-api.md): the validation ROC and the reference map.
  const std::string blob_open = "<script type=\"application/json\" id=\"report-data\">";
  const size_t blob_at = html.find(blob_open);
  ASSERT_NE(blob_at, std::string::npos);
  const size_t blob_begin = blob_at + blob_open.size();
  const auto blob = nlohmann::json::parse(html.substr(blob_begin, html.find("</script>", blob_begin) - blob_begin));
  const auto card = nlohmann::json::parse(read_file(run + "/model.json"));
  EXPECT_EQ(blob["validation_roc"], card["validation_roc"]);
  long train_rows = 0;
  for (const auto& row : split.rows) train_rows += row[split.column("part")] == "train";
  EXPECT_EQ(blob["map"]["points"].size(), static_cast<size_t>(train_rows));
  EXPECT_NE(html.find("<div id=\"threshold-explorer\">"), std::string::npos);
  EXPECT_NE(html.find("<div id=\"embedding-map\">"), std::string::npos);
}

// `options`: the training's own flags besides kTrainArgs, e.g. a moving average of the weights,
// whose state must survive the interruption as well. Both runs are made in `dir`.
void expect_resume_ends_where_an_uninterrupted_run_ends(const fs::path& dir, const std::string& options) {
  const std::string whole = (dir / "whole").string(), resumed = (dir / "resumed").string();
  for (const auto& run : {whole, resumed})
    dermsim("prepare --data " + kHam + " --out " + run + " --image-size 64");
  dermsim("train --run " + whole + kTrainArgs + options);
  // Interrupt in the second epoch: only the end-of-epoch-1 checkpoint exists, as after a kill.
  dermsim("train --run " + resumed + kTrainArgs + options + " --stop-after-steps 20");
  dermsim("train --run " + resumed + " --resume");
  CsvTable a = read_csv(whole + "/training-log.csv"), b = read_csv(resumed + "/training-log.csv");
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (size_t i = 0; i < a.rows.size(); ++i)
    for (const char* column : {"step", "train_loss", "val_auc", "val_pauc"})
      EXPECT_EQ(a.rows[i][a.column(column)], b.rows[i][b.column(column)]) << column << " epoch " << i + 1;
  dermsim("embed --run " + whole + " --split val --out " + (dir / "a").string());
  dermsim("embed --run " + resumed + " --split val --out " + (dir / "b").string());
  EXPECT_TRUE(read_file((dir / "a.npy").string()) == read_file((dir / "b.npy").string()))
      << "embeddings after resume must be bit-identical";
  // The same classifier and threshold (made_from names each run's own checkpoint file).
  auto card = [](const std::string& run) {
    nlohmann::json j = nlohmann::json::parse(read_file(run + "/model.json"));
    j.erase("made_from");
    return j.dump();
  };
  EXPECT_TRUE(card(whole) == card(resumed)) << "model.json after resume differs";
}

TEST(Pipeline, ResumeAfterInterruptionEndsWhereAnUninterruptedRunEnds) {
  expect_resume_ends_where_an_uninterrupted_run_ends(fresh_dir("resume"), " --ema-decay 0 --select best-val");
}

TEST(Pipeline, ResumeContinuesTheMovingAverageOfTheWeights) {
  expect_resume_ends_where_an_uninterrupted_run_ends(fresh_dir("resume_ema"), " --ema-decay 0.9 --select final");
}

TEST(Pipeline, LookalikeMiningStartsInTheSecondEpochAndResumesToTheSameWeights) {
  const fs::path mined = fresh_dir("resume_lookalikes");
  expect_resume_ends_where_an_uninterrupted_run_ends(mined, " --lookalike-fraction 1");
  // The same training without mining: epoch 1 alike (nothing mined yet), epoch 2 not.
  const fs::path dir = fresh_dir("no_lookalikes");
  const std::string plain = (dir / "plain").string();
  dermsim("prepare --data " + kHam + " --out " + plain + " --image-size 64");
  dermsim("train --run " + plain + kTrainArgs);
  const CsvTable a = read_csv(plain + "/training-log.csv");
  const CsvTable b = read_csv((mined / "whole" / "training-log.csv").string());
  ASSERT_EQ(a.rows.size(), 2u);
  ASSERT_EQ(b.rows.size(), 2u);
  const size_t loss_a = a.column("train_loss"), loss_b = b.column("train_loss");
  EXPECT_EQ(a.rows[0][loss_a], b.rows[0][loss_b]);
  EXPECT_NE(a.rows[1][loss_a], b.rows[1][loss_b]);
}

// The float32 rows of an embed .npy, keyed by the image names of its .csv.
std::map<std::string, std::vector<float>> embeddings_by_name(const fs::path& base) {
  const std::string npy = read_file(base.string() + ".npy");
  const CsvTable names = read_csv(base.string() + ".csv");
  const size_t data_at = npy.find('\n') + 1, rows = names.rows.size();
  const size_t dim = (npy.size() - data_at) / sizeof(float) / rows;
  std::map<std::string, std::vector<float>> by_name;
  for (size_t r = 0; r < rows; ++r) {
    std::vector<float> row(dim);
    std::memcpy(row.data(), npy.data() + data_at + r * dim * sizeof(float), dim * sizeof(float));
    by_name[fs::path(names.rows[r][0]).stem().string()] = row;
  }
  return by_name;
}

TEST(Pipeline, ColourConstancyIsAppliedToEveryLaterImageAsToTheCache) {
  // A run prepared with --colour shades-of-gray: image files embedded later (embed --dir, the path
  // predict and serve take) must get the step the cache got, or the network sees other colours.
  const fs::path dir = fresh_dir("colour");
  const std::string run = (dir / "run").string();
  dermsim("prepare --data " + kHam + " --out " + run + " --image-size 64 --colour shades-of-gray");
  EXPECT_EQ(nlohmann::json::parse(read_file(run + "/manifest.json"))["cache"]["colour"], "shades-of-gray");
  dermsim("train --run " + run + " --epochs 1 --images-per-class 8 --embed-dim 16 --threads 2");
  const CsvTable split = read_csv(run + "/split.csv");
  fs::create_directories(dir / "test");
  for (const auto& row : split.rows)
    if (row[split.column("part")] == "test")
      fs::copy_file(kHam + "/train/" + row[0] + ".jpg", dir / "test" / (row[0] + ".jpg"));
  dermsim("embed --run " + run + " --split test --threads 2 --out " + (dir / "cached").string());
  dermsim("embed --run " + run + " --dir " + (dir / "test").string() + " --threads 2 --out " +
          (dir / "files").string());
  const auto cached = embeddings_by_name(dir / "cached"), files = embeddings_by_name(dir / "files");
  ASSERT_EQ(cached.size(), files.size());
  for (const auto& [name, row] : cached)
    for (size_t j = 0; j < row.size(); ++j)
      ASSERT_NEAR(files.at(name)[j], row[j], 1e-4) << name << " dimension " << j;

  // And the pixels themselves: the cache's equal the file fitted with the step, not without it.
  const ImageCache cache = ImageCache::open(run + "/cache.bin");
  const std::string name = cached.begin()->first;
  const std::string file = (dir / "test" / (name + ".jpg")).string();
  const uint8_t* pixels = cache.image(static_cast<size_t>(cache.index_of(name)));
  const std::vector<uint8_t> in_cache(pixels, pixels + 64 * 64 * 3);
  EXPECT_EQ(decode_and_fit({file}, 64, {FitMode::kCenterCrop, ColourMode::kShadesOfGray}).images[0].pixels, in_cache);
  EXPECT_NE(decode_and_fit({file}, 64, {FitMode::kCenterCrop}).images[0].pixels, in_cache);
}

}  // namespace
}  // namespace dermsim
