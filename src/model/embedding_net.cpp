// Embedding networks (see embedding_net.h). Initialisation follows torchvision's ResNet
// (Kaiming-normal fan_out convolutions, unit BN), which also trains the small net well from scratch.
#include "model/embedding_net.h"

#include <ATen/CPUGeneratorImpl.h>

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

// bn(x), or x where the batch norm was folded into the convolution before it.
torch::Tensor batch_norm_unless_folded(nn::BatchNorm2d bn, torch::Tensor x) {
  return bn ? bn->forward(x) : x;
}

// `conv` followed by `bn` in eval mode, as one convolution with a bias.
nn::Conv2d folded_conv(const nn::Conv2dImpl& conv, const nn::BatchNorm2dImpl& bn) {
  TORCH_CHECK(!conv.bias.defined(), "folding assumes bias-free convolutions");
  const auto& o = conv.options;
  nn::Conv2d folded(nn::Conv2dOptions(o.in_channels(), o.out_channels(), o.kernel_size())
                        .stride(o.stride())
                        .padding(o.padding())
                        .dilation(o.dilation())
                        .groups(o.groups())
                        .bias(true));
  torch::NoGradGuard no_grad;
  const torch::Tensor scale = bn.weight / torch::sqrt(bn.running_var + bn.options.eps());
  folded->weight.copy_(conv.weight * scale.reshape({-1, 1, 1, 1}));
  folded->bias.copy_(bn.bias - bn.running_mean * scale);
  return folded;
}

// Building modules draws initial weights from the global generator; an inference copy must not
// move it, or what follows a model load would depend on whether the model was folded.
class KeepGlobalGenerator {
 public:
  KeepGlobalGenerator() : generator_(at::detail::getDefaultCPUGenerator()), state_(generator_.get_state()) {}
  ~KeepGlobalGenerator() { generator_.set_state(state_); }
  KeepGlobalGenerator(const KeepGlobalGenerator&) = delete;
  KeepGlobalGenerator& operator=(const KeepGlobalGenerator&) = delete;

 private:
  at::Generator generator_;
  torch::Tensor state_;
};

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
  auto out = torch::relu(batch_norm_unless_folded(bn1, conv1->forward(x)));
  out = batch_norm_unless_folded(bn2, conv2->forward(out));
  return torch::relu(out + identity);
}

void BasicBlockImpl::fold_batch_norm() {
  conv1 = replace_module("conv1", folded_conv(*conv1, *bn1));
  conv2 = replace_module("conv2", folded_conv(*conv2, *bn2));
  unregister_module("bn1");
  unregister_module("bn2");
  bn1 = nullptr;
  bn2 = nullptr;
  if (downsample) {
    downsample = replace_module(
        "downsample", nn::Sequential(folded_conv(*downsample->ptr(0)->as<nn::Conv2d>(),
                                                 *downsample->ptr(1)->as<nn::BatchNorm2d>())));
  }
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
  TORCH_CHECK(bn1 || !is_training(), "a batch-norm-folded EmbeddingNet is for inference only (eval mode)");
  auto x = torch::relu(batch_norm_unless_folded(bn1, conv1->forward(images)));
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

void EmbeddingNetImpl::fold_batch_norm() {
  conv1 = replace_module("conv1", folded_conv(*conv1, *bn1));
  unregister_module("bn1");
  bn1 = nullptr;
  for (const nn::Sequential& layer : {layer1, layer2, layer3, layer4})
    for (size_t b = 0; b < layer->size(); ++b) layer->ptr(b)->as<BasicBlock>()->fold_batch_norm();
}

EmbeddingNet make_embedding_net(const EmbeddingNetOptions& options) { return EmbeddingNet(options); }

EmbeddingNet batch_norm_folded_copy(const EmbeddingNet& net) {
  TORCH_CHECK(!net->is_training(), "batch_norm_folded_copy: the network must be in eval mode");
  const torch::Device device = net->parameters().front().device();
  EmbeddingNet copy{nullptr};
  {
    KeepGlobalGenerator keep;
    copy = make_embedding_net(net->options());
    torch::NoGradGuard no_grad;
    const auto parameters = net->named_parameters();
    for (auto& p : copy->named_parameters()) p.value().copy_(parameters[p.key()]);
    const auto buffers = net->named_buffers();
    for (auto& b : copy->named_buffers()) b.value().copy_(buffers[b.key()]);
    copy->fold_batch_norm();
  }
  copy->to(device);
  copy->eval();
  return copy;
}

void to_channels_last(EmbeddingNet& net) {
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
}

}  // namespace dermsim
