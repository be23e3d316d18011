// The pieces that keep a run folder trustworthy, one by one: atomic writes with unique temp names,
// stale temp clean-up, the one-writer lock, provenance checks, and a cache that verifies its pixels.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/provenance.h"
#include "common/run_lock.h"
#include "image/cache.h"
#include "image/encode.h"
#include "support/test_support.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;
using testing::error_of;

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("dermsim_state_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

size_t entries(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(ContentHash, ChangingAnyOneByteChangesTheHash) {
  std::string bytes(1000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  const std::string original = content_hash_hex(bytes);
  for (size_t i : {0, 7, 8, 500, 992, 999}) {
    std::string changed = bytes;
    changed[i] ^= 1;
    EXPECT_NE(content_hash_hex(changed), original) << "byte " << i;
  }
  EXPECT_NE(content_hash_hex("a"), content_hash_hex(std::string("a\0", 2)));
  EXPECT_EQ(content_hash_hex(bytes), original);
}

TEST(AtomicFile, TwoWritersOfOnePathUseDistinctTempFiles) {
  const fs::path dir = fresh_dir("twowriters");
  const std::string path = (dir / "out.json").string();
  AtomicFile a(path), b(path);
  a.write("from a", 6);
  b.write("from b", 6);
  EXPECT_EQ(entries(dir), 2u) << "two temp files, not one shared name";
  b.commit();
  a.commit();
  EXPECT_EQ(read_file(path), "from a");  // whole files only: the last rename wins
  EXPECT_EQ(entries(dir), 1u);
}

TEST(AtomicFile, StaleTempFilesAreRemovedAndOthersKept) {
  const fs::path dir = fresh_dir("stale");
  write_file_atomic((dir / "keep.csv").string(), "x");
  write_file_atomic((dir / "keep.tmp-notes.txt").string(), "a user's file with .tmp- in its name");
  for (const char* stale : {"checkpoint-best.pt.tmp-AbC123", "cache.bin.tmp-zz99ZZ"})
    write_file_atomic((dir / stale).string(), "left by a killed writer");
  EXPECT_EQ(remove_stale_temp_files(dir.string()), 2);
  EXPECT_TRUE(fs::exists(dir / "keep.csv"));
  EXPECT_TRUE(fs::exists(dir / "keep.tmp-notes.txt"));
  EXPECT_EQ(entries(dir), 2u);
}

TEST(RunLock, SecondWriterIsRefusedNamingTheHolderAndTheLockEndsWithItsOwner) {
  const fs::path dir = fresh_dir("lock");
  {
    RunLock first(dir.string(), "train");
    const std::string refused = error_of([&] { RunLock second(dir.string(), "evaluate"); });
    EXPECT_NE(refused.find("in use by `dermsim train` (pid " + std::to_string(getpid())),
              std::string::npos) << refused;
  }
  EXPECT_EQ(error_of([&] { RunLock again(dir.string(), "evaluate"); }), "");
  EXPECT_NE(error_of([&] { RunLock none((dir / "missing").string(), "train"); }).find("dermsim prepare"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "missing")) << "only prepare creates a run folder";
}

TEST(Provenance, MissingOrDifferentIdentityIsRefusedNamingTheInput) {
  const nlohmann::json recorded = {{"split.csv", "aaaa"}, {"cache.bin", "bbbb"}};
  EXPECT_EQ(error_of([&] {
              require_made_from("RUN/train.json", recorded, {{"split.csv", "aaaa"}}, "fix it");
            }), "");
  const std::string stale = error_of([&] {
    require_made_from("RUN/train.json", recorded, {{"split.csv", "cccc"}}, "run prepare");
  });
  EXPECT_EQ(stale, "RUN/train.json is stale: made from another split.csv; run prepare");
  EXPECT_NE(error_of([&] {
              require_made_from("RUN/model.json", nlohmann::json(), {{"checkpoint-best.pt", "x"}}, "r");
            }).find("records no identity of checkpoint-best.pt"),
            std::string::npos);
}

class CacheVerification : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_dir("cache");
    for (int i = 0; i < 6; ++i) {
      std::vector<uint8_t> pixels(40 * 30 * 3);
      for (size_t k = 0; k < pixels.size(); ++k) pixels[k] = static_cast<uint8_t>(k * (i + 3));
      const std::string path = (dir_ / ("img" + std::to_string(i) + ".png")).string();
      write_file_atomic(path, encode_png(pixels.data(), 40, 30));
      names_.push_back("img" + std::to_string(i));
      paths_.push_back(path);
    }
    options_.image_size = 16;
    options_.show_progress = false;
    cache_ = (dir_ / "cache.bin").string();
  }
  fs::path dir_;
  std::vector<std::string> names_, paths_;
  CacheBuildOptions options_;
  std::string cache_;
};

TEST_F(CacheVerification, AFlippedPixelByteIsRefusedNamingTheImageAndRebuiltByTheBuilder) {
  build_image_cache(names_, paths_, cache_, options_);
  const std::string content_id = ImageCache::open(cache_).content_id();
  std::string bytes = read_file(cache_);
  bytes[bytes.size() - 16 * 16 * 3 - 5] ^= 0x01;  // inside the pixels of the next-to-last image
  write_file_atomic(cache_, bytes);
  const std::string error = error_of([&] { ImageCache::open(cache_); });
  EXPECT_NE(error.find("img4"), std::string::npos) << error;
  EXPECT_NE(error.find("checksum"), std::string::npos) << error;
  const CacheBuildResult rebuilt = build_image_cache(names_, paths_, cache_, options_);
  EXPECT_FALSE(rebuilt.reused);
  EXPECT_NE(rebuilt.rebuilt_because.find("img4"), std::string::npos) << rebuilt.rebuilt_because;
  EXPECT_EQ(ImageCache::open(cache_).content_id(), content_id) << "same images, same identity";
}

TEST_F(CacheVerification, EveryHeaderFieldIsBoundedByTheFile) {
  build_image_cache(names_, paths_, cache_, options_);
  const std::string bytes = read_file(cache_);
  // Offsets of the u32/u64 header fields (see cache.cpp's CacheHeader).
  for (size_t offset : {12, 24, 32, 40, 48, 56, 64, 72, 80}) {
    for (uint64_t value : {uint64_t{0}, uint64_t{1} << 40, ~uint64_t{0}}) {
      std::string damaged = bytes;
      std::memcpy(&damaged[offset], &value, offset < 24 ? 4 : 8);
      const std::string path = (dir_ / "damaged.bin").string();
      write_file_atomic(path, damaged);
      if (damaged == bytes) continue;
      EXPECT_NE(error_of([&] { ImageCache::open(path); }), "") << "field at " << offset << " = " << value;
    }
  }
}

TEST_F(CacheVerification, SkipUnreadableKeepsTheRestInOrderAndListsTheSkipped) {
  write_file_atomic(paths_[2], "not an image");
  EXPECT_NE(error_of([&] { build_image_cache(names_, paths_, cache_, options_); }).find(paths_[2]),
            std::string::npos);
  options_.skip_unreadable = true;
  const CacheBuildResult built = build_image_cache(names_, paths_, cache_, options_);
  ASSERT_EQ(built.skipped.size(), 1u);
  EXPECT_EQ(built.skipped[0].name, "img2");
  const ImageCache cache = ImageCache::open(cache_);
  ASSERT_EQ(cache.size(), 5u);
  EXPECT_EQ(cache.name(2), "img3");
  EXPECT_EQ(cache.index_of("img2"), -1);
  const CacheBuildResult again = build_image_cache(names_, paths_, cache_, options_);
  EXPECT_TRUE(again.reused);
  ASSERT_EQ(again.skipped.size(), 1u);
  EXPECT_EQ(again.skipped[0].name, "img2");
}

}  // namespace
}  // namespace dermsim
