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

constexpr const char* kTempMarker = ".tmp-";

std::string parent_folder(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

// rename() is durable only once the folder entry itself is on disk.
void fsync_folder(const std::string& path) {
  const int dir = ::open(parent_folder(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return;  // nothing more we can do; the rename itself succeeded
  ::fsync(dir);
  ::close(dir);
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  std::string pattern = path_ + kTempMarker + "XXXXXX";
  fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd_ < 0) throw UserError(path_ + ": cannot write: " + std::strerror(errno));
  temp_path_ = pattern;
  ::fchmod(fd_, 0644);  // mkstemp's 0600 would hide results from other users of a shared run
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_path_.c_str());
  }
}

void AtomicFile::fail(const std::string& what, int error) {
  ::close(fd_);
  fd_ = -1;
  ::unlink(temp_path_.c_str());
  throw UserError(path_ + ": " + what + ": " +
                  (error == ENOSPC ? std::string("no space left on device") : std::strerror(error)));
}

void AtomicFile::reserve(uint64_t bytes) {
  if (bytes == 0) return;
  const int error = ::posix_fallocate(fd_, 0, static_cast<off_t>(bytes));
  if (error != 0) fail("cannot allocate " + std::to_string(bytes) + " bytes", error);
}

void AtomicFile::write(const void* data, size_t bytes) {
  const off_t end = ::lseek(fd_, 0, SEEK_CUR);
  if (end < 0) fail("write failed", errno);
  write_at(data, bytes, static_cast<uint64_t>(end));
  if (::lseek(fd_, end + static_cast<off_t>(bytes), SEEK_SET) < 0) fail("write failed", errno);
}

void AtomicFile::write_at(const void* data, size_t bytes, uint64_t offset) {
  const auto* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t written = ::pwrite(fd_, p, bytes, static_cast<off_t>(offset));
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) fail("write failed", written < 0 ? errno : ENOSPC);
    p += written;
    bytes -= static_cast<size_t>(written);
    offset += static_cast<uint64_t>(written);
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) fail("flush failed", errno);
  if (::close(fd_) != 0) {
    fd_ = -1;
    ::unlink(temp_path_.c_str());
    throw UserError(path_ + ": flush failed: " + std::strerror(errno));
  }
  fd_ = -1;
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp_path_.c_str());
    throw UserError(path_ + ": cannot replace: " + std::strerror(error));
  }
  fsync_folder(path_);
}

void write_file_atomic(const std::string& path, std::string_view contents) {
  AtomicFile out(path);
  out.write_at(contents.data(), contents.size(), 0);
  out.commit();
}

int remove_stale_temp_files(const std::string& dir) {
  int removed = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    const size_t marker = name.rfind(kTempMarker);
    // Only our own pattern: "<name>.tmp-" followed by mkstemp's six characters.
    if (marker == std::string::npos || marker == 0 ||
        name.size() != marker + std::strlen(kTempMarker) + 6 || !entry.is_regular_file(error))
      continue;
    if (std::filesystem::remove(entry.path(), error)) ++removed;
  }
  return removed;
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
