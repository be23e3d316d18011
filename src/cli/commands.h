// Each dermsim subcommand registers itself on the CLI11 app; main() only dispatches.
#pragma once

namespace CLI {
class App;
}

namespace dermsim::cli {

void add_prepare_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_evaluate_command(CLI::App& app);
void add_predict_command(CLI::App& app);
void add_embed_command(CLI::App& app);
void add_similar_command(CLI::App& app);
void add_score_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_explain_command(CLI::App& app);
void add_serve_command(CLI::App& app);

}  // namespace dermsim::cli
