// Writes that never leave a half-written file behind: write to "<path>.tmp-<pid>", flush, rename.
// Every checkpoint, cache, split and report of a run goes through here.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace dermsim {

// Replaces `path` with `contents` atomically. Throws UserError naming the path on failure.
void write_file_atomic(const std::string& path, std::string_view contents);

// Reads a whole file; throws UserError naming the path if it cannot be read.
std::string read_file(const std::string& path);

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
