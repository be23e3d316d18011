// `dermsim report`: one self-contained HTML page with everything about a run.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"
#include "common/run_lock.h"
#include "report/html_report.h"

namespace dermsim::cli {

void add_report_command(CLI::App& app) {
  auto run = std::make_shared<std::string>();
  auto split = std::make_shared<std::string>("test");
  auto* cmd = app.add_subcommand("report", "write RUN/report.html (self-contained)");
  cmd->add_option("--run", *run, "evaluated run folder")->required();
  cmd->add_option("--split", *split, "the evaluated split to report")->capture_default_str()
      ->check(CLI::IsMember({"val", "test"}));
  cmd->callback([run, split] {
    RunLock lock(*run, "report");
    std::printf("wrote %s\n", write_html_report(*run, *split).c_str());
  });
}

}  // namespace dermsim::cli
