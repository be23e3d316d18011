#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace dermsim::cli {

void add_prepare_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("prepare", "validate metadata, split by patient, build the image cache");
  cmd->callback([] {});
}

}  // namespace dermsim::cli
