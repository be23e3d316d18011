// `--nproc N` and `--dist-timeout` of the commands that run as data-parallel ranks (train, and
// predict and embed sharded over their inputs): one host starts its ranks itself; several hosts
// place them with torchrun's variables.
#pragma once

#include <string>
#include <vector>

#include "distributed/process_group.h"

namespace CLI {
class App;
}

namespace dermsim::cli {

struct RankArgs {
  int nproc = 1;
  int dist_timeout = 300;  // seconds a rank waits for the others
};

void add_rank_options(CLI::App* cmd, RankArgs& args);

// With `--nproc N > 1` and no launcher's WORLD_SIZE, this process is the launcher: it runs the
// command line `argv` as N local ranks, waits for them and returns true (nothing is left to do).
// Otherwise returns false: this process is a rank (or the only one). Throws UserError when a rank
// failed, or when --nproc disagrees with a launcher's WORLD_SIZE.
bool launched_local_ranks(const CLI::App& cmd, const RankArgs& args, const RankPlace& place,
                          const std::vector<std::string>& argv);

// The CPU threads of this rank: `threads` as given (--threads), else the host's cores shared by its
// ranks; 0 (one per core) for a single rank.
int threads_of_rank(const CLI::App& cmd, int threads, const RankPlace& place);

}  // namespace dermsim::cli
