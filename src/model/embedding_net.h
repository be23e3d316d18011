// The Siamese embedding networks: a compact ResNet for fast CPU training ("small") and a ResNet-18
// whose parameter names match torchvision's, so ImageNet weights load (see weights_file.h).
#pragma once

#include <torch/torch.h>

#include <string>

namespace dermsim {

struct EmbeddingNetOptions {
  std::string backbone = "small";  // "small" | "resnet18"
  int embed_dim = 128;
};

// Torchvision-style basic residual block; submodule names match torchvision's BasicBlock.
class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride);
  torch::Tensor forward(torch::Tensor x);
  // Folds each batch norm into its convolution (see batch_norm_folded_copy).
  void fold_batch_norm();

 private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};  // empty once folded
  torch::nn::Sequential downsample{nullptr};  // 1x1 conv + BN when the shape changes (conv once folded)
};
TORCH_MODULE(BasicBlock);

// Input: N x 3 x H x W normalised float images, H = W >= 64, contiguous or channels_last (the
// caller picks the memory format of the input; channels_last is ~30 % faster on CPU).
class EmbeddingNetImpl : public torch::nn::Module {
 public:
  explicit EmbeddingNetImpl(const EmbeddingNetOptions& options = {});

  // L2-normalised embeddings, N x embed_dim.
  torch::Tensor forward(torch::Tensor images);
  // Globally average-pooled backbone features before the projection, N x feature_dim().
  torch::Tensor features(torch::Tensor images);
  // The last convolutional feature map before pooling, N x feature_dim() x h x w (Grad-CAM's A).
  torch::Tensor feature_map(torch::Tensor images);
  // Finishes forward() from a feature_map(): forward(x) == embed_feature_map(feature_map(x)).
  torch::Tensor embed_feature_map(const torch::Tensor& map);
  // Linear classification logit on the embedding (joint / BCE modes), shape N.
  torch::Tensor logit(const torch::Tensor& embeddings);

  const EmbeddingNetOptions& options() const { return options_; }
  int64_t feature_dim() const { return feature_dim_; }
  // Folds every batch norm into its convolution (see batch_norm_folded_copy); eval-only after.
  void fold_batch_norm();

 private:
  EmbeddingNetOptions options_;
  int64_t feature_dim_ = 0;
  // Names follow torchvision.models.resnet18 (conv1, bn1, layer1..4); torchvision's fc is replaced
  // by embed (projection) and head (classifier), which load_weights never fills.
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};  // empty once folded
  torch::nn::MaxPool2d maxpool{nullptr};  // resnet18 only
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  torch::nn::Linear embed{nullptr};
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(EmbeddingNet);

// Throws UserError for an unknown backbone or a non-positive embed_dim.
EmbeddingNet make_embedding_net(const EmbeddingNetOptions& options);

// An inference copy of `net` (which is left as it is) with every batch norm folded into the
// convolution before it, using the running statistics: w' = w * s, b' = beta - mean * s with
// s = gamma / sqrt(var + eps). Same embeddings to float rounding, without the separate
// normalisation pass after each convolution. The copy is eval-only (forward in training mode
// throws: a folded net has no batch statistics to train) and is never saved (its convolutions gain
// biases and its batch norms are gone, so the names differ from a checkpoint's).
EmbeddingNet batch_norm_folded_copy(const EmbeddingNet& net);

// Convolution weights in channels_last, as PyTorch's model.to(memory_format=...) does: 25-35 %
// faster training on this CPU (PLATFORM.md).
void to_channels_last(EmbeddingNet& net);

}  // namespace dermsim
