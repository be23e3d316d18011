#include "distributed/local_ranks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <thread>

#include "common/error.h"

extern char** environ;

namespace dermsim {

int free_local_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw UserError(std::string("--nproc: cannot open a socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  const int error = errno;
  close(fd);
  if (!ok)
    throw UserError(std::string("--nproc: no free port on 127.0.0.1: ") + std::strerror(error));
  return ntohs(address.sin_port);
}

namespace {

// This process's environment with torchrun's variables for one local rank (built before fork:
// the child only calls execve).
std::vector<std::string> rank_environment(int rank, int nproc, int port) {
  const std::map<std::string, std::string> place = {
      {"MASTER_ADDR", "127.0.0.1"},          {"MASTER_PORT", std::to_string(port)},
      {"WORLD_SIZE", std::to_string(nproc)}, {"RANK", std::to_string(rank)},
      {"LOCAL_RANK", std::to_string(rank)},  {"LOCAL_WORLD_SIZE", std::to_string(nproc)}};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    if (place.count(entry.substr(0, entry.find('='))) == 0) env.push_back(entry);
  }
  for (const auto& [name, value] : place) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& items) {
  std::vector<char*> out;
  for (auto& item : items) out.push_back(item.data());
  out.push_back(nullptr);
  return out;
}

pid_t start_rank(int rank, int nproc, int port, std::vector<std::string> argv) {
  std::vector<std::string> env = rank_environment(rank, nproc, port);
  std::vector<char*> c_argv = c_strings(argv), c_env = c_strings(env);
  const pid_t launcher = getpid();
  const pid_t pid = fork();
  if (pid < 0)
    throw UserError("--nproc: cannot start rank " + std::to_string(rank) + ": " +
                    std::strerror(errno));
  if (pid > 0) return pid;
  // A rank dies with its launcher: no orphan keeps training (or holding the run's lock).
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != launcher) _exit(1);
  execve("/proc/self/exe", c_argv.data(), c_env.data());
  _exit(127);
}

std::string how_it_ended(int status) {
  if (WIFSIGNALED(status))
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

LocalRanksOutcome run_local_ranks(int nproc, const std::vector<std::string>& argv,
                                  int grace_seconds) {
  const int port = free_local_port();
  std::map<pid_t, int> running;  // pid -> rank
  for (int rank = 0; rank < nproc; ++rank) running[start_rank(rank, nproc, port, argv)] = rank;
  LocalRanksOutcome outcome;
  bool stopping = false;  // a rank failed: the others have until `deadline`
  auto deadline = std::chrono::steady_clock::now();
  while (!running.empty()) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, stopping ? WNOHANG : 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) break;
    if (pid == 0) {  // a rank failed; the others are still finishing
      if (std::chrono::steady_clock::now() > deadline) {
        for (const auto& [other, rank] : running) {
          std::fprintf(stderr, "dermsim: rank %d of %d did not stop within %d s: killing it\n",
                       rank, nproc, grace_seconds);
          kill(other, SIGKILL);
        }
        stopping = false;  // wait for them without polling
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const int rank = it->second;
    running.erase(it);
    if ((WIFEXITED(status) && WEXITSTATUS(status) == 0) || !outcome.failure.empty()) continue;
    outcome.failed_rank_reported = WIFEXITED(status) && WEXITSTATUS(status) == 2;
    const std::string which = "rank " + std::to_string(rank) + " of " + std::to_string(nproc);
    outcome.failure = which + " " + how_it_ended(status) + "; the other ranks were stopped";
    if (!running.empty())
      std::fprintf(stderr, "dermsim: %s %s: the other ranks stop at their next collective (%d s at most)\n",
                   which.c_str(), how_it_ended(status).c_str(), grace_seconds);
    stopping = true;
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(grace_seconds);
  }
  return outcome;
}

}  // namespace dermsim
