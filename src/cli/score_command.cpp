// `dermsim score`: the full metric set for any predictions file against a ground-truth CSV (e.g.
// another model's Kaggle submission), with clear errors for missing, extra or duplicate ids.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>

#include "cli/commands.h"
#include "common/csv.h"
#include "common/error.h"
#include "metrics/classification.h"
#include "metrics/summary.h"

namespace dermsim::cli {
namespace {

double parse_number(const std::string& text, const CsvTable& table, size_t row, const char* field) {
  try {
    size_t used = 0;
    double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw UserError(table.where(row) + "column '" + field + "': not a number: '" + text + "'");
}

// A prediction must be P(malignant): a score of 1.3 or a percentage (87) would still rank, but
// the threshold, calibration and Brier score printed below would be nonsense.
double parse_probability(const std::string& text, const CsvTable& table, size_t row,
                         const char* field) {
  const double p = parse_number(text, table, row, field);
  if (p < 0.0 || p > 1.0)
    throw UserError(table.where(row) + "column '" + field + "': " + text +
                    " is not a probability in [0, 1]" +
                    (p > 1.0 && p <= 100.0 ? " (a percentage? divide by 100)" : ""));
  return p;
}

}  // namespace

void add_score_command(CLI::App& app) {
  struct Args {
    std::string truth, pred;
    double threshold = 0.5;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("score", "metrics of a predictions CSV against the ground truth");
  cmd->add_option("--truth", args->truth, "CSV with image_name (or isic_id) and target")->required();
  cmd->add_option("--pred", args->pred, "CSV with image_name and target = P(malignant)")->required();
  cmd->add_option("--threshold", args->threshold, "decision threshold for the report")
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "print the metrics as one JSON object");
  cmd->callback([args] {
    CsvTable truth = read_csv(args->truth), pred = read_csv(args->pred);
    const int t_id = require_column(truth, {"image_name", "isic_id", "image"});
    const int t_y = require_column(truth, {"target"});
    const int t_group = truth.column("patient_id");
    const int p_id = require_column(pred, {"image_name", "isic_id", "image"});
    const int p_score = require_column(pred, {"target"});

    std::map<std::string, size_t> predicted;
    for (size_t i = 0; i < pred.rows.size(); ++i)
      if (!predicted.emplace(pred.rows[i][p_id], i).second)
        throw UserError(pred.where(i) + "duplicate id " + pred.rows[i][p_id]);
    std::vector<int> y;
    std::vector<double> score;
    std::vector<std::string> groups;
    std::map<std::string, bool> seen;
    for (size_t i = 0; i < truth.rows.size(); ++i) {
      const std::string& id = truth.rows[i][t_id];
      if (!seen.emplace(id, true).second) throw UserError(truth.where(i) + "duplicate id " + id);
      auto it = predicted.find(id);
      if (it == predicted.end())
        throw UserError(args->pred + ": no prediction for " + id + " (" + truth.where(i) + ")");
      const double label = parse_number(truth.rows[i][t_y], truth, i, "target");
      if (label != 0 && label != 1) throw UserError(truth.where(i) + "column 'target': not 0 or 1");
      y.push_back(static_cast<int>(label));
      score.push_back(parse_probability(pred.rows[it->second][p_score], pred, it->second, "target"));
      groups.push_back(t_group >= 0 && !truth.rows[i][t_group].empty() ? truth.rows[i][t_group] : id);
    }
    for (size_t i = 0; i < pred.rows.size(); ++i)
      if (!seen.count(pred.rows[i][p_id]))
        throw UserError(pred.where(i) + "id " + pred.rows[i][p_id] + " is not in " + args->truth);

    BinaryMetrics m = compute_binary_metrics(y, score, args->threshold, &groups);
    if (args->json) {
      std::printf("%s\n", to_json(m).dump().c_str());
      return;
    }
    std::printf("%zu images, %ld malignant\n", y.size(), static_cast<long>(std::count(y.begin(), y.end(), 1)));
    std::printf("AUC %.4f (95%% CI %.4f-%.4f, patients resampled)  pAUC@80%%TPR %.4f (%.4f-%.4f)  AP %.4f\n",
                m.auc, m.auc_ci->lower, m.auc_ci->upper, m.pauc, m.pauc_ci->lower,
                m.pauc_ci->upper, m.average_precision);
    std::printf("at threshold %.4f: sensitivity %.3f specificity %.3f balanced accuracy %.3f\n",
                args->threshold, m.sensitivity, m.specificity, m.balanced_accuracy);
    std::printf("%s\n", format_classification_report(m.report).c_str());
  });
}

}  // namespace dermsim::cli
