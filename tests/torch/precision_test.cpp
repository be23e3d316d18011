// bf16 autocast (model/precision.h): the guard switches autocast on only while it lives, the
// forward pass really runs its convolutions in bfloat16, embeddings come back fp32 and close to the
// fp32 ones, and the training option is validated and defaults to fp32 for older runs.
#include <gtest/gtest.h>

#include <ATen/autocast_mode.h>

#include "common/error.h"
#include "model/embedding_net.h"
#include "model/precision.h"
#include "train/train_options.h"

namespace dermsim {
namespace {

TEST(Precision, ParsesTheTwoNamesAndRefusesOthersNamingTheFlag) {
  EXPECT_EQ(parse_precision("fp32"), Precision::kFloat32);
  EXPECT_EQ(parse_precision("bf16"), Precision::kBFloat16);
  EXPECT_EQ(precision_name(parse_precision("bf16")), "bf16");
  try {
    parse_precision("fp16");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("--precision fp16"), std::string::npos) << e.what();
  }
}

TEST(Precision, Bf16GuardCastsConvolutionsOnlyWhileItLives) {
  auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3));
  const auto x = torch::randn({2, 3, 16, 16});
  {
    AutocastGuard fp32(Precision::kFloat32, torch::kCPU);
    EXPECT_EQ(conv->forward(x).scalar_type(), torch::kFloat);
  }
  {
    AutocastGuard bf16(Precision::kBFloat16, torch::kCPU);
    EXPECT_EQ(conv->forward(x).scalar_type(), torch::kBFloat16);
  }
  EXPECT_EQ(conv->forward(x).scalar_type(), torch::kFloat);
}

TEST(Precision, Bf16EmbeddingsAreFp32AndCloseToFp32Ones) {
  torch::manual_seed(3);
  auto net = make_embedding_net(EmbeddingNetOptions{});
  net->eval();
  torch::NoGradGuard no_grad;
  const auto images = torch::randn({4, 3, 128, 128});
  const auto full = embed_forward(net, images, Precision::kFloat32);
  const auto half = embed_forward(net, images, Precision::kBFloat16);
  ASSERT_EQ(half.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(full, net->forward(images)));  // fp32 is the plain forward pass
  const double difference = (half - full).abs().max().item<double>();
  EXPECT_GT(difference, 0.0);  // bf16 really ran: 8 mantissa bits change the last digits
  EXPECT_LT(difference, 0.05);  // unit vectors: bf16's ~0.4 % relative error per product
}

TEST(Precision, TrainOptionIsValidatedAndOlderRunsReadAsFp32) {
  TrainOptions o;
  EXPECT_EQ(o.precision, "fp32");
  o.precision = "int8";
  EXPECT_THROW(validate_train_options(o), UserError);
  o.precision = "bf16";
  EXPECT_NO_THROW(validate_train_options(o));
  EXPECT_EQ(train_options_from_json(to_json(o), "train.json").precision, "bf16");
  nlohmann::json older = to_json(TrainOptions{});
  older.erase("precision");
  EXPECT_EQ(train_options_from_json(older, "train.json").precision, "fp32");
}

}  // namespace
}  // namespace dermsim
