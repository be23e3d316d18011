// Embedding networks (see embedding_net.h). Initialisation follows torchvision's ResNet
// (Kaiming-normal fan_out convolutions, unit BN), which also trains the small net well from scratch.
#include "model/embedding_net.h"

#include <array>

#include "common/error.h"

namespace dermsim {
namespace {

namespace nn = torch::nn;

nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

nn::Sequential make_stage(int64_t in, int64_t out, int64_t blocks, int64_t stride) {
  nn::Sequential stage;
  stage->push_back(BasicBlock(in, out, stride));
  for (int64_t b = 1; b < blocks; ++b) stage->push_back(BasicBlock(out, out, 1));
  return stage;
}

struct Architecture {
  int64_t stem_channels, stem_kernel, stem_stride;
  bool maxpool;
  std::array<int64_t, 4> channels, blocks, strides;
};

Architecture architecture(const std::string& backbone) {
  // small: 128 px -> 64 (stem) -> 32 -> 16 -> 8 -> 4, ~1.2 M parameters. Every 1x1 stride-2 shortcut
  // sees >= 32 input channels: oneDNN's channels_last backward is broken for 3/4/8 (PLATFORM.md).
  if (backbone == "small") return {32, 3, 2, false, {32, 64, 128, 256}, {1, 1, 1, 1}, {2, 2, 2, 2}};
  if (backbone == "resnet18") return {64, 7, 2, true, {64, 128, 256, 512}, {2, 2, 2, 2}, {1, 2, 2, 2}};
  throw UserError("--backbone " + backbone + ": expected small or resnet18");
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride)
    : conv1(register_module("conv1", conv(in_channels, out_channels, 3, stride, 1))),
      conv2(register_module("conv2", conv(out_channels, out_channels, 3, 1, 1))),
      bn1(register_module("bn1", nn::BatchNorm2d(out_channels))),
      bn2(register_module("bn2", nn::BatchNorm2d(out_channels))) {
  if (stride != 1 || in_channels != out_channels) {
    TORCH_CHECK(stride == 1 || in_channels > 8,
                "1x1 stride-2 shortcut on <= 8 channels hits oneDNN's channels_last backward bug");
    downsample = register_module(
        "downsample", nn::Sequential(conv(in_channels, out_channels, 1, stride, 0),
                                     nn::BatchNorm2d(out_channels)));
  }
}

torch::Tensor BasicBlockImpl::forward(torch::Tensor x) {
  auto identity = downsample ? downsample->forward(x) : x;
  auto out = torch::relu(bn1->forward(conv1->forward(x)));
  out = bn2->forward(conv2->forward(out));
  return torch::relu(out + identity);
}

EmbeddingNetImpl::EmbeddingNetImpl(const EmbeddingNetOptions& options) : options_(options) {
  const Architecture arch = architecture(options.backbone);
  if (options.embed_dim <= 0)
    throw UserError("--embed-dim " + std::to_string(options.embed_dim) + ": must be positive");
  conv1 = register_module("conv1", conv(3, arch.stem_channels, arch.stem_kernel, arch.stem_stride,
                                        arch.stem_kernel / 2));
  bn1 = register_module("bn1", nn::BatchNorm2d(arch.stem_channels));
  if (arch.maxpool) maxpool = register_module("maxpool", nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
  int64_t in = arch.stem_channels;
  std::array<nn::Sequential*, 4> layers = {&layer1, &layer2, &layer3, &layer4};
  for (size_t s = 0; s < layers.size(); ++s) {
    *layers[s] = register_module("layer" + std::to_string(s + 1),
                                 make_stage(in, arch.channels[s], arch.blocks[s], arch.strides[s]));
    in = arch.channels[s];
  }
  feature_dim_ = in;
  embed = register_module("embed", nn::Linear(feature_dim_, options.embed_dim));
  head = register_module("head", nn::Linear(options.embed_dim, 1));

  torch::NoGradGuard no_grad;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* c = module->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* b = module->as<nn::BatchNorm2d>()) {
      nn::init::ones_(b->weight);
      nn::init::zeros_(b->bias);
    }
  }
}

torch::Tensor EmbeddingNetImpl::feature_map(torch::Tensor images) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "EmbeddingNet expects N x 3 x H x W images, got ",
              images.sizes());
  auto x = torch::relu(bn1->forward(conv1->forward(images)));
  if (maxpool) x = maxpool->forward(x);
  return layer4->forward(layer3->forward(layer2->forward(layer1->forward(x))));
}

torch::Tensor EmbeddingNetImpl::features(torch::Tensor images) {
  return torch::adaptive_avg_pool2d(feature_map(std::move(images)), {1, 1}).flatten(1);
}

torch::Tensor EmbeddingNetImpl::embed_feature_map(const torch::Tensor& map) {
  auto projected = embed->forward(torch::adaptive_avg_pool2d(map, {1, 1}).flatten(1));
  return torch::nn::functional::normalize(projected,
                                          torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
}

torch::Tensor EmbeddingNetImpl::forward(torch::Tensor images) {
  return embed_feature_map(feature_map(std::move(images)));
}

torch::Tensor EmbeddingNetImpl::logit(const torch::Tensor& embeddings) {
  return head->forward(embeddings).squeeze(1);
}

EmbeddingNet make_embedding_net(const EmbeddingNetOptions& options) { return EmbeddingNet(options); }

void to_channels_last(EmbeddingNet& net) {
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
}

}  // namespace dermsim
