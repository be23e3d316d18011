// Classifiers and retrieval metrics against scikit-learn (tests/python/classify_oracle.py):
// kNN probabilities, logistic coefficients/probabilities, precision@k and mAP.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "classify/knn.h"
#include "classify/logistic.h"
#include "common/atomic_file.h"
#include "common/hash.h"
#include "metrics/retrieval.h"
#include "support/oracle.h"
#include "support/random.h"

namespace dermsim {
namespace {

constexpr char kPython[] = "/usr/bin/python3";
constexpr int kOracleMissingPackages = 77;  // classify_oracle.py's exit code for missing packages

using testing::random_embeddings;
void copy_row(const Embeddings& from, size_t i, Embeddings& to, size_t j);

struct KnnCase {
  int k;
  bool weighted;
};
struct KnnData {
  static constexpr int kDim = 5;
  Embeddings train, queries;
  std::vector<int> labels;
  std::vector<KnnCase> cases = {{1, true},  {3, true},  {5, true},
                                {11, true}, {5, false}, {11, false}};
};

KnnData knn_data() {
  KnnData data;
  std::mt19937 rng(7);
  data.train = random_embeddings(120, KnnData::kDim, rng);
  data.labels.resize(data.train.size());
  std::bernoulli_distribution coin(0.35);
  for (auto& l : data.labels) l = coin(rng) ? 1 : 0;
  // Duplicates share a label so that neighbour ties never change the answer.
  for (size_t i = 0; i < 20; ++i) {
    copy_row(data.train, i, data.train, 100 + i);
    data.labels[100 + i] = data.labels[i];
  }
  data.queries = random_embeddings(60, KnnData::kDim, rng);
  for (size_t j = 0; j < 15; ++j) copy_row(data.train, 3 * j, data.queries, j);  // exact matches
  return data;
}

struct LogisticCase {
  double c;
  bool balanced;
};
struct LogisticData {
  static constexpr int kDim = 8;
  Embeddings x, queries;
  std::vector<int> y;
  std::vector<LogisticCase> cases = {{0.01, false}, {0.1, false}, {1.0, false}, {10.0, false},
                                     {0.1, true},   {1.0, true},  {10.0, true}};
};

LogisticData logistic_data() {
  LogisticData data;
  std::mt19937 rng(11);
  const size_t n = 240;
  data.x = random_embeddings(n, LogisticData::kDim, rng);
  data.y.resize(n);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (size_t i = 0; i < n; ++i) {  // imbalanced (~25 % malignant) and not separable
    const float* r = data.x.row(i);
    const double t = -1.3 + 1.5 * r[0] - 0.8 * r[1] + 0.4 * r[2];
    data.y[i] = uniform(rng) < 1.0 / (1.0 + std::exp(-t)) ? 1 : 0;
  }
  data.queries = random_embeddings(50, LogisticData::kDim, rng);
  return data;
}

struct RetrievalData {
  static constexpr int kDim = 4;
  Embeddings reference, queries;
  std::vector<int> reference_labels, query_labels;
  std::vector<std::string> reference_groups, query_groups;
  std::vector<int> ks = {1, 5, 16};
};

RetrievalData retrieval_data() {
  RetrievalData data;
  std::mt19937 rng(5);
  data.reference = random_embeddings(150, RetrievalData::kDim, rng);
  const size_t n = data.reference.size();
  data.reference_labels.resize(n);
  data.reference_groups.resize(n);
  std::bernoulli_distribution coin(0.3);
  std::uniform_int_distribution<int> patient(0, 39);
  for (size_t i = 0; i < n; ++i) {
    data.reference_labels[i] = coin(rng) ? 1 : 0;
    data.reference_groups[i] = "P" + std::to_string(patient(rng));
  }
  // Exact duplicates with opposite labels: tied distances that sklearn counts as one threshold.
  for (size_t i = 0; i < 10; ++i) {
    copy_row(data.reference, i, data.reference, 140 + i);
    data.reference_labels[140 + i] = 1 - data.reference_labels[i];
  }
  data.queries = random_embeddings(80, RetrievalData::kDim, rng);
  data.query_labels.resize(data.queries.size());
  data.query_groups.resize(data.queries.size());
  for (size_t i = 0; i < data.queries.size(); ++i) {
    data.query_labels[i] = i % 2 == 0 ? 1 : 0;
    data.query_groups[i] = "P" + std::to_string(patient(rng));
  }
  for (size_t j = 0; j < 6; ++j)
    copy_row(data.reference, j, data.queries, 2 * j);  // distance 0 to a tie
  return data;
}

nlohmann::json oracle_spec() {
  nlohmann::json spec;
  const auto k = knn_data();
  spec["knn"] = {{"dim", KnnData::kDim},
                 {"train_x", k.train.values},
                 {"train_y", k.labels},
                 {"query_x", k.queries.values}};
  for (const auto& c : k.cases)
    spec["knn"]["cases"].push_back({{"k", c.k}, {"distance_weighted", c.weighted}});
  const auto l = logistic_data();
  spec["logistic"] = {{"dim", LogisticData::kDim},
                      {"train_x", l.x.values},
                      {"train_y", l.y},
                      {"query_x", l.queries.values}};
  for (const auto& c : l.cases)
    spec["logistic"]["cases"].push_back({{"c", c.c}, {"balanced", c.balanced}});
  const auto r = retrieval_data();
  for (int top : r.ks) {
    spec["retrieval"].push_back({{"dim", RetrievalData::kDim},
                                 {"queries", r.queries.values},
                                 {"query_labels", r.query_labels},
                                 {"query_groups", r.query_groups},
                                 {"reference", r.reference.values},
                                 {"reference_labels", r.reference_labels},
                                 {"reference_groups", r.reference_groups},
                                 {"k", top}});
  }
  return spec;
}

// sklearn's answers for every section, computed by one python process for the whole suite
// (importing sklearn takes seconds). skip_reason is set when python or its packages are missing.
struct OracleRun {
  nlohmann::json result;
  std::string skip_reason;
};

const OracleRun& oracle() {
  static const OracleRun run = [] {
    OracleRun r;
    if (!std::filesystem::exists(kPython)) {
      r.skip_reason = std::string(kPython) + " is not installed";
      return r;
    }
    const std::string script = std::string(DERMSIM_SOURCE_DIR) + "/tests/python/classify_oracle.py";
    const std::string spec = oracle_spec().dump();
    // ctest runs each test in its own process: share one oracle answer between them, keyed by
    // the exact inputs and the oracle's source.
    ContentHash key;
    key.add(spec);
    key.add(read_file(script));
    const auto tmp = std::filesystem::temp_directory_path();
    const auto cached = (tmp / ("dermsim_classify_oracle_" + key.hex() + ".json")).string();
    if (std::filesystem::exists(cached)) {
      r.result = nlohmann::json::parse(read_file(cached));
      return r;
    }
    const auto dir = tmp / ("dermsim_classify_oracle_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto in = (dir / "in.json").string(), out = (dir / "out.json").string();
    write_file_atomic(in, spec);
    const std::string command = std::string(kPython) + " " + script + " " + in + " " + out;
    const int status = std::system(command.c_str());
    if (WIFEXITED(status) && WEXITSTATUS(status) == kOracleMissingPackages) {
      r.skip_reason = "numpy / scikit-learn missing for " + std::string(kPython);
    } else if (status != 0) {
      r.skip_reason = "ORACLE FAILED: " + command;
    } else {
      const std::string answer = read_file(out);
      r.result = nlohmann::json::parse(answer);
      write_file_atomic(cached, answer);
    }
    std::filesystem::remove_all(dir);
    return r;
  }();
  return run;
}

// Skips (fails in CI) when the oracle cannot run; always fails when it ran and crashed.
#define REQUIRE_ORACLE()                                                         \
  do {                                                                           \
    ASSERT_EQ(oracle().skip_reason.rfind("ORACLE FAILED", 0), std::string::npos) \
        << oracle().skip_reason;                                                 \
    if (!oracle().skip_reason.empty()) ORACLE_UNAVAILABLE(oracle().skip_reason); \
  } while (false)

void copy_row(const Embeddings& from, size_t i, Embeddings& to, size_t j) {
  std::copy(from.row(i), from.row(i) + from.dim,
            to.values.begin() + static_cast<std::ptrdiff_t>(j * to.dim));
}

TEST(ClassifyOracle, KnnMatchesSklearnWithDuplicatesAndExactMatches) {
  REQUIRE_ORACLE();
  const auto data = knn_data();
  for (size_t c = 0; c < data.cases.size(); ++c) {
    SCOPED_TRACE("k=" + std::to_string(data.cases[c].k) +
                 (data.cases[c].weighted ? " distance" : " uniform"));
    KnnClassifier knn(data.cases[c].k, data.cases[c].weighted);
    knn.fit(data.train, data.labels);
    const auto proba = knn.predict_proba(data.queries);
    const auto want = oracle().result["knn"]["proba"][c].get<std::vector<double>>();
    ASSERT_EQ(proba.size(), want.size());
    for (size_t i = 0; i < proba.size(); ++i) EXPECT_NEAR(proba[i], want[i], 1e-9) << "query " << i;
  }
}

TEST(ClassifyOracle, LogisticMatchesSklearnLbfgs) {
  REQUIRE_ORACLE();
  const auto data = logistic_data();
  for (size_t c = 0; c < data.cases.size(); ++c) {
    SCOPED_TRACE("C=" + std::to_string(data.cases[c].c) +
                 (data.cases[c].balanced ? " balanced" : ""));
    LogisticRegression model(data.cases[c].c, data.cases[c].balanced);
    model.fit(data.x, data.y);
    const auto& want = oracle().result["logistic"]["cases"][c];
    // Against sklearn's lbfgs refitted to convergence: tight.
    const auto coefficients = want["coefficients"].get<std::vector<double>>();
    ASSERT_EQ(model.coefficients().size(), coefficients.size());
    for (size_t d = 0; d < coefficients.size(); ++d)
      EXPECT_NEAR(model.coefficients()[d], coefficients[d], 1e-7);
    EXPECT_NEAR(model.intercept(), want["intercept"].get<double>(), 1e-7);
    const auto proba = model.predict_proba(data.queries);
    const auto refined = want["proba"].get<std::vector<double>>();
    const auto plain = want["plain_lbfgs_proba"].get<std::vector<double>>();
    for (size_t i = 0; i < proba.size(); ++i) {
      EXPECT_NEAR(proba[i], refined[i], 1e-8) << "query " << i;
      // Against a single sklearn fit(tol=1e-10), which stops early on scipy's ftol test.
      EXPECT_NEAR(proba[i], plain[i], 5e-5) << "query " << i;
    }
  }
}

TEST(ClassifyOracle, RetrievalMetricsMatchSklearnAveragePrecision) {
  REQUIRE_ORACLE();
  const auto data = retrieval_data();
  for (size_t c = 0; c < data.ks.size(); ++c) {
    const int k = data.ks[c];
    SCOPED_TRACE("k=" + std::to_string(k));
    const auto& want = oracle().result["retrieval"][c];
    const auto m =
        retrieval_metrics(data.queries, data.query_labels, data.query_groups, data.reference,
                          data.reference_labels, data.reference_groups, k);
    EXPECT_EQ(m.k, k);
    EXPECT_EQ(m.queries, want["queries"].get<long>());
    EXPECT_EQ(m.queries, 40);
    EXPECT_NEAR(m.precision_at_k, want["precision_at_k"].get<double>(), 1e-12);
    EXPECT_NEAR(m.mean_average_precision, want["mean_average_precision"].get<double>(), 1e-12);
  }
}

}  // namespace
}  // namespace dermsim
