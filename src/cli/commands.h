// Each dermsim subcommand registers itself on the CLI11 app; main() only dispatches.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace dermsim::cli {

void add_prepare_command(CLI::App& app);
// argv: the whole command line, which `--nproc N` runs again as each of its ranks.
void add_train_command(CLI::App& app, const std::vector<std::string>& argv);
void add_evaluate_command(CLI::App& app);
void add_predict_command(CLI::App& app, const std::vector<std::string>& argv);
void add_embed_command(CLI::App& app, const std::vector<std::string>& argv);
void add_similar_command(CLI::App& app);
void add_score_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_explain_command(CLI::App& app);
void add_serve_command(CLI::App& app);

}  // namespace dermsim::cli
