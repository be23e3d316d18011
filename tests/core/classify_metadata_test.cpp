// Metadata fusion: how age, sex and site become columns (imputed and flagged), that the card
// refuses to score without them, and that the columns carry a signal the embedding lacks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include <unistd.h>

#include "classify/logistic.h"
#include "classify/model_card.h"
#include "classify/model_selection.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/provenance.h"
#include "metrics/ranking.h"

namespace dermsim {
namespace {

LesionRecord record(double age, const std::string& sex, const std::string& site) {
  LesionRecord r;
  r.age = age;
  r.sex = sex;
  r.site = site;
  return r;
}

std::vector<const LesionRecord*> pointers(const std::vector<LesionRecord>& records) {
  std::vector<const LesionRecord*> p;
  for (const auto& r : records) p.push_back(&r);
  return p;
}

TEST(MetadataEncoder, StandardisesAgeOnTrainAndFlagsEveryMissingValue) {
  const std::vector<LesionRecord> train = {record(40, "male", "torso"), record(60, "female", "head/neck"),
                                           record(NAN, "", "")};
  const MetadataEncoder e = MetadataEncoder::fit(pointers(train));
  ASSERT_EQ(e.width(), 7);
  EXPECT_EQ(e.column_names().back(), "site torso");  // sites sorted: head/neck, torso
  std::vector<float> row(e.width());
  e.encode(record(60, "female", "torso"), row.data());
  const double sd = std::sqrt(200.0);  // sample sd of {40, 60}
  EXPECT_FLOAT_EQ(row[0], static_cast<float>(10 / sd));
  EXPECT_EQ(std::vector<float>(row.begin() + 1, row.end()), (std::vector<float>{0, 0, 1, 0, 0, 1}));
  e.encode(record(NAN, "", "palms/soles"), row.data());  // a site never seen in train = missing
  EXPECT_EQ(row, (std::vector<float>{0, 1, 0, 0, 1, 0, 0}));
}

TEST(MetadataEncoder, JsonRoundTripAndBadJsonNamesTheFile) {
  const std::vector<LesionRecord> train = {record(30, "male", "torso"), record(70, "female", "lower extremity")};
  const MetadataEncoder e = MetadataEncoder::fit(pointers(train));
  const MetadataEncoder back = MetadataEncoder::from_json(e.to_json(), "card.json");
  const std::vector<LesionRecord> query = {record(45, "female", "torso")};
  EXPECT_EQ(e.encode_all(pointers(query)).values, back.encode_all(pointers(query)).values);
  for (const char* bad : {R"({"age_mean": 1, "age_sd": 0, "sites": []})",
                          R"({"age_mean": 1, "age_sd": 2, "sites": ["b", "a"]})",
                          R"({"age_mean": "x", "age_sd": 2, "sites": []})", R"([])"}) {
    try {
      MetadataEncoder::from_json(nlohmann::json::parse(bad), "card.json");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const UserError& err) {
      EXPECT_NE(std::string(err.what()).find("card.json"), std::string::npos) << err.what();
    }
  }
}

// Labels that depend on age only, embeddings that are noise: only the metadata columns can rank.
struct AgeSignal {
  std::vector<LesionRecord> records;
  Embeddings x;
  std::vector<int> y;
};

AgeSignal age_signal(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0, 1);
  AgeSignal s;
  s.x.dim = 4;
  for (int i = 0; i < n; ++i) {
    const int malignant = i % 3 == 0;
    s.records.push_back(record(malignant ? 70 + i % 10 : 35 + i % 30, i % 2 ? "male" : "female", "torso"));
    s.y.push_back(malignant);
    for (int d = 0; d < 4; ++d) s.x.values.push_back(noise(rng));
  }
  return s;
}

TEST(MetadataFusion, TheColumnsCarryASignalTheEmbeddingLacksAndTheCardNeedsThem) {
  const AgeSignal train = age_signal(300, 1), val = age_signal(150, 2);
  ModelCard card;
  card.metadata = MetadataEncoder::fit(pointers(train.records));
  const Embeddings train_joined = concat_columns(train.x, card.metadata->encode_all(pointers(train.records)));
  const Embeddings val_joined = concat_columns(val.x, card.metadata->encode_all(pointers(val.records)));
  auto auc = [](const std::vector<int>& y, const std::vector<double>& s) { return roc_auc(y, s); };
  const std::vector<Candidate> joined =
      fit_logistic_candidates(train_joined, train.y, val_joined, val.y, auc, " + metadata");
  const std::vector<Candidate> alone = fit_logistic_candidates(train.x, train.y, val.x, val.y, auc, "");
  auto best = [](const std::vector<Candidate>& c) {
    double b = 0;
    for (const auto& x : c) b = std::max(b, x.validation_score);
    return b;
  };
  EXPECT_GT(best(joined), 0.95);
  EXPECT_LT(best(alone), 0.7);
  EXPECT_EQ(joined.front().description, "logistic C=0.01 + metadata");

  auto logistic = std::make_unique<LogisticRegression>(1.0);
  logistic->fit(train_joined, train.y);
  const std::vector<double> expected = logistic->predict_proba(val_joined);
  card.classifier = std::move(logistic);
  card.description = "logistic C=1 + age, sex, site";
  const std::vector<const LesionRecord*> records = pointers(val.records);
  EXPECT_EQ(malignancy_probability(card, val.x, {}, &records), expected);
  try {
    malignancy_probability(card, val.x, {});
    ADD_FAILURE() << "scored without the metadata it needs";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("age, sex and site"), std::string::npos) << e.what();
  }
}

// The card written after metadata won on validation keeps an image-only fallback: it survives the
// JSON round trip with its own classifier and threshold, inputs without metadata get it, and a
// fallback that itself reads metadata (or nests another) is refused naming model.json.
TEST(MetadataFusion, TheCardKeepsAnImageOnlyFallbackThroughItsJson) {
  const AgeSignal train = age_signal(120, 3), val = age_signal(60, 4);
  ModelCard card;
  card.metadata = MetadataEncoder::fit(pointers(train.records));
  auto joined = std::make_unique<LogisticRegression>(1.0);
  joined->fit(concat_columns(train.x, card.metadata->encode_all(pointers(train.records))), train.y);
  card.classifier = std::move(joined);
  card.description = "logistic C=1 + age, sex, site";
  card.threshold = 0.4;
  card.threshold_rule = "Youden's J on val";
  card.image_only = std::make_shared<ModelCard>();
  auto alone = std::make_unique<LogisticRegression>(0.1);
  alone->fit(train.x, train.y);
  const std::vector<double> expected_alone = alone->predict_proba(val.x);
  card.image_only->classifier = std::move(alone);
  card.image_only->description = "logistic C=0.1";
  card.image_only->threshold = 0.25;
  card.image_only->threshold_rule = "Youden's J on val";

  const std::filesystem::path run =
      std::filesystem::temp_directory_path() / ("dermsim_fallback_" + std::to_string(::getpid()));
  std::filesystem::create_directories(run);
  const std::string checkpoint = "0123456789abcdef";
  nlohmann::json j = to_json(card);
  j["made_from"]["checkpoint-best.pt"] = checkpoint;
  write_file_atomic((run / "model.json").string(), j.dump());
  const ModelCard loaded = load_model_card(RunDir{run.string()}, checkpoint);
  ASSERT_TRUE(loaded.metadata && loaded.image_only);
  EXPECT_EQ(&card_for_inputs(loaded, true), &loaded);
  const ModelCard& fallback = card_for_inputs(loaded, false);
  ASSERT_EQ(&fallback, loaded.image_only.get());
  EXPECT_EQ(fallback.description, "logistic C=0.1");
  EXPECT_EQ(fallback.threshold, 0.25);
  EXPECT_EQ(malignancy_probability(fallback, val.x, {}), expected_alone);

  for (const char* bad : {"metadata", "image_only"}) {
    nlohmann::json broken = j;
    broken["image_only"][bad] = j[bad];
    write_file_atomic((run / "model.json").string(), broken.dump());
    try {
      load_model_card(RunDir{run.string()}, checkpoint);
      ADD_FAILURE() << "accepted a fallback with " << bad;
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("model.json"), std::string::npos) << e.what();
    }
  }
  std::filesystem::remove_all(run);
}

}  // namespace
}  // namespace dermsim
