#include "common/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"

namespace dermsim {

namespace {

std::string holder_of(int fd) {
  char text[256] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  std::string holder = n > 0 ? std::string(text, static_cast<size_t>(n)) : "";
  while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
  return holder.empty() ? "another dermsim process" : holder;
}

}  // namespace

RunLock::RunLock(const std::string& run_root, const std::string& command, bool create_folder) {
  std::error_code error;
  if (create_folder) std::filesystem::create_directories(run_root, error);
  if (!std::filesystem::is_directory(run_root, error))
    throw UserError(run_root + ": not a run folder; run `dermsim prepare --out " + run_root +
                    "` first");
  const std::string path = run_root + "/.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw UserError(path + ": cannot open the run lock: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const std::string holder = holder_of(fd_);
    ::close(fd_);
    fd_ = -1;
    throw UserError(run_root + ": in use by " + holder +
                    "; one command at a time writes a run folder (wait for it, or stop it)");
  }
  // Who holds it, for the message a second writer gets. Written in place: the file is only a
  // note, and the flock, not its contents, is the lock.
  const std::string note = "`dermsim " + command + "` (pid " + std::to_string(::getpid()) +
                           ", since " + std::to_string(static_cast<long long>(std::time(nullptr))) +
                           " unix time)\n";
  if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, note.data(), note.size(), 0) < 0) {
    // A full disk must not stop the command here; the lock itself holds.
  }
  remove_stale_temp_files(run_root);
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace dermsim
