#include "train/weight_average.h"

#include <algorithm>
#include <stdexcept>

namespace dermsim {

namespace {

// Parameters then buffers, in registration order: the same list for two nets of one architecture.
std::vector<torch::Tensor> state_tensors(EmbeddingNet& net) {
  std::vector<torch::Tensor> tensors = net->parameters();
  for (const torch::Tensor& b : net->buffers()) tensors.push_back(b);
  return tensors;
}

template <typename Fn>
void for_each_pair(EmbeddingNet& to, EmbeddingNet& from, Fn fn) {
  const std::vector<torch::Tensor> a = state_tensors(to), b = state_tensors(from);
  if (a.size() != b.size()) throw std::logic_error("weight average: networks differ in layout");
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < a.size(); ++i) fn(a[i], b[i]);
}

}  // namespace

double average_decay_at(long step, double decay) {
  return std::min(decay, (1.0 + static_cast<double>(step)) / (10.0 + static_cast<double>(step)));
}

void update_weight_average(EmbeddingNet& average, EmbeddingNet& live, double d) {
  for_each_pair(average, live, [d](torch::Tensor a, const torch::Tensor& w) {
    if (a.is_floating_point())
      a.mul_(d).add_(w, 1.0 - d);
    else
      a.copy_(w);
  });
}

void copy_weights(EmbeddingNet& from, EmbeddingNet& to) {
  for_each_pair(to, from, [](torch::Tensor a, const torch::Tensor& w) { a.copy_(w); });
}

}  // namespace dermsim
