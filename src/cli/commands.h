// Each dermsim subcommand registers itself on the CLI11 app; main() only dispatches.
#pragma once

namespace CLI {
class App;
}

namespace dermsim::cli {

void add_prepare_command(CLI::App& app);

}  // namespace dermsim::cli
