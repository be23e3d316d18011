// Writes that never leave a half-written file behind: write to "<path>.tmp-<pid>", flush, rename.
// Every checkpoint, cache, split and report of a run goes through here.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace dermsim {

// Replaces `path` with `contents` atomically. Throws UserError naming the path on failure.
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

// For large outputs written piece by piece (the image cache): write through file(), then commit().
// Destroying an uncommitted AtomicFile removes the temp file, so an interrupted build leaves nothing.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::FILE* file() { return file_; }
  void write(const void* data, size_t bytes);
  void commit();  // flush, fsync, rename over the final path

 private:
  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
};

}  // namespace dermsim
