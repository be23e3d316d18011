// dermsim: a thin command line over the library. Each subcommand lives in its own file.
#include <CLI/CLI.hpp>

#include <malloc.h>

#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "common/error.h"

int main(int argc, char** argv) {
  // Keep freed batch-sized buffers in the heap instead of mapping and unmapping them every step.
  // glibc's defaults made augmentation ~5x slower (bench/augment_bench); a raised mmap threshold
  // alone still maps the first conv layer's 33 MB activations at batch 64 (3.5-4x slower steps,
  // bench/train_bench), so large blocks are never mmap'd.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  CLI::App app{
      "dermsim: a Siamese similarity space for dermoscopic lesion images (ISIC 2020).\n"
      "A research tool, not a diagnostic device."};
  app.require_subcommand(1);
  dermsim::cli::add_prepare_command(app);
  dermsim::cli::add_train_command(app);
  dermsim::cli::add_evaluate_command(app);
  dermsim::cli::add_predict_command(app);
  dermsim::cli::add_similar_command(app);
  dermsim::cli::add_embed_command(app);
  dermsim::cli::add_score_command(app);
  dermsim::cli::add_report_command(app);
  if (argc == 1) {  // a bare `dermsim`: show the commands rather than only "a subcommand is required"
    std::fputs(app.help().c_str(), stderr);
    return 1;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const dermsim::UserError& e) {
    std::fprintf(stderr, "dermsim: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dermsim: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
