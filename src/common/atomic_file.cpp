#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace dermsim {

namespace {
std::string temp_name(const std::string& path) {
  return path + ".tmp-" + std::to_string(::getpid());
}
}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), temp_path_(temp_name(path_)) {
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (!file_) throw UserError(path_ + ": cannot write: " + std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (file_) {
    std::fclose(file_);
    std::remove(temp_path_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t bytes) {
  if (bytes && std::fwrite(data, 1, bytes, file_) != bytes)
    throw UserError(path_ + ": write failed: " + std::strerror(errno));
}

void AtomicFile::commit() {
  if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0)
    throw UserError(path_ + ": flush failed: " + std::strerror(errno));
  std::fclose(file_);
  file_ = nullptr;
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    std::remove(temp_path_.c_str());
    throw UserError(path_ + ": rename failed: " + std::strerror(errno));
  }
}

void write_file_atomic(const std::string& path, std::string_view contents) {
  AtomicFile out(path);
  out.write(contents.data(), contents.size());
  out.commit();
}

std::string read_file(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. The type is
  // checked on the open descriptor (fstat), so the file cannot be swapped between check and read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw UserError(path + ": cannot read: " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) throw UserError(path + ": cannot read: " + std::strerror(errno));
  if (!S_ISREG(info.st_mode)) {
    const char* kind = S_ISDIR(info.st_mode)                              ? "a directory"
                       : S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode) ? "a device"
                       : S_ISFIFO(info.st_mode)                           ? "a FIFO (named pipe)"
                       : S_ISSOCK(info.st_mode)                           ? "a socket"
                                                                          : "not a plain file";
    throw UserError(path + ": not a regular file (" + kind + "), refusing to read it");
  }
  if (static_cast<unsigned long long>(info.st_size) > max_bytes)
    throw UserError(path + ": file too large (" + std::to_string(info.st_size) +
                    " bytes; the limit is " + std::to_string(max_bytes) + ")");
  // One byte more than the size found, to notice a file that grows while being read (a log, a
  // download in progress): half a file would otherwise parse as a shorter valid one.
  std::string contents(static_cast<size_t>(info.st_size) + 1, '\0');
  size_t used = 0;
  while (used < contents.size()) {
    const ssize_t n = ::read(fd, contents.data() + used, contents.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw UserError(path + ": read failed: " + std::strerror(errno));
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (used > static_cast<size_t>(info.st_size))
    throw UserError(path + ": file changed size while being read");
  contents.resize(used);
  return contents;
}

}  // namespace dermsim
