// `--nproc N` on one host: this process starts N ranks of the same command as child processes,
// each told its place through torchrun's variables, and waits for them. Torch-free.
#pragma once

#include <string>
#include <vector>

namespace dermsim {

struct LocalRanksOutcome {
  // "" when every rank succeeded, else which rank failed first and how ("rank 1 of 2 was killed by
  // signal 9 (Killed); ...").
  std::string failure;
  // That rank exited with status 2, dermsim's exit after a one-line error it printed itself.
  bool failed_rank_reported = false;
};

// Runs `argv` (argv[0] is ignored: the children run this same executable) as `nproc` ranks on
// 127.0.0.1 with a free port for rank 0's store. When a rank fails, the others get `grace_seconds`
// to notice and exit on their own, then are killed. They notice at their next collective, which
// fails at once on a closed connection or after their own timeout on a silent one, but between two
// collectives a rank may be validating or writing a checkpoint: so the grace should be at least the
// ranks' timeout.
LocalRanksOutcome run_local_ranks(int nproc, const std::vector<std::string>& argv,
                                  int grace_seconds);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int free_local_port();

}  // namespace dermsim
