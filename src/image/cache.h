// The run's image cache: every image decoded once, fitted to image_size x image_size, stored as
// uint8 HWC in one file that training memory-maps. Rebuilt only when its inputs change.
//
// Layout (little-endian): CacheHeader | names table (per image: u32 length, bytes) | one u64
// ContentHash per image | zero padding to a 4096 boundary | count images of image_size^2*3 bytes.
// Opening a cache verifies every image against its checksum (3-4 GB/s measured: ~0.4 s for full
// ISIC at 128 px), so damaged bytes anywhere are refused, never used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "image/resize.h"

namespace dermsim {

struct CacheBuildOptions {
  int image_size = 128;
  ImageFit fit;
  int threads = 0;  // 0 = all cores
  bool show_progress = true;
  // Leave unreadable images out (listed in CacheBuildResult::skipped) instead of failing on the first.
  bool skip_unreadable = false;
};

struct SkippedImage {
  std::string name;
  std::string error;
};

struct CacheBuildResult {
  long images = 0;
  double seconds = 0;
  long long bytes = 0;  // size of the cache file
  bool reused = false;  // the existing file matched the inputs; nothing was decoded
  std::string rebuilt_because;  // why an existing cache was not reused ("" when none existed)
  std::vector<SkippedImage> skipped;  // with skip_unreadable: the images left out, in input order
};

// Builds cache_path from paths[i] stored under names[i] (names must be unique). Reuses an existing
// cache whose source checksum (names, file sizes and mtimes, image_size, fit, format version)
// matches and whose pixels verify. A missing or bad image throws UserError naming it and leaves no
// cache file behind, unless options.skip_unreadable: then the cache holds the readable images, in
// input order, and the rest are listed in the result.
CacheBuildResult build_image_cache(const std::vector<std::string>& names,
                                   const std::vector<std::string>& paths,
                                   const std::string& cache_path, const CacheBuildOptions& options);

// The checksum build_image_cache stores; exposed so callers can tell whether a cache is current.
uint64_t image_cache_checksum(const std::vector<std::string>& names,
                              const std::vector<std::string>& paths,
                              const CacheBuildOptions& options);

// Read-only view of a cache file through mmap; pixels are paged in on demand.
class ImageCache {
 public:
  // Validates magic, version, every size and offset against the file length, the header's own
  // checksum and every image's checksum: a truncated, foreign or damaged file throws UserError
  // naming it (and the first damaged image).
  static ImageCache open(const std::string& path);

  ImageCache(ImageCache&& other) noexcept;
  ImageCache& operator=(ImageCache&& other) noexcept;
  ImageCache(const ImageCache&) = delete;
  ImageCache& operator=(const ImageCache&) = delete;
  ~ImageCache();

  size_t size() const { return names_.size(); }
  int image_size() const { return image_size_; }
  const uint8_t* image(size_t i) const;  // image_size * image_size * 3 bytes, HWC RGB
  const std::string& name(size_t i) const { return names_.at(i); }
  long index_of(const std::string& name) const;  // -1 if absent
  uint64_t source_checksum() const { return source_checksum_; }
  // Identity of the content (names, pixels, size, fit): the same images decoded again give the same
  // id, whatever their file times. What the provenance chain records for cache.bin.
  const std::string& content_id() const { return content_id_; }
  const std::string& path() const { return path_; }

 private:
  ImageCache() = default;
  void release();

  std::string path_;
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
  const uint8_t* pixels_ = nullptr;
  int image_size_ = 0;
  uint64_t source_checksum_ = 0;
  std::string content_id_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, size_t> index_;
};

// Per-channel mean and standard deviation of pixel values in [0, 1] over the given images (training
// normalises with the train split's statistics, so validation never leaks into them).
struct ChannelStats {
  double mean[3];
  double std[3];
};
ChannelStats channel_stats(const ImageCache& cache, const std::vector<size_t>& indices);

}  // namespace dermsim
