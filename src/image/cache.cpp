// Builds the image cache in parallel (workers pwrite each image straight into its slot of the temp
// file, so a 1.6 GB cache never sits in RAM) and opens it read-only through mmap, with validation.
#include "image/cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <unordered_set>
#include <utility>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/parallel_for.h"
#include "common/progress.h"
#include "image/decode.h"

namespace dermsim {

namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the cache format is little-endian");

constexpr char kMagic[8] = {'D', 'E', 'R', 'M', 'S', 'I', 'M', 'C'};
constexpr uint32_t kFormatVersion = 2;  // 2: per-image checksums and a header checksum
constexpr uint32_t kChannels = 3;
constexpr uint32_t kMaxImageSize = 4096;
constexpr uint64_t kPixelAlignment = 4096;  // page-aligned images: mmap reads never straddle names

struct CacheHeader {
  char magic[8];
  uint32_t version;
  uint32_t image_size;
  uint32_t channels;
  uint32_t fit_mode;  // fit_code()
  uint64_t count;
  uint64_t source_checksum;
  uint64_t names_offset, names_bytes;
  uint64_t checksums_offset;  // count u64 ContentHash values, one per image
  uint64_t pixels_offset, pixels_bytes;
  uint64_t header_checksum;  // of the fields above, the names table and the checksum table
};
static_assert(sizeof(CacheHeader) == 88, "CacheHeader must have no padding");

// The shape fit in the low byte, the colour step above it: caches made before the colour step
// existed (colour as taken) keep their code, so they stay valid.
uint32_t fit_code(const ImageFit& fit) {
  return static_cast<uint32_t>(fit.mode) | static_cast<uint32_t>(fit.colour) << 8;
}

uint64_t round_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

std::string names_table(const std::vector<std::string>& names) {
  std::string table;
  for (const auto& name : names) {
    const auto length = static_cast<uint32_t>(name.size());
    table.append(reinterpret_cast<const char*>(&length), sizeof length);
    table += name;
  }
  return table;
}

uint64_t pixel_checksum(const uint8_t* pixels, size_t bytes) {
  ContentHash hash;
  hash.add(pixels, bytes);
  return hash.value();
}

uint64_t header_checksum(const CacheHeader& header, std::string_view names,
                         const std::vector<uint64_t>& checksums) {
  ContentHash hash;
  hash.add(&header, offsetof(CacheHeader, header_checksum));
  hash.add(names);
  hash.add(checksums.data(), checksums.size() * sizeof(uint64_t));
  return hash.value();
}

// What the provenance chain calls cache.bin: its content, not its file times.
std::string cache_content_id(uint32_t image_size, uint32_t fit_mode, std::string_view names,
                       const std::vector<uint64_t>& checksums) {
  ContentHash hash;
  hash.add_u64(image_size);
  hash.add_u64(fit_mode);
  hash.add(names);
  hash.add(checksums.data(), checksums.size() * sizeof(uint64_t));
  return hash.hex();
}

struct DecodedSlots {
  std::vector<uint64_t> checksums;   // per input image
  std::vector<std::string> errors;   // per input image, "" when decoded
};

// Decodes every image into its slot of the temp file. Without skip_unreadable, the first failure
// stops the other workers and is rethrown here.
DecodedSlots decode_into_slots(const std::vector<std::string>& paths,
                               const CacheBuildOptions& options, AtomicFile& out,
                               uint64_t pixels_offset, ProgressBar* progress) {
  const size_t image_bytes =
      static_cast<size_t>(options.image_size) * options.image_size * kChannels;
  DecodedSlots slots{std::vector<uint64_t>(paths.size(), 0), std::vector<std::string>(paths.size())};
  parallel_for(paths.size(), options.threads, [&](size_t i) {
    RgbImage fitted;
    try {
      fitted = fit_square(decode_image_file(paths[i], options.image_size), options.image_size,
                          options.fit);
    } catch (const UserError& e) {
      if (!options.skip_unreadable) throw;
      slots.errors[i] = e.what();  // each index is written by one thread only
    }
    if (slots.errors[i].empty()) {
      out.write_at(fitted.pixels.data(), image_bytes, pixels_offset + i * image_bytes);
      slots.checksums[i] = pixel_checksum(fitted.pixels.data(), image_bytes);
    }
    if (progress) progress->advance();
  });
  return slots;
}

// Moves the slots of kept images down over those of skipped ones (only when some were skipped).
void compact_slots(AtomicFile& out, const std::vector<std::string>& errors, uint64_t pixels_offset,
                   size_t image_bytes) {
  std::vector<uint8_t> buffer(image_bytes);
  size_t kept = 0;
  for (size_t i = 0; i < errors.size(); ++i) {
    if (!errors[i].empty()) continue;
    if (kept != i) {
      if (::pread(out.fd(), buffer.data(), image_bytes,
                  static_cast<off_t>(pixels_offset + i * image_bytes)) != static_cast<ssize_t>(image_bytes))
        throw UserError(out.path() + ": cannot read back a cached image: " + std::strerror(errno));
      out.write_at(buffer.data(), image_bytes, pixels_offset + kept * image_bytes);
    }
    ++kept;
  }
  if (::ftruncate(out.fd(), static_cast<off_t>(pixels_offset + kept * image_bytes)) != 0)
    throw UserError(out.path() + ": cannot size the cache file: " + std::strerror(errno));
}

// The images of `names` that `existing` does not hold: those a skip_unreadable build left out.
std::vector<SkippedImage> left_out_of(const ImageCache& existing, const std::vector<std::string>& names) {
  std::vector<SkippedImage> skipped;
  for (const auto& name : names)
    if (existing.index_of(name) < 0)
      skipped.push_back({name, name + ": unreadable (left out when the cache was built)"});
  return skipped;
}

}  // namespace

uint64_t image_cache_checksum(const std::vector<std::string>& names,
                              const std::vector<std::string>& paths,
                              const CacheBuildOptions& options) {
  if (names.size() != paths.size())
    throw std::invalid_argument("image_cache_checksum: names and paths differ in length");
  ContentHash hash;
  hash.add_u64(kFormatVersion);
  hash.add_u64(static_cast<uint64_t>(options.image_size));
  hash.add_u64(fit_code(options.fit));
  hash.add_u64(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    struct stat info;
    if (::stat(paths[i].c_str(), &info) != 0)
      throw UserError(paths[i] + ": cannot read image: " + std::strerror(errno));
    hash.add(names[i]);
    hash.add_u64(static_cast<uint64_t>(info.st_size));
    hash.add_u64(static_cast<uint64_t>(info.st_mtim.tv_sec));
    hash.add_u64(static_cast<uint64_t>(info.st_mtim.tv_nsec));
  }
  return hash.value();
}

namespace {

// An existing cache built from exactly these inputs, whose bytes verify, is reused as it is.
bool reuse_existing(const std::string& cache_path, const std::vector<std::string>& names,
                    uint64_t checksum, const CacheBuildOptions& options, CacheBuildResult& result) {
  if (::access(cache_path.c_str(), F_OK) != 0) return false;
  try {
    const ImageCache existing = ImageCache::open(cache_path);
    if (existing.source_checksum() != checksum || existing.image_size() != options.image_size) {
      result.rebuilt_because = "the images, image size or fit changed";
      return false;
    }
    std::vector<SkippedImage> skipped = left_out_of(existing, names);
    if (existing.size() + skipped.size() != names.size()) {
      result.rebuilt_because = "it holds other images";
      return false;
    }
    // Without skip_unreadable a cache that left images out is rebuilt, which names the bad file.
    if (!skipped.empty() && !options.skip_unreadable) return false;
    result.reused = true;
    result.skipped = std::move(skipped);
    struct stat info;
    if (::stat(cache_path.c_str(), &info) == 0) result.bytes = info.st_size;
    return true;
  } catch (const UserError& e) {
    result.rebuilt_because = e.what();  // damaged or foreign: rebuilt, never used
    return false;
  }
}

}  // namespace

CacheBuildResult build_image_cache(const std::vector<std::string>& names,
                                   const std::vector<std::string>& paths,
                                   const std::string& cache_path,
                                   const CacheBuildOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (options.image_size <= 0 || options.image_size > static_cast<int>(kMaxImageSize))
    throw UserError(cache_path + ": image size " + std::to_string(options.image_size) +
                    " is outside 1.." + std::to_string(kMaxImageSize));
  if (names.size() != paths.size())
    throw std::invalid_argument("build_image_cache: names and paths differ in length");
  std::unordered_set<std::string> seen;
  for (const auto& name : names)
    if (!seen.insert(name).second)
      throw UserError(cache_path + ": image name '" + name + "' appears twice");

  const uint64_t checksum = image_cache_checksum(names, paths, options);
  CacheBuildResult result;
  result.images = static_cast<long>(names.size());
  if (reuse_existing(cache_path, names, checksum, options, result)) {
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }

  const uint64_t image_bytes = uint64_t(options.image_size) * options.image_size * kChannels;
  CacheHeader header{};
  std::memcpy(header.magic, kMagic, sizeof kMagic);
  header.version = kFormatVersion;
  header.image_size = static_cast<uint32_t>(options.image_size);
  header.channels = kChannels;
  header.fit_mode = fit_code(options.fit);
  header.source_checksum = checksum;
  header.names_offset = sizeof header;
  // Offsets are laid out for all images; skipped ones only shrink the tables and the pixels.
  const uint64_t all_names_bytes = names_table(names).size();
  header.checksums_offset = header.names_offset + all_names_bytes;
  header.pixels_offset =
      round_up(header.checksums_offset + names.size() * sizeof(uint64_t), kPixelAlignment);

  AtomicFile out(cache_path);
  out.reserve(header.pixels_offset + names.size() * image_bytes);
  std::unique_ptr<ProgressBar> progress;
  if (options.show_progress)
    progress = std::make_unique<ProgressBar>("decode images", result.images, "img");
  DecodedSlots slots =
      decode_into_slots(paths, options, out, header.pixels_offset, progress.get());

  std::vector<std::string> kept_names;
  std::vector<uint64_t> kept_checksums;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!slots.errors[i].empty()) {
      result.skipped.push_back({names[i], slots.errors[i]});
      continue;
    }
    kept_names.push_back(names[i]);
    kept_checksums.push_back(slots.checksums[i]);
  }
  if (!result.skipped.empty()) compact_slots(out, slots.errors, header.pixels_offset, image_bytes);
  const std::string table = names_table(kept_names);
  header.count = kept_names.size();
  header.names_bytes = table.size();
  header.checksums_offset = header.names_offset + header.names_bytes;
  header.pixels_bytes = header.count * image_bytes;
  header.header_checksum = header_checksum(header, table, kept_checksums);
  out.write_at(&header, sizeof header, 0);
  out.write_at(table.data(), table.size(), header.names_offset);
  out.write_at(kept_checksums.data(), kept_checksums.size() * sizeof(uint64_t), header.checksums_offset);
  out.commit();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.bytes = static_cast<long long>(header.pixels_offset + header.pixels_bytes);
  return result;
}

ImageCache ImageCache::open(const std::string& path) {
  ImageCache cache;
  cache.path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw UserError(path + ": cannot open image cache: " + std::strerror(errno));
  struct stat info;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    throw UserError(path + ": not a regular file");
  }
  const auto file_bytes = static_cast<uint64_t>(info.st_size);
  if (file_bytes < sizeof(CacheHeader)) {
    ::close(fd);
    throw UserError(path + ": not a dermsim image cache (only " + std::to_string(file_bytes) +
                    " bytes)");
  }
  cache.map_ = ::mmap(nullptr, file_bytes, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);  // the mapping keeps the file alive
  if (cache.map_ == MAP_FAILED) {
    cache.map_ = nullptr;
    throw UserError(path + ": cannot map image cache: " + std::strerror(errno));
  }
  cache.map_bytes_ = file_bytes;  // from here the destructor unmaps on any throw

  const auto* base = static_cast<const uint8_t*>(cache.map_);
  CacheHeader header;
  std::memcpy(&header, base, sizeof header);
  auto fail = [&](const std::string& what) {
    throw UserError(path + ": " + what + "; run `dermsim prepare` again to rebuild it");
  };
  if (std::memcmp(header.magic, kMagic, sizeof kMagic) != 0)
    fail("not a dermsim image cache (bad magic)");
  if (header.version != kFormatVersion)
    fail("image cache format version " + std::to_string(header.version) + ", this dermsim reads " +
         std::to_string(kFormatVersion));
  if (header.channels != kChannels || header.image_size == 0 || header.image_size > kMaxImageSize)
    fail("corrupt image cache header");
  // Every size and offset is bounded by the file length before any of them is used or multiplied.
  const uint64_t image_bytes = uint64_t{header.image_size} * header.image_size * kChannels;
  const bool sizes_ok =
      header.names_offset == sizeof header && header.names_bytes <= file_bytes &&
      header.checksums_offset == header.names_offset + header.names_bytes &&
      header.count <= file_bytes / image_bytes &&
      header.checksums_offset + header.count * sizeof(uint64_t) <= header.pixels_offset &&
      header.pixels_offset % kPixelAlignment == 0 && header.pixels_offset <= file_bytes &&
      header.pixels_bytes == header.count * image_bytes;
  if (!sizes_ok) fail("corrupt image cache header");
  const uint64_t expected = header.pixels_offset + header.pixels_bytes;
  if (file_bytes != expected)
    fail(std::string(file_bytes < expected ? "truncated" : "oversized") + " image cache (" +
         std::to_string(file_bytes) + " bytes, header says " + std::to_string(expected) + ")");

  const std::string_view table(reinterpret_cast<const char*>(base + header.names_offset),
                               header.names_bytes);
  std::vector<uint64_t> checksums(header.count);
  std::memcpy(checksums.data(), base + header.checksums_offset, header.count * sizeof(uint64_t));
  if (header_checksum(header, table, checksums) != header.header_checksum)
    fail("damaged image cache (header, names or checksums do not match their checksum)");

  const uint8_t* cursor = base + header.names_offset;
  const uint8_t* names_end = cursor + header.names_bytes;
  cache.names_.reserve(header.count);
  for (uint64_t i = 0; i < header.count; ++i) {
    uint32_t length = 0;
    if (names_end - cursor < static_cast<ptrdiff_t>(sizeof length)) fail("corrupt names table");
    std::memcpy(&length, cursor, sizeof length);
    cursor += sizeof length;
    if (static_cast<uint64_t>(names_end - cursor) < length) fail("corrupt names table");
    cache.names_.emplace_back(reinterpret_cast<const char*>(cursor), length);
    cursor += length;
    if (!cache.index_.emplace(cache.names_.back(), i).second) fail("duplicate name in names table");
  }
  if (cursor != names_end) fail("corrupt names table");
  cache.pixels_ = base + header.pixels_offset;
  // Every image against its checksum, on all cores; the first damaged image is the one named.
  std::vector<char> damaged(header.count, 0);
  parallel_for(header.count, 0, [&](size_t i) {
    damaged[i] = pixel_checksum(cache.pixels_ + i * image_bytes, image_bytes) != checksums[i];
  });
  const auto first_damaged = std::find(damaged.begin(), damaged.end(), 1);
  if (first_damaged != damaged.end()) {
    const size_t i = static_cast<size_t>(first_damaged - damaged.begin());
    fail("damaged image cache: the pixels of image " + std::to_string(i + 1) + " (" +
         cache.names_[i] + ") do not match their checksum");
  }
  cache.image_size_ = static_cast<int>(header.image_size);
  cache.source_checksum_ = header.source_checksum;
  cache.content_id_ = cache_content_id(header.image_size, header.fit_mode, table, checksums);
  return cache;
}

ImageCache::ImageCache(ImageCache&& other) noexcept {
  *this = std::move(other);
}

ImageCache& ImageCache::operator=(ImageCache&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    map_ = std::exchange(other.map_, nullptr);
    map_bytes_ = std::exchange(other.map_bytes_, 0);
    pixels_ = std::exchange(other.pixels_, nullptr);
    image_size_ = std::exchange(other.image_size_, 0);
    source_checksum_ = std::exchange(other.source_checksum_, 0);
    content_id_ = std::move(other.content_id_);
    names_ = std::move(other.names_);
    index_ = std::move(other.index_);
    other.names_.clear();
    other.index_.clear();
  }
  return *this;
}

ImageCache::~ImageCache() {
  release();
}

void ImageCache::release() {
  if (map_) ::munmap(map_, map_bytes_);
  map_ = nullptr;
  map_bytes_ = 0;
}

const uint8_t* ImageCache::image(size_t i) const {
  if (i >= names_.size())
    throw std::out_of_range("ImageCache::image: index " + std::to_string(i) + " out of range");
  return pixels_ + i * static_cast<size_t>(image_size_) * image_size_ * kChannels;
}

long ImageCache::index_of(const std::string& name) const {
  const auto found = index_.find(name);
  return found == index_.end() ? -1 : static_cast<long>(found->second);
}

ChannelStats channel_stats(const ImageCache& cache, const std::vector<size_t>& indices) {
  if (indices.empty()) throw std::invalid_argument("channel_stats: no images");
  // Byte histograms make the sums exact and the loop a single pass of increments.
  std::vector<uint64_t> histogram(3 * 256, 0);
  const size_t pixels = static_cast<size_t>(cache.image_size()) * cache.image_size();
  for (size_t index : indices) {
    const uint8_t* p = cache.image(index);
    for (size_t k = 0; k < pixels; ++k) {
      ++histogram[p[3 * k]];
      ++histogram[256 + p[3 * k + 1]];
      ++histogram[512 + p[3 * k + 2]];
    }
  }
  ChannelStats stats{};
  const double n = static_cast<double>(pixels) * static_cast<double>(indices.size());
  for (int c = 0; c < 3; ++c) {
    double sum = 0, sum_squares = 0;
    for (int v = 0; v < 256; ++v) {
      const double count = static_cast<double>(histogram[c * 256 + v]);
      sum += count * v;
      sum_squares += count * v * v;
    }
    const double mean = sum / n;
    stats.mean[c] = mean / 255.0;
    stats.std[c] = std::sqrt(std::max(0.0, sum_squares / n - mean * mean)) / 255.0;
  }
  return stats;
}

}  // namespace dermsim
