// Tests of the embedding networks and the weights file: shapes and norms, channels_last gradients
// (oneDNN bug guard), serialisation, and resnet18 features against torchvision run in Python.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "common/error.h"
#include "model/embedding_net.h"
#include "model/weights_file.h"
#include "support/batch_norm.h"
#include "support/oracle.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("dermsim_model_test_" + name + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

class BothBackbones : public ::testing::TestWithParam<std::string> {};

TEST_P(BothBackbones, OutputShapeAndUnitNorm) {
  torch::manual_seed(1);
  auto net = make_embedding_net({GetParam(), 32});
  for (int64_t size : {64, 96}) {
    auto images = torch::randn({3, 3, size, size});
    auto embeddings = net->forward(images);
    ASSERT_EQ(embeddings.sizes(), (std::vector<int64_t>{3, 32}));
    EXPECT_TRUE(torch::allclose(embeddings.norm(2, 1), torch::ones({3}), 1e-5, 1e-5));
    EXPECT_EQ(net->features(images).size(1), net->feature_dim());
    EXPECT_EQ(net->logit(embeddings).sizes(), (std::vector<int64_t>{3}));
  }
  EXPECT_EQ(net->feature_dim(), GetParam() == "small" ? 256 : 512);
}

// Weights and gradients of one training step must not depend on the memory format (PLATFORM.md:
// oneDNN corrupts the channels_last backward of some 1x1 stride-2 convolutions).
// Caveat, measured: the two formats' forward passes differ by ~1e-6 relative, so a pre-activation
// within ~1e-6 of 0 can flip its ReLU between them; one such flip in resnet18's 2x2 layer4 moved
// every gradient by 2-30 % (float64 agreed with one side: no bug). The seed below has no flip; a
// failure after changing seed, size or batch may be that kink, check before blaming oneDNN.
TEST_P(BothBackbones, ChannelsLastGradientsEqualContiguous) {
  torch::manual_seed(5);
  auto net = make_embedding_net({GetParam(), 16});
  net->train();
  auto images = torch::randn({4, 3, 64, 64});
  auto direction = torch::randn({4, 16});
  std::vector<torch::Tensor> grads[2];
  for (int pass = 0; pass < 2; ++pass) {
    net->zero_grad();
    auto input = pass == 0 ? images.contiguous() : images.contiguous(torch::MemoryFormat::ChannelsLast);
    auto embeddings = net->forward(input);
    auto loss = (embeddings * direction).sum() + net->logit(embeddings).sum();
    loss.backward();
    for (const auto& p : net->parameters()) {
      ASSERT_TRUE(p.grad().defined());
      grads[pass].push_back(p.grad().clone());
    }
  }
  const auto names = net->named_parameters().keys();
  for (size_t i = 0; i < grads[0].size(); ++i) {
    const double scale = std::max(max_abs(grads[0][i]), 1e-6);
    EXPECT_LE(max_abs(grads[0][i] - grads[1][i]) / scale, 1e-4) << names[i];
  }
}

TEST_P(BothBackbones, SaveLoadRoundTripGivesIdenticalOutputs) {
  torch::manual_seed(3);
  auto net = make_embedding_net({GetParam(), 24});
  net->train();
  net->forward(torch::randn({4, 3, 64, 64}));  // moves the BN running statistics off their init
  net->eval();
  auto images = torch::randn({2, 3, 64, 64});
  const auto expected = net->forward(images);

  const auto path = (temp_dir("roundtrip") / (GetParam() + ".pt")).string();
  torch::save(net, path);
  torch::manual_seed(99);
  auto loaded = make_embedding_net({GetParam(), 24});
  torch::load(loaded, path);
  loaded->eval();
  EXPECT_TRUE(torch::equal(loaded->forward(images), expected));
  fs::remove(path);
}

// Folding must reproduce eval-mode batch norm exactly up to float rounding: random statistics
// everywhere, and one stem channel whose variance is at eps, so that dropping eps, the mean or the
// shift would move the embeddings by far more than the tolerance.
TEST_P(BothBackbones, BatchNormFoldedCopyGivesTheSameEmbeddings) {
  torch::manual_seed(5);
  auto net = make_embedding_net({GetParam(), 32});
  testing::randomise_batch_norm(net);
  {
    torch::NoGradGuard no_grad;
    auto* stem_bn = net->named_modules()["bn1"]->as<torch::nn::BatchNorm2d>();
    stem_bn->running_var[0] = 1e-5;  // = eps
  }
  net->eval();
  const auto images = torch::randn({4, 3, 64, 64});
  torch::NoGradGuard no_grad;
  const auto expected = net->forward(images);

  auto folded = batch_norm_folded_copy(net);
  int batch_norms = 0;
  for (const auto& m : folded->modules()) batch_norms += m->as<torch::nn::BatchNorm2d>() != nullptr;
  EXPECT_EQ(batch_norms, 0);
  // Unit-length float embeddings: a folded layer differs only in rounding order (~1e-7 each).
  constexpr double kTolerance = 1e-5;
  EXPECT_LE(max_abs(folded->forward(images) - expected), kTolerance);
  EXPECT_LE(max_abs(folded->forward(images.contiguous(torch::MemoryFormat::ChannelsLast)) - expected),
            kTolerance);
  EXPECT_LE(max_abs(folded->logit(expected) - net->logit(expected)), 1e-6);
  EXPECT_TRUE(torch::equal(net->forward(images), expected));  // the original is left as it was

  folded->train();
  EXPECT_THROW(folded->forward(images), c10::Error);
}

TEST(EmbeddingNet, BatchNormFoldedCopyLeavesTheGlobalGeneratorAlone) {
  auto net = make_embedding_net({"small", 16});
  net->eval();
  torch::manual_seed(8);
  const auto expected = torch::rand({4});
  torch::manual_seed(8);
  batch_norm_folded_copy(net);
  EXPECT_TRUE(torch::equal(torch::rand({4}), expected));
}

TEST(EmbeddingNet, BatchNormFoldedCopyRefusesATrainingModeNet) {
  auto net = make_embedding_net({"small", 16});
  net->train();
  EXPECT_THROW(batch_norm_folded_copy(net), c10::Error);
}

INSTANTIATE_TEST_SUITE_P(Model, BothBackbones, ::testing::Values("small", "resnet18"));

TEST(EmbeddingNet, UnknownBackboneIsUserError) {
  try {
    make_embedding_net({"resnet50", 128});
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("resnet50"), std::string::npos);
  }
  EXPECT_THROW(make_embedding_net({"small", 0}), UserError);
}

TEST(EmbeddingNet, Resnet18NamesMatchTorchvisionLayout) {
  auto net = make_embedding_net({"resnet18", 128});
  const auto params = net->named_parameters();
  const auto buffers = net->named_buffers();
  for (const char* name : {"conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer1.1.bn2.bias",
                           "layer2.0.downsample.0.weight", "layer2.0.downsample.1.weight",
                           "layer4.1.conv2.weight", "embed.weight"})
    EXPECT_NE(params.find(name), nullptr) << name;
  EXPECT_NE(buffers.find("layer3.0.downsample.1.running_var"), nullptr);
  EXPECT_NE(buffers.find("bn1.num_batches_tracked"), nullptr);
  EXPECT_EQ(params.find("layer1.0.downsample.0.weight"), nullptr);
  EXPECT_EQ(params["layer2.0.downsample.0.weight"].sizes(), (std::vector<int64_t>{128, 64, 1, 1}));
  EXPECT_EQ(params["conv1.weight"].sizes(), (std::vector<int64_t>{64, 3, 7, 7}));
}

TEST(WeightsFile, RoundTripAndErrorsNameTheTensor) {
  const auto dir = temp_dir("weights");
  const auto path = (dir / "w.bin").string();
  torch::manual_seed(4);
  auto source = make_embedding_net({"small", 8});
  NamedTensors tensors = named_state(*source);
  tensors.emplace_back("fc.weight", torch::randn({1000, 256}));
  write_tensor_file(path, tensors);

  auto target = make_embedding_net({"small", 8});
  const auto report = load_weights(*target, path, /*strict_backbone=*/true);
  EXPECT_TRUE(report.missing_in_file.empty());
  EXPECT_EQ(report.unused_in_file, std::vector<std::string>{"fc.weight"});
  for (const auto& p : source->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), target->named_parameters()[p.key()])) << p.key();

  // A file with only the stem: strict fails naming a missing tensor, lenient reports them.
  write_tensor_file(path, {{"conv1.weight", tensors[0].second}});
  try {
    load_weights(*target, path, true);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("layer1.0.conv1.weight"), std::string::npos) << e.what();
  }
  const auto lenient = load_weights(*target, path, false);
  EXPECT_EQ(lenient.loaded, std::vector<std::string>{"conv1.weight"});
  EXPECT_FALSE(lenient.missing_in_file.empty());

  write_tensor_file(path, {{"bn1.weight", torch::ones({7})}});
  try {
    load_weights(*target, path, false);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("bn1.weight"), std::string::npos) << e.what();
  }

  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() - 3);
  EXPECT_THROW(read_tensor_file(path), UserError);
  std::ofstream(path, std::ios::binary) << "NOTATENSORFILE";
  EXPECT_THROW(read_tensor_file(path), UserError);
  fs::remove_all(dir);
}

bool python_has_torchvision() {
  return std::system("/usr/bin/python3 -c 'import torchvision, numpy' >/dev/null 2>&1") == 0;
}

TEST(Resnet18, FeaturesMatchTorchvision) {
  if (!python_has_torchvision())
    ORACLE_UNAVAILABLE("/usr/bin/python3 with torchvision and numpy missing");
  const auto dir = temp_dir("torchvision");
  const std::string command = "/usr/bin/python3 " DERMSIM_SOURCE_DIR
                              "/tests/python/model_resnet18_reference.py --dir " + dir.string() +
                              " --seed 7";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  auto net = make_embedding_net({"resnet18", 64});
  const auto report = load_weights(*net, (dir / "weights.bin").string(), /*strict_backbone=*/true);
  for (const auto& name : report.missing_in_file)
    EXPECT_TRUE(name.rfind("embed.", 0) == 0 || name.rfind("head.", 0) == 0) << name;
  EXPECT_EQ(report.unused_in_file, (std::vector<std::string>{"fc.bias", "fc.weight"}));
  net->eval();
  const auto io = read_tensor_file((dir / "reference.bin").string());
  ASSERT_EQ(io.size(), 2u);
  torch::NoGradGuard no_grad;
  const auto features = net->features(io[0].second);
  const auto& expected = io[1].second;
  ASSERT_EQ(features.sizes(), expected.sizes());
  EXPECT_LE(max_abs(features - expected), 1e-4 * std::max(1.0, max_abs(expected)));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dermsim
