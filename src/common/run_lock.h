// One writer per run folder. Every command that writes into a run takes RunLock first: an flock on
// RUN/.lock, which the kernel releases when the process ends however it ends (kill -9 included), so
// a stale lock can never block anyone. A second writer is refused at once, told who holds the lock.
// Readers (predict, similar, explain) take no lock: every file is replaced atomically, and the
// provenance chain catches a reader that sees files of two different moments.
#pragma once

#include <string>

namespace dermsim {

class RunLock {
 public:
  // Takes the lock on `run_root` for `command` ("train", ...), and removes temp files a killed
  // writer left there. Throws UserError naming the holder when it is taken, and when the folder
  // does not exist (unless create_folder: prepare makes the run).
  RunLock(const std::string& run_root, const std::string& command, bool create_folder = false);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace dermsim
