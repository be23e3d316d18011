// Inputs the fuzzers (fuzz/) found crashing, replayed through the same function in the normal
// build: each must now be refused with a UserError. Reproducers live in fuzz/regressions/<target>/
// (not in the corpus, so the fuzz smoke in CI does not start on a known crash).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"
#include "classify/model_card.h"
#include "image/cache.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;
const fs::path kRegressions = fs::path(DERMSIM_SOURCE_DIR) / "fuzz/regressions";

std::vector<std::string> reproducers(const std::string& target) {
  std::vector<std::string> paths;
  if (fs::is_directory(kRegressions / target))
    for (const auto& entry : fs::directory_iterator(kRegressions / target))
      paths.push_back(entry.path().string());
  return paths;
}

// offset-wraps-around.bin: a header whose pixels_offset + pixels_bytes wrapped past 2^64 to the
// file size passed every check of the first cache format, and pixels_ pointed before the mapping.
// Every size is now bounded by the file length before it is added or multiplied.
TEST(FuzzRegressions, ImageCacheHeadersAreUserErrors) {
  const auto paths = reproducers("image_cache");
  ASSERT_FALSE(paths.empty());
  for (const auto& path : paths) {
    EXPECT_THROW(
        {
          const ImageCache cache = ImageCache::open(path);
          for (size_t i = 0; i < cache.size(); ++i) (void)*static_cast<const volatile uint8_t*>(cache.image(i));
        },
        UserError)
        << path;
  }
}

// number-overflow.json: a number too large for a double (-1.233E33335) made nlohmann's parser
// throw out_of_range, not parse_error, and the model card reader let it through as "internal error".
TEST(FuzzRegressions, ModelCardsAreUserErrors) {
  const auto paths = reproducers("model_card");
  ASSERT_FALSE(paths.empty());
  const fs::path run = fs::temp_directory_path() / ("dermsim_fuzzreg_" + std::to_string(::getpid()));
  fs::create_directories(run);
  for (const auto& path : paths) {
    write_file_atomic((run / "model.json").string(), read_file(path));
    EXPECT_THROW(load_model_card(RunDir{run.string()}, "0123456789abcdef"), UserError) << path;
  }
  fs::remove_all(run);
}

}  // namespace
}  // namespace dermsim
