// Running `dermsim ... --nproc N` (or a launcher) from a shell line, and killing one of its ranks
// on the way, found among this host's processes.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace dermsim::testing {

// /proc files report size 0, so they are read as streams.
inline std::string read_stream(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The pid of the process whose command line holds `needle` and whose environment has RANK=rank.
inline pid_t pid_of_rank(const std::string& needle, int rank) {
  const std::string wanted = std::string("RANK=") + std::to_string(rank) + '\0';
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string cmdline = read_stream(entry.path() / "cmdline");
    const std::string environ = '\0' + read_stream(entry.path() / "environ");
    if (cmdline.find(needle) != std::string::npos &&
        environ.find('\0' + wanted) != std::string::npos)
      return static_cast<pid_t>(std::stol(name));
  }
  return 0;
}

struct ShellRun {
  int status = -1;     // as waitpid reports it
  std::string output;  // stdout and stderr together
  bool killed_rank_one = false;
};

// Runs the shell line `command` with its stderr in its output. With `kill_when`, the first time the
// output holds that text, rank 1 of the processes whose command line holds `needle` gets SIGKILL.
inline ShellRun run_shell(const std::string& command, const std::string& kill_when = "",
                          const std::string& needle = "") {
  ShellRun run;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return run;
  char line[4096];
  while (fgets(line, sizeof line, pipe)) {
    run.output += line;
    if (!kill_when.empty() && !run.killed_rank_one &&
        run.output.find(kill_when) != std::string::npos) {
      const pid_t rank_one = pid_of_rank(needle, 1);
      run.killed_rank_one = rank_one > 0 && kill(rank_one, SIGKILL) == 0;
      if (!run.killed_rank_one) run.output += "(test: rank 1 not found or not killed)\n";
    }
  }
  run.status = pclose(pipe);
  return run;
}

}  // namespace dermsim::testing
