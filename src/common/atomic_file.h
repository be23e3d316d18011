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

// The default cap of read_file. Its inputs are CSVs, JSON and weights: ISIC 2020's full metadata CSV
// is 2 MB, a kNN model card with 33k embeddings ~25 MB, ResNet-18 weights ~45 MB. 2 GiB leaves a
// user's own CSV room to be 1000x larger while still refusing, before any allocation, a file that
// could not be parsed in memory anyway (the parsed table takes a few times the text).
constexpr size_t kMaxReadFileBytes = size_t{2} << 30;

// Reads a whole regular file of at most max_bytes. Throws UserError naming the path if it cannot
// be read, is not a regular file (a directory, a device such as /dev/zero, a FIFO that would
// block forever, a socket) or is larger than max_bytes. Never blocks on open and never allocates
// more than the file's size (+1 byte to notice a file that grows while read).
std::string read_file(const std::string& path, size_t max_bytes = kMaxReadFileBytes);

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
