#include "distributed/data_parallel.h"

#include <functional>

namespace dermsim {

namespace {

using Collective = std::function<void(std::vector<torch::Tensor>& flat_buckets)>;

// Packs `tensors` (any memory format) into flat buckets grouped by type and device, runs the
// collective on all buckets at once, and copies the results back into the tensors.
void run_bucketed(const std::vector<torch::Tensor>& tensors, int64_t bucket_bytes,
                  const Collective& collective) {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<torch::Tensor>> members;
  int64_t open_bytes = 0;  // of the last bucket
  for (const auto& t : tensors) {
    if (!t.defined()) continue;
    const int64_t bytes = t.numel() * t.element_size();
    const bool fits = !members.empty() && members.back()[0].scalar_type() == t.scalar_type() &&
                      members.back()[0].device() == t.device() &&
                      open_bytes + bytes <= bucket_bytes;
    if (!fits) {
      members.emplace_back();
      open_bytes = 0;
    }
    members.back().push_back(t);
    open_bytes += bytes;
  }
  std::vector<torch::Tensor> flat;
  for (const auto& bucket : members) {
    std::vector<torch::Tensor> pieces;
    for (const auto& t : bucket) pieces.push_back(t.reshape({-1}));
    flat.push_back(torch::cat(pieces));
  }
  collective(flat);
  for (size_t b = 0; b < members.size(); ++b) {
    int64_t offset = 0;
    for (auto& t : members[b]) {
      t.copy_(flat[b].narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
}

}  // namespace

void broadcast_module(ProcessGroup& group, torch::nn::Module& module) {
  std::vector<torch::Tensor> state = module.parameters();
  for (const auto& b : module.buffers()) state.push_back(b);
  run_bucketed(state, kDefaultBucketBytes,
               [&](std::vector<torch::Tensor>& flat) { group.broadcast(flat, /*root=*/0); });
}

void all_reduce_sum_bucketed(ProcessGroup& group, const std::vector<torch::Tensor>& tensors,
                             int64_t bucket_bytes) {
  run_bucketed(tensors, bucket_bytes,
               [&](std::vector<torch::Tensor>& flat) { group.all_reduce_sum(flat); });
}

void all_reduce_gradients(ProcessGroup& group, torch::nn::Module& module, int64_t bucket_bytes) {
  std::vector<torch::Tensor> gradients;
  for (const auto& p : module.parameters()) gradients.push_back(p.grad());
  all_reduce_sum_bucketed(group, gradients, bucket_bytes);
}

void average_float_buffers(ProcessGroup& group, torch::nn::Module& module) {
  std::vector<torch::Tensor> statistics;
  for (const auto& b : module.buffers())
    if (b.is_floating_point()) statistics.push_back(b);
  run_bucketed(statistics, kDefaultBucketBytes, [&](std::vector<torch::Tensor>& flat) {
    group.all_reduce_sum(flat);
    for (auto& f : flat) f.div_(group.size());
  });
}

torch::Tensor all_gather_rows(ProcessGroup& group, const torch::Tensor& local) {
  std::vector<torch::Tensor> rows = group.all_gather(local);
  rows[static_cast<size_t>(group.rank())] = local;  // the autograd-tracked original
  return torch::cat(rows);
}

}  // namespace dermsim
