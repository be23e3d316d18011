#include "cli/rank_options.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <thread>

#include "common/error.h"
#include "distributed/local_ranks.h"

namespace dermsim::cli {

namespace {
// A surviving rank stops by its own --dist-timeout at the latest; this is its time to exit after.
constexpr int kGraceBeyondTimeoutSeconds = 5;
}  // namespace

void add_rank_options(CLI::App* cmd, RankArgs& args) {
  cmd->add_option("--nproc", args.nproc,
                  "data-parallel ranks (processes) on this host, sharing its cores; several hosts: "
                  "run the same command on each under torchrun's MASTER_ADDR, MASTER_PORT, "
                  "WORLD_SIZE, RANK, LOCAL_RANK instead")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--dist-timeout", args.dist_timeout,
                  "seconds a rank waits for the others (then fails) when run as several ranks")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
}

bool launched_local_ranks(const CLI::App& cmd, const RankArgs& args, const RankPlace& place,
                          const std::vector<std::string>& argv) {
  if (args.nproc > 1 && place.world_size == 1) {
    const LocalRanksOutcome outcome = run_local_ranks(args.nproc, argv, args.dist_timeout + kGraceBeyondTimeoutSeconds);
    if (outcome.failure.empty()) return true;
    if (outcome.failed_rank_reported) throw AlreadyReported();
    throw UserError(outcome.failure);
  }
  if (cmd.count("--nproc") > 0 && args.nproc != place.world_size)
    throw UserError("--nproc " + std::to_string(args.nproc) +
                    " under WORLD_SIZE=" + std::to_string(place.world_size) +
                    ": a launcher already placed this rank; drop --nproc");
  return false;
}

int threads_of_rank(const CLI::App& cmd, int threads, const RankPlace& place) {
  if (cmd.count("--threads") > 0 || place.local_world_size == 1) return threads;
  return std::max(1,
                  static_cast<int>(std::thread::hardware_concurrency()) / place.local_world_size);
}

}  // namespace dermsim::cli
