// Inference precision (evaluate --precision): a card chosen on bf16 embeddings records it, and
// every consumer embeds at the card's precision, never another. Each case runs the real binary on
// a copy of one small fp32-trained run (HAM sample, 64 px, two short epochs) and checks what it
// wrote against the in-process embedding path at bf16 and at fp32.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/csv.h"
#include "image/decode_many.h"
#include "inference/run_model.h"
#include "support/test_support.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;
using testing::run_dermsim;
constexpr auto ok = testing::run_dermsim_ok;

const std::string kHam = std::string(DERMSIM_SOURCE_DIR) + "/data/ham10000";
constexpr int kThreads = 2;  // the commands' and the in-process model's: same kernels, same sums

fs::path temp_root() { return fs::temp_directory_path() / ("dermsim_precision_" + std::to_string(getpid())); }

std::vector<std::string> some_images() {
  std::vector<std::string> files = list_image_files(kHam + "/train");
  files.resize(12);
  return files;
}

std::string joined(const std::vector<std::string>& files) {
  std::string out;
  for (const auto& f : files) out += " " + f;
  return out;
}

nlohmann::json card_json(const fs::path& run) {
  return nlohmann::json::parse(read_file((run / "model.json").string()));
}

// P(malignant) of `files` as predict computes it (fitted like the cache, the card's image-only
// classifier, no metadata), with the run's network embedding at `precision`.
std::vector<double> scores_at(const fs::path& run, const std::vector<std::string>& files, Precision precision) {
  const RunData data = load_run_data(run.string());
  LoadedModel model = load_model(data, "cpu", kThreads);
  model.precision = precision;
  const ModelCard card = load_model_card(data.run, model.checkpoint_id);
  const ModelCard& chosen = card_for_inputs(card, false);
  const DecodedImages decoded = decode_and_fit(files, data.cache.image_size(), image_fit_of(data));
  std::vector<const uint8_t*> pixels;
  for (const auto& image : decoded.images) pixels.push_back(image.pixels.data());
  const EmbedResult e = embed_pixels(model, pixels, data.cache.image_size(), chosen.tta);
  return malignancy_probability(chosen, e.embeddings, e.head_logits);
}

// predict's target column for `files`, in input order.
std::vector<double> predicted(const fs::path& run, const std::vector<std::string>& files) {
  const std::string out = (run / "predictions.csv").string();
  ok("predict --run " + run.string() + joined(files) + " --threads 2 --out " + out);
  std::vector<double> p;
  for (const auto& row : read_csv(out).rows) p.push_back(std::stod(row[1]));
  return p;
}

double max_difference(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

// predict writes six decimals; bf16 against fp32 differs far more than that.
constexpr double kPrinted = 1.5e-6;

// embed writes the card's embeddings: equal to the in-process bf16 ones, not the fp32 ones.
void expect_embed_at_bf16(const fs::path& run) {
  const std::string base = (run / "val").string();
  ok("embed --run " + run.string() + " --split val --threads 2 --out " + base);
  const std::string npy = read_file(base + ".npy");
  const RunData data = load_run_data(run.string());
  LoadedModel model = load_model(data, "cpu", kThreads);
  for (Precision precision : {Precision::kBFloat16, Precision::kFloat32}) {
    model.precision = precision;
    const std::vector<float> want =
        embed_run_images(model, data, data.indices(Part::kVal), 1, false).embeddings.values;
    ASSERT_GE(npy.size(), want.size() * sizeof(float));
    std::vector<float> got(want.size());
    std::memcpy(got.data(), npy.data() + npy.size() - want.size() * sizeof(float), want.size() * sizeof(float));
    double d = 0;
    for (size_t i = 0; i < got.size(); ++i) d = std::max(d, double(std::abs(got[i] - want[i])));
    if (precision == Precision::kBFloat16)
      EXPECT_LT(d, 1e-6) << "embed did not write the bf16 embeddings";
    else
      EXPECT_GT(d, 1e-4) << "embed wrote fp32 embeddings under a bf16 card";
  }
}

class InferencePrecision : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::remove_all(temp_root());
    const std::string run = (temp_root() / "base").string();
    ok("prepare --data " + kHam + " --out " + run + " --image-size 64");
    ok("train --run " + run + " --epochs 2 --images-per-class 8 --embed-dim 32 --threads 2");
  }
  static void TearDownTestSuite() { fs::remove_all(temp_root()); }

  static fs::path copy_of_base(const std::string& name) {
    const fs::path dir = temp_root() / name;
    fs::remove_all(dir);
    fs::copy(temp_root() / "base", dir, fs::copy_options::recursive);
    return dir;
  }
};

TEST_F(InferencePrecision, TrainingRecordsItsPrecisionAndABf16CardIsUsedAtBf16ByPredictAndEmbed) {
  const fs::path run = copy_of_base("bf16");
  EXPECT_EQ(card_json(run).at("precision"), "fp32");  // train's own choice: the training precision
  const std::vector<std::string> files = some_images();
  const std::vector<double> fp32_before = predicted(run, files);
  EXPECT_LT(max_difference(fp32_before, scores_at(run, files, Precision::kFloat32)), kPrinted);

  const testing::CommandResult ev =
      ok("evaluate --run " + run.string() + " --split val --skip-floor --threads 2 --precision bf16");
  EXPECT_NE(ev.output.find("embeddings at bf16"), std::string::npos) << ev.output;
  EXPECT_EQ(card_json(run).at("precision"), "bf16");
  EXPECT_EQ(nlohmann::json::parse(read_file((run / "metrics-val.json").string()))["chosen"]["precision"], "bf16");

  const std::vector<double> bf16 = scores_at(run, files, Precision::kBFloat16);
  const std::vector<double> fp32 = scores_at(run, files, Precision::kFloat32);
  const std::vector<double> p = predicted(run, files);
  EXPECT_LT(max_difference(p, bf16), kPrinted);
  EXPECT_GT(max_difference(p, fp32), 100 * kPrinted) << "predict did not embed at bf16";
  expect_embed_at_bf16(run);
}

// Cards written before the field existed were all chosen at the training precision: read so.
TEST_F(InferencePrecision, ACardWithoutTheFieldIsUsedAtTheTrainingPrecision) {
  const fs::path run = copy_of_base("old");
  ok("evaluate --run " + run.string() + " --split val --skip-floor --threads 2 --precision bf16");
  nlohmann::json card = card_json(run);
  card.erase("precision");
  write_file_atomic((run / "model.json").string(), card.dump());
  const std::vector<std::string> files = some_images();
  const std::vector<double> p = predicted(run, files);
  EXPECT_LT(max_difference(p, scores_at(run, files, Precision::kFloat32)), kPrinted);
  EXPECT_GT(max_difference(p, scores_at(run, files, Precision::kBFloat16)), 100 * kPrinted);

  card["precision"] = "fp16";
  write_file_atomic((run / "model.json").string(), card.dump());
  const testing::CommandResult bad = run_dermsim("predict --run " + run.string() + joined(files));
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("model.json: malformed model card (precision 'fp16'"), std::string::npos)
      << bad.output;
}

// The reference index records its embeddings' precision: one made at fp32 under a card re-chosen
// at bf16 is refused by similar and explain (and serve, which loads it the same way) in one line,
// and evaluate rebuilds it.
TEST_F(InferencePrecision, AnIndexOfAnotherPrecisionIsStaleAndRebuiltByEvaluate) {
  const fs::path run = copy_of_base("index");
  const std::string index = (run / "reference-index.bin").string();
  const std::string fp32_index = read_file(index);
  ok("evaluate --run " + run.string() + " --split val --skip-floor --threads 2 --precision bf16");
  EXPECT_NE(read_file(index), fp32_index);
  const std::string image = some_images().front();
  const std::string similar = "similar --run " + run.string() + " " + image + " --k 3 --json";
  const std::string fresh = ok(similar).output;

  write_file_atomic(index, fp32_index);
  for (const std::string& command :
       {similar, "explain --run " + run.string() + " " + image + " --out " + (run / "e.png").string()}) {
    const testing::CommandResult r = run_dermsim(command);
    EXPECT_EQ(r.exit_code, 2) << command << "\n" << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_NE(r.output.find("reference-index.bin is stale: made from another precision; run `dermsim "
                            "evaluate"), std::string::npos) << r.output;
  }
  ok("evaluate --run " + run.string() + " --split val --skip-floor --threads 2 --precision bf16");
  EXPECT_EQ(ok(similar).output, fresh);
}

}  // namespace
}  // namespace dermsim
