// dermsim: a thin command line over the library. Each subcommand lives in its own file.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "common/allocator.h"
#include "common/error.h"

int main(int argc, char** argv) {
  dermsim::keep_large_buffers_in_heap();
  CLI::App app{
      "dermsim: a Siamese similarity space for dermoscopic lesion images (ISIC 2020).\n"
      "A research tool, not a diagnostic device."};
  app.require_subcommand(1);
  dermsim::cli::add_prepare_command(app);
  const std::vector<std::string> command_line(argv, argv + argc);
  dermsim::cli::add_train_command(app, command_line);
  dermsim::cli::add_evaluate_command(app);
  dermsim::cli::add_predict_command(app, command_line);
  dermsim::cli::add_similar_command(app);
  dermsim::cli::add_embed_command(app, command_line);
  dermsim::cli::add_score_command(app);
  dermsim::cli::add_report_command(app);
  dermsim::cli::add_explain_command(app);
  dermsim::cli::add_serve_command(app);
  if (argc == 1) {  // a bare `dermsim`: show the commands rather than only "a subcommand is required"
    std::fputs(app.help().c_str(), stderr);
    return 1;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A bad flag is the user's: one line and exit 2, like every other user error.
    std::fprintf(stderr, "dermsim: error: %s (see --help)\n", e.what());
    return 2;
  } catch (const dermsim::AlreadyReported&) {
    return 2;
  } catch (const dermsim::UserError& e) {
    std::fprintf(stderr, "dermsim: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dermsim: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
