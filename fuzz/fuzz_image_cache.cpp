// Fuzzes the image cache reader (ImageCache::open) on arbitrary file contents; a cache that opens
// must give every image's first and last byte and find every name by index_of.
#include "fuzz_support.h"
#include "image/cache.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = dermsim::fuzz::scratch_dir() / "cache.bin";
  dermsim::fuzz::write_bytes(path, data, size);
  dermsim::fuzz::expect_only_user_errors([&] {
    const dermsim::ImageCache cache = dermsim::ImageCache::open(path.string());
    const size_t image_bytes = static_cast<size_t>(cache.image_size()) * cache.image_size() * 3;
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < cache.size(); ++i) {
      const uint8_t* pixels = cache.image(i);
      if (image_bytes) sink = sink + pixels[0] + pixels[image_bytes - 1];
      if (cache.index_of(cache.name(i)) < 0) std::abort();
    }
  });
  return 0;
}
