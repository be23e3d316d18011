// The one way dermsim writes a file: to a uniquely named temp file beside it ("<path>.tmp-XXXXXX"),
// fsync, rename over the final name, fsync the folder. A reader sees the old file or the new one,
// never half of one; a crash or a full disk leaves the previous file intact. Every checkpoint,
// cache, split, model card, metrics file and report goes through here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dermsim {

// Replaces `path` with `contents` atomically. Throws UserError naming the path on failure (a full
// disk says "no space left on device"), after removing the temp file.
void write_file_atomic(const std::string& path, std::string_view contents);

// Reads a whole file; throws UserError naming the path if it cannot be read.
std::string read_file(const std::string& path);

// For large outputs written piece by piece (the image cache): reserve(), write() or pwrite through
// fd(), then commit(). Destroying an uncommitted AtomicFile removes the temp file.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Allocates the file's final size up front, so a full disk fails now, not after an hour of work.
  void reserve(uint64_t bytes);
  void write(const void* data, size_t bytes);                     // appends
  void write_at(const void* data, size_t bytes, uint64_t offset);  // pwrite: safe from many threads
  void commit();  // fsync, rename over the final path, fsync the folder

 private:
  [[noreturn]] void fail(const std::string& what, int error);

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
};

// Removes the temp files a killed writer left in `dir`; returns how many. Call it only while
// holding the folder's RunLock, so that no live writer's temp file is taken.
int remove_stale_temp_files(const std::string& dir);

}  // namespace dermsim
