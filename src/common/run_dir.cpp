#include "common/run_dir.h"

#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"

#ifndef DERMSIM_GIT_COMMIT
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

nlohmann::json read_json_file(const std::string& path) {
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::parse_error& e) {
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
