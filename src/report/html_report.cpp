#include "report/html_report.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "common/atomic_file.h"
#include "common/base64.h"
#include "common/csv.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/provenance.h"
#include "common/run_dir.h"
#include "image/cache.h"
#include "image/run_data.h"
#include "image/encode.h"
#include "metrics/calibration.h"
#include "metrics/ranking.h"
#include "classify/reference_index.h"
#include "report/svg_chart.h"
#include "web/web_assets.h"

namespace dermsim {
namespace {

constexpr const char* kStyle = R"(
body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#222}
h1{margin-bottom:0}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
.note{background:#fff4e5;border-left:4px solid #f0a020;padding:8px 12px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 10px;text-align:right}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}.chosen{background:#eef6ee}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart-title{font-weight:600;font-size:13px}
.tick{font-size:10px;fill:#555}.axis{font-size:12px}.legend{font-size:11px}
.cases{display:flex;gap:6px;align-items:flex-start;margin:8px 0}.case{text-align:center;font-size:11px}
.case img{width:96px;height:96px;display:block;border:3px solid #ccc}.case.mal img{border-color:#c0392b}
.case.query img{border-color:#222}pre{background:#f7f7f7;padding:8px}
)";

std::string fmt(double v, int digits = 4) {
  if (!std::isfinite(v)) return "–";
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

std::string interval(const nlohmann::json& m, const char* key, const char* ci_key) {
  if (!m.contains(key)) return "–";
  std::string out = fmt(m[key].get<double>());
  if (m.contains(ci_key) && m[ci_key].is_object())
    out += " <small>(95 % CI " + fmt(m[ci_key].value("lower", NAN)) + "–" +
           fmt(m[ci_key].value("upper", NAN)) + ")</small>";
  return out;
}

std::string thumbnail(const ImageCache& cache, const std::string& name) {
  const long i = cache.index_of(name);
  if (i < 0) return "";
  const int s = cache.image_size();
  return "data:image/jpeg;base64," + base64_encode(encode_jpeg(cache.image(i), s, s, 80));
}

std::string data_section(const nlohmann::json& manifest) {
  const auto& d = manifest.at("data");
  std::string html = "<h2>Data</h2><p>" + html_escape(d.value("dir", "")) + " (" +
                     html_escape(d.value("layout", "")) + " layout): " +
                     std::to_string(d.value("images", 0)) + " images. Split by patient, stratified "
                     "by whether a patient has a melanoma; no patient is in two parts (checked "
                     "whenever the split is made or read).</p><table><tr><th>part</th><th>images</th>"
                     "<th>patients</th><th>malignant</th><th>share</th></tr>";
  for (const char* part : {"train", "val", "test"}) {
    if (!manifest.at("split").at("parts").contains(part)) continue;
    const auto& p = manifest["split"]["parts"][part];
    const double images = p.value("images", 0), malignant = p.value("malignant", 0);
    html += "<tr><td>" + std::string(part) + "</td><td>" + fmt(images, 0) + "</td><td>" +
            fmt(p.value("groups", 0), 0) + "</td><td>" + fmt(malignant, 0) + "</td><td>" +
            fmt(images > 0 ? 100 * malignant / images : 0, 1) + " %</td></tr>";
  }
  return html + "</table>";
}

// A number in a CSV the report reads (files of this run, but a person may have edited them).
double number_at(const CsvTable& table, size_t row, int column) {
  const std::string& text = table.rows[row][static_cast<size_t>(column)];
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0')
    throw UserError(table.where(row) + "column '" + table.header[static_cast<size_t>(column)] +
                    "': not a number: '" + text + "'");
  return value;
}

// "2 data-parallel ranks (gloo), 1 CPU thread each" or "one process, 2 CPU threads".
std::string how_it_ran(const nlohmann::json& config) {
  const int ranks = config.value("ranks", 1), threads = config.value("threads", 0);
  const std::string per_rank =
      threads > 0 ? std::to_string(threads) + " CPU thread" + (threads == 1 ? "" : "s") : "all cores";
  if (ranks == 1) return "one process, " + per_rank;
  return std::to_string(ranks) + " data-parallel ranks (" +
         html_escape(config.value("dist_backend", "")) + "), " + per_rank + " each";
}

std::string training_section(const RunDir& run) {
  if (!std::filesystem::exists(run.training_log())) return "";
  CsvTable log = read_csv(run.training_log());
  const int epoch_col = require_column(log, {"epoch"}), loss_col = require_column(log, {"train_loss"}),
            auc_col = require_column(log, {"val_auc"});
  ChartSeries loss{"train loss", {}, {}, "#d62728"}, auc{"val AUC (kNN)", {}, {}, "#1f77b4"};
  double max_loss = 0, max_epoch = 1;
  for (size_t r = 0; r < log.rows.size(); ++r) {
    const auto& row = log.rows[r];
    const double epoch = number_at(log, r, epoch_col);
    const double l = number_at(log, r, loss_col);
    const std::string a = row[auc_col];
    loss.x.push_back(epoch);
    loss.y.push_back(l);
    max_loss = std::max(max_loss, l);
    max_epoch = std::max(max_epoch, epoch);
    auc.x.push_back(epoch);
    auc.y.push_back(a == "null" ? NAN : number_at(log, r, auc_col));
  }
  loss.points = auc.points = true;
  ChartOptions lo{"Training loss", "epoch", "loss", 0, max_epoch, 0, max_loss * 1.1};
  ChartOptions ao{"Validation AUC per epoch", "epoch", "AUC", 0, max_epoch, 0.4, 1.0};
  nlohmann::json config = read_json_file(run.train_config());
  return "<h2>Training</h2><p>backbone <b>" + html_escape(config.value("backbone", "")) +
         "</b>, loss <b>" + html_escape(config.value("loss", "")) + "</b>, margin " +
         fmt(config.value("margin", 0.0), 2) + ", " + std::to_string(config.value("epochs", 0)) +
         " epochs of " + std::to_string(config.value("classes_per_batch", 0)) + " x " +
         std::to_string(config.value("images_per_class", 0)) +
         " class-balanced batches (malignant oversampled with augmentation), seed " +
         config["seed"].dump() + ", " + how_it_ran(config) + ".</p><div class='charts'>" + svg_line_chart({loss}, lo) +
         svg_line_chart({auc}, ao) + "</div>";
}

std::string results_section(const nlohmann::json& metrics, const std::string& split) {
  const auto& m = metrics.at("metrics");
  std::string html = "<h2>Results on the " + split + " split (reported once)</h2>";
  html += "<p>Classifiers are fitted on the training embeddings and chosen on validation; the "
          "threshold is chosen on validation (" +
          html_escape(metrics["chosen"].value("threshold_rule", "")) + "). The untrained rows "
          "are the floor: the same classifiers on the embeddings of the same network before "
          "training.</p><table><tr><th>classifier</th><th>val AUC</th><th>" + split +
          " AUC</th><th>" + split + " pAUC (80 % TPR)</th></tr>";
  for (const auto& c : metrics.at("classifiers"))
    html += std::string("<tr") + (c.value("chosen", false) ? " class='chosen'" : "") + "><td>" +
            html_escape(c.value("classifier", "")) + (c.value("chosen", false) ? " (chosen)" : "") +
            "</td><td>" + fmt(c.value("val_auc", NAN)) + "</td><td>" + fmt(c.value("auc", NAN)) +
            "</td><td>" + fmt(c.value("pauc", NAN)) + "</td></tr>";
  for (const auto& c : metrics.at("untrained_floor"))
    html += "<tr><td>untrained: " + html_escape(c.value("classifier", "")) + "</td><td>" +
            fmt(c.value("val_auc", NAN)) + "</td><td>" + fmt(c.value("auc", NAN)) + "</td><td>" +
            fmt(c.value("pauc", NAN)) + "</td></tr>";
  html += "</table><table><tr><th>metric (chosen classifier)</th><th>value</th></tr>";
  html += "<tr><td>ROC AUC</td><td>" + interval(m, "auc", "auc_ci") + "</td></tr>";
  html += "<tr><td>pAUC above 80 % TPR (range 0–0.2, random ≈ 0.02)</td><td>" +
          interval(m, "pauc", "pauc_ci") + "</td></tr>";
  for (const auto& [key, label] : std::vector<std::pair<std::string, std::string>>{
           {"average_precision", "average precision (PR AUC)"},
           {"sensitivity", "sensitivity at the threshold"},
           {"specificity", "specificity at the threshold"},
           {"balanced_accuracy", "balanced accuracy"},
           {"accuracy", "accuracy on this split (enriched prevalence)"},
           {"accuracy_at_reference_prevalence", "accuracy at ISIC 2020 prevalence (1.76 %)"},
           {"balanced_subsample_accuracy", "accuracy on class-balanced subsamples"},
           {"brier", "Brier score"},
           {"ece", "expected calibration error"}})
    if (m.contains(key) && m[key].is_number())
      html += "<tr><td>" + label + "</td><td>" + fmt(m[key].get<double>()) + "</td></tr>";
  html += "</table>";
  if (metrics.contains("strata") && metrics["strata"].is_array()) {
    html += "<h3>AUC within strata</h3><p>When a stratum (e.g. the data source) is tied to the label, "
            "the within-stratum AUC is the figure free of that shortcut.</p><table><tr><th>stratum"
            "</th><th>images</th><th>malignant</th><th>AUC</th></tr>";
    for (const auto& st : metrics["strata"])
      html += "<tr><td>" + html_escape(st.value("stratum", "")) + "</td><td>" + st["images"].dump() +
              "</td><td>" + st["malignant"].dump() + "</td><td>" +
              (st["auc"].is_number() ? fmt(st["auc"].get<double>()) : "n/a (one class)") + "</td></tr>";
    html += "</table>";
  }
  if (m.contains("confusion_matrix")) {
    const auto& cm = m["confusion_matrix"];
    html += "<h3>Confusion matrix at the threshold " +
            fmt(metrics["chosen"].value("threshold", NAN)) +
            "</h3><table><tr><th>truth \\ predicted</th><th>benign</th><th>malignant</th></tr>"
            "<tr><td>benign</td><td>" + cm["tn"].dump() + "</td><td>" + cm["fp"].dump() +
            "</td></tr><tr><td>malignant</td><td>" + cm["fn"].dump() + "</td><td>" +
            cm["tp"].dump() + "</td></tr></table>";
  }
  if (m.contains("report_text"))
    html += "<h3>Classification report</h3><pre>" + html_escape(m["report_text"].get<std::string>()) + "</pre>";
  return html;
}

std::string curves_section(const RunDir& run, const std::string& split) {
  if (!std::filesystem::exists(run.scores(split))) return "";
  CsvTable scores = read_csv(run.scores(split));
  const int target_col = require_column(scores, {"target"}), score_col = require_column(scores, {"score"});
  std::vector<int> y;
  std::vector<double> s;
  for (size_t r = 0; r < scores.rows.size(); ++r) {
    y.push_back(static_cast<int>(number_at(scores, r, target_col)));
    s.push_back(number_at(scores, r, score_col));
  }
  RocCurve roc = roc_curve(y, s);
  PrCurve pr = precision_recall_curve(y, s);
  std::vector<ReliabilityBin> bins = reliability_curve(y, s, 10);
  ChartSeries roc_line{"chosen classifier", roc.fpr, roc.tpr, "#1f77b4"};
  ChartSeries chance{"chance", {0, 1}, {0, 1}, "#999", true};
  ChartOptions ro{"ROC (shaded: TPR ≥ 0.8, the pAUC region)", "false positive rate",
                  "true positive rate"};
  ro.shade_y_min = 0.8;
  ChartSeries pr_line{"chosen classifier", pr.recall, pr.precision, "#2ca02c"};
  const double prevalence = double(std::count(y.begin(), y.end(), 1)) / std::max<size_t>(1, y.size());
  ChartSeries base{"prevalence", {0, 1}, {prevalence, prevalence}, "#999", true};
  ChartOptions po{"Precision–recall", "recall", "precision"};
  ChartSeries rel{"observed", {}, {}, "#9467bd"};
  rel.points = true;
  for (const auto& b : bins)
    if (b.count > 0) {
      rel.x.push_back(b.mean_prob);
      rel.y.push_back(b.fraction_positive);
    }
  ChartSeries ideal{"perfect calibration", {0, 1}, {0, 1}, "#999", true};
  ChartOptions co{"Reliability (10 equal-width bins)", "mean predicted P(malignant)",
                  "observed malignant fraction"};
  return "<div class='charts'>" + svg_line_chart({roc_line, chance}, ro) +
         svg_line_chart({pr_line, base}, po) + svg_line_chart({rel, ideal}, co) + "</div>";
}

std::string retrieval_section(const nlohmann::json& metrics, const ImageCache& cache) {
  if (!metrics.contains("retrieval")) return "";
  const auto& r = metrics["retrieval"];
  std::string html = "<h2>Similar cases</h2><p>For malignant images of the evaluated split, the "
                     "nearest training images in the embedding space, the query's own patient "
                     "excluded: precision@" + r["k"].dump() + " " +
                     fmt(r.value("precision_at_k", NAN), 3) + ", mean average precision " +
                     fmt(r.value("map", NAN), 3) + " over " + r["queries"].dump() +
                     " malignant queries. Red frame: malignant.</p>";
  for (const auto& e : metrics.value("retrieval_examples", nlohmann::json::array())) {
    html += "<div class='cases'><div class='case query'><img alt='query' src='" +
            thumbnail(cache, e["image_name"]) + "'>" + html_escape(e["image_name"]) + "<br>P=" +
            fmt(e["score"].get<double>(), 3) + "</div>";
    for (const auto& n : e["neighbours"])
      html += std::string("<div class='case") + (n["target"] == 1 ? " mal" : "") +
              "'><img alt='neighbour' src='" + thumbnail(cache, n["image_name"]) + "'>" +
              html_escape(n["image_name"]) + "<br>d=" + fmt(n["distance"].get<double>(), 3) +
              "<br>" + html_escape(n.value("diagnosis", "")) + "</div>";
    html += "</div>";
  }
  return html;
}

// The threshold explorer and the embedding map: their data as one JSON blob (the same shapes as
// the server's /api/model validation_roc and /api/map) rendered by the inlined page script.
std::string interactive_section(const RunData& data, const std::string& checkpoint_id) {
  const RunDir& run = data.run;
  const nlohmann::json card = read_json_file(run.model_card());
  // The card's precision, or the training one for a card that records none (as card_precision).
  const std::string precision =
      card.value("precision", read_json_file(run.train_config()).value("precision", "fp32"));
  const ReferenceIndex index =
      read_reference_index(run, reference_index_inputs(checkpoint_id, data.cache.content_id(), precision));
  const nlohmann::json blob = {{"validation_roc", card.value("validation_roc", nlohmann::json())},
                               {"threshold", card.value("threshold", nlohmann::json())},
                               {"map", reference_map_json(index)}};
  std::string json = blob.dump();
  // "</" would end the script element early; "<\/" is the same JSON string.
  for (size_t at = json.find("</"); at != std::string::npos; at = json.find("</", at + 3))
    json.insert(at + 1, "\\");
  return "<h2>Threshold explorer and embedding map</h2>"
         "<p>Slide the threshold along the validation ROC; the map shows the training images' embeddings "
         "on their two principal axes, coloured by label.</p>"
         "<div id=\"threshold-explorer\"></div><div id=\"embedding-map\"></div>"
         "<script type=\"application/json\" id=\"report-data\">" + json + "</script><script>" +
         std::string(report_script_js()) + "</script>";
}

}  // namespace

std::string write_html_report(const std::string& run_root, const std::string& split) {
  const RunData data = load_run_data(run_root);
  const RunDir& run = data.run;
  const std::string remedy =
      "run `dermsim evaluate --run " + run_root + " --split " + split + "` first";
  if (!std::filesystem::exists(run.metrics(split)))
    throw UserError(run.metrics(split) + ": not found; " + remedy);
  if (!std::filesystem::exists(run.checkpoint_best()))
    throw UserError(run_root + ": not trained (no checkpoint-best.pt); run `dermsim train --run " +
                    run_root + "` first");
  const nlohmann::json& manifest = data.manifest;
  nlohmann::json metrics = read_json_file(run.metrics(split));
  // The metrics, their scores and the network must belong together.
  const std::string checkpoint_id = content_hash_hex(read_file(run.checkpoint_best()));
  require_made_from(run.metrics(split), metrics.value("made_from", nlohmann::json()),
                    {{"checkpoint-best.pt", checkpoint_id},
                     {"scores-" + split + ".csv", content_hash_hex(read_file(run.scores(split)))}},
                    remedy);
  const ImageCache& cache = data.cache;
  std::string html = "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>dermsim "
                     "report: " + html_escape(run_root) + "</title><style>" + kStyle +
                     "</style></head><body>";
  html += "<h1>dermsim report</h1><p>run <code>" + html_escape(run_root) + "</code></p>";
  html += "<p class='note'><b>A research tool, not a diagnostic device.</b> These numbers describe "
          "this model on this data; they are not a clinical validation.</p>";
  html += data_section(manifest) + training_section(run) + results_section(metrics, split) +
          curves_section(run, split) + retrieval_section(metrics, cache) +
          interactive_section(data, checkpoint_id);
  html += "<h2>Reproduce</h2><pre>dermsim prepare --data " +
          html_escape(manifest["data"].value("dir", "DATA")) + " --out " + html_escape(run_root) +
          " --seed " + manifest["split"]["seed"].dump() + " --image-size " +
          manifest["cache"]["image_size"].dump() + "\ndermsim train --run " + html_escape(run_root) +
          " (options in train.json)\ndermsim evaluate --run " + html_escape(run_root) + " --split " +
          split + "\ndermsim report --run " + html_escape(run_root) + "</pre>";
  html += "<p><small>dermsim commit " +
          html_escape(manifest["build"].value("dermsim_commit", "unknown")) +
          ". Images: ISIC (CC BY-NC 4.0).</small></p></body></html>\n";
  write_file_atomic(run.report(), html);
  return run.report();
}

}  // namespace dermsim
