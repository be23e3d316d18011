#include "common/run_dir.h"

#include <ctime>
#include <filesystem>
#include <vector>

#include "common/atomic_file.h"
#include "common/error.h"

#if __has_include("dermsim_commit.h")  // written at each build (cmake/write_commit.cmake)
#include "dermsim_commit.h"
#else  // the fuzz build's library
#define DERMSIM_GIT_COMMIT "unknown"
#endif

namespace dermsim {

RunDir open_run(const std::string& root) {
  RunDir run{root};
  if (!std::filesystem::exists(run.manifest()))
    throw UserError(root + ": not a prepared run (no manifest.json); run `dermsim prepare --out " +
                    root + "` first");
  return run;
}

namespace {

bool made_by_training(const std::string& name) {
  auto starts = [&](const char* prefix) { return name.rfind(prefix, 0) == 0; };
  return name == "train.json" || name == "training-log.csv" || name == "model.json" ||
         name == "reference-index.bin" || name == "report.html" || name == "ensemble.json" ||
         name == "folds" || starts("checkpoint-") ||
         starts("metrics-") || starts("scores-") || starts("embeddings-");
}

std::string utc_stamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H-%M-%SZ", &utc);
  return text;
}

}  // namespace

bool has_fold_training(const RunDir& run) { return std::filesystem::exists(run.folds_config()); }

bool has_training(const RunDir& run) {
  namespace fs = std::filesystem;
  return fs::exists(run.train_config()) || fs::exists(run.checkpoint_last()) ||
         fs::exists(run.checkpoint_best()) || fs::exists(run.folds());
}

std::string set_aside_training(const RunDir& run) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(run.root, error))
    if ((entry.is_regular_file() || entry.is_directory()) &&
        made_by_training(entry.path().filename().string()))
      files.push_back(entry.path());
  if (files.empty()) return "";
  std::string folder = run.superseded() + "/" + utc_stamp();
  for (int n = 2; fs::exists(folder); ++n) folder = run.superseded() + "/" + utc_stamp() + "-" + std::to_string(n);
  fs::create_directories(folder, error);
  if (error) throw UserError(folder + ": cannot create: " + error.message());
  for (const auto& file : files) {
    fs::rename(file, fs::path(folder) / file.filename(), error);
    if (error) throw UserError(file.string() + ": cannot move to " + folder + ": " + error.message());
  }
  return folder;
}

nlohmann::json read_json_file(const std::string& path) {
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for 1e99999
    throw UserError(path + ": not valid JSON: " + e.what());
  }
}

void write_json_file(const std::string& path, const nlohmann::json& value) {
  write_file_atomic(path, value.dump(2) + "\n");
}

nlohmann::json build_info() {
  return {{"dermsim_commit", DERMSIM_GIT_COMMIT},
          {"compiler", __VERSION__},
          {"cplusplus", __cplusplus}};
}

}  // namespace dermsim
