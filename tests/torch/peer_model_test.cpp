// The Python peer of the side-by-side benchmark (bench/peer/peer_net.py) is dermsim's default
// network and loss: same parameter count, and the same embeddings and contrastive loss on a fixed
// input once it has loaded dermsim's weights. Non-trivial batch-norm statistics, so a layer the
// peer skipped or ordered differently would show.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include <unistd.h>

#include "model/embedding_net.h"
#include "model/weights_file.h"
#include "support/batch_norm.h"
#include "support/oracle.h"
#include "train/losses.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;

using testing::randomise_batch_norm;

TEST(PeerModel, PythonPeerIsTheSameNetworkAndLoss) {
  if (std::system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") != 0)
    ORACLE_UNAVAILABLE("/usr/bin/python3 with torch and numpy missing");
  const fs::path dir = fs::temp_directory_path() / ("dermsim_peer_model_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  torch::manual_seed(11);
  auto net = make_embedding_net(EmbeddingNetOptions{});
  randomise_batch_norm(net);
  net->eval();
  write_tensor_file((dir / "weights.bin").string(), named_state(*net));
  const torch::Tensor images = torch::randn({6, 3, 128, 128});
  const torch::Tensor labels = torch::tensor({0, 1, 0, 0, 1, 1}, torch::kLong);
  write_tensor_file((dir / "input.bin").string(), {{"images", images}, {"labels", labels}});

  const std::string command = "/usr/bin/python3 " DERMSIM_SOURCE_DIR "/bench/peer/peer_net.py --check " +
                              dir.string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const NamedTensors out = read_tensor_file((dir / "output.bin").string());
  ASSERT_EQ(out.size(), 3u);

  torch::NoGradGuard no_grad;
  const torch::Tensor embeddings = net->forward(images);
  int64_t parameters = 0;
  for (const auto& p : net->parameters()) parameters += p.numel();
  EXPECT_EQ(out[2].second.item<int64_t>(), parameters);
  ASSERT_EQ(out[0].second.sizes(), embeddings.sizes());
  EXPECT_LE((out[0].second - embeddings).abs().max().item<double>(), 1e-5);
  const double loss = contrastive_loss(embeddings.to(torch::kDouble), labels).item<double>();
  EXPECT_NEAR(out[1].second.item<double>(), loss, 1e-6 * std::max(1.0, loss));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dermsim
