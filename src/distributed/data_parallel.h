// What keeps the copies of one network on N ranks identical: one start, one gradient, one set of
// batch-norm statistics. LibTorch's C++ API has no DistributedDataParallel, so these are the
// pieces it would do, by hand and bucketed.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "distributed/process_group.h"

namespace dermsim {

// PyTorch DDP's default bucket: large enough that a small network's gradients go in one or a few
// collectives (each costs a round trip), small enough to bound the extra copy.
constexpr int64_t kDefaultBucketBytes = 25 << 20;

// Every rank's parameters and buffers become rank 0's.
void broadcast_module(ProcessGroup& group, torch::nn::Module& module);

// Sums each tensor over the ranks, in place, packed into flat buckets of at most `bucket_bytes`
// (one tensor larger than that is a bucket of its own). Undefined tensors are skipped: they must be
// the same ones on every rank.
void all_reduce_sum_bucketed(ProcessGroup& group, const std::vector<torch::Tensor>& tensors,
                             int64_t bucket_bytes = kDefaultBucketBytes);

// The gradients of the module's parameters summed over ranks. A sum, not a mean: every rank
// computes the loss of the whole global batch and back-propagates only through its own images
// (see all_gather_rows), so the global gradient is the sum of the ranks' parts.
void all_reduce_gradients(ProcessGroup& group, torch::nn::Module& module,
                          int64_t bucket_bytes = kDefaultBucketBytes);

// Floating-point buffers (batch-norm running mean and variance) become their mean over the ranks:
// each rank has seen only its own images. Integer buffers (batch counts) are equal already.
void average_float_buffers(ProcessGroup& group, torch::nn::Module& module);

// Every rank's `local` rows (the same shape on every rank) stacked in rank order along dim 0. The
// gradient flows into this rank's rows only; the others' rows are constants here.
torch::Tensor all_gather_rows(ProcessGroup& group, const torch::Tensor& local);

}  // namespace dermsim
