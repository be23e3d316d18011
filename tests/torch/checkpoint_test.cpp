// Checkpoint files under damage: a checkpoint is a torch archive that dermsim reads on every
// command, so flipped bytes, truncation and foreign files must end in a UserError naming the file
// (or, where the damage hits only weight bytes, a load), never a crash or an "internal error".
// libFuzzer cannot be linked against the gcc-built LibTorch here, so this is a seeded mutation
// test over the real reader instead.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/splitmix64.h"
#include "train/checkpoint.h"
#include "support/test_support.h"
#include "train/trainer.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;

const MadeFrom kInputs = {{"split.csv", "0000000000000001"}, {"cache.bin", "0000000000000002"}};

std::string saved_checkpoint(const fs::path& dir) {
  TrainOptions options;
  options.embed_dim = 8;
  EmbeddingNet net = make_untrained_net(options, torch::kCPU);
  auto optimizer = make_optimizer(net, options);
  TrainingProgress progress;
  progress.step = 3;
  const std::string path = (dir / "checkpoint-last.pt").string();
  save_checkpoint(path, net, *optimizer, progress, options, kInputs);
  return path;
}

// Reads like `train --resume` and every inference command do; returns "" on success.
std::string outcome_of_loading(const std::string& path) {
  try {
    const CheckpointInfo info = read_checkpoint_info(path, kInputs);
    EmbeddingNetOptions net_options;
    net_options.backbone = info.options.backbone;
    net_options.embed_dim = info.options.embed_dim;
    EmbeddingNet net = make_embedding_net(net_options);
    auto optimizer = make_optimizer(net, info.options);
    load_checkpoint_state(info, net, optimizer.get());
    return "";
  } catch (const UserError& e) {
    return e.what();
  }
}

TEST(Checkpoint, RoundTripKeepsProgressAndProvenance) {
  const fs::path dir = fs::temp_directory_path() / ("dermsim_ckpt_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string path = saved_checkpoint(dir);
  const CheckpointInfo info = read_checkpoint_info(path, kInputs);
  EXPECT_EQ(info.progress.step, 3);
  EXPECT_EQ(info.options.embed_dim, 8);
  EXPECT_EQ(outcome_of_loading(path), "");
  const MadeFrom other = {{"split.csv", "ffffffffffffffff"}, {"cache.bin", "0000000000000002"}};
  EXPECT_NE(testing::error_of([&] { read_checkpoint_info(path, other); }).find("stale"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Checkpoint, DamagedOrForeignFilesAreUserErrorsNamingTheFile) {
  const fs::path dir = fs::temp_directory_path() / ("dermsim_ckpt_damage_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string good = read_file(saved_checkpoint(dir));
  const std::string path = (dir / "damaged.pt").string();
  SplitMix64 rng(20261201);
  int refused = 0, loaded = 0;
  for (int trial = 0; trial < 120; ++trial) {
    std::string bytes = good;
    switch (trial % 4) {
      case 0:  // truncated anywhere
        bytes.resize(rng.below(bytes.size()));
        break;
      case 1:  // a few flipped bytes anywhere
        for (int k = 0; k < 4; ++k) bytes[rng.below(bytes.size())] ^= static_cast<char>(1 + rng.below(255));
        break;
      case 2:  // flipped bytes in the last 4 KB: the zip directory and the metadata record
        for (int k = 0; k < 4; ++k)
          bytes[bytes.size() - 1 - rng.below(std::min<uint64_t>(4096, bytes.size()))] ^= 0x5a;
        break;
      default:  // not a checkpoint at all
        bytes = std::string(rng.below(5000), static_cast<char>(rng.below(256)));
    }
    write_file_atomic(path, bytes);
    const std::string outcome = outcome_of_loading(path);  // any other exception fails the test
    if (outcome.empty()) {
      ++loaded;
    } else {
      ++refused;
      EXPECT_NE(outcome.find(path), std::string::npos) << "trial " << trial << ": " << outcome;
    }
  }
  EXPECT_GT(refused, 60) << "truncations and foreign files must be refused";
  std::printf("damaged checkpoints: %d refused with a UserError, %d loaded\n", refused, loaded);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dermsim
