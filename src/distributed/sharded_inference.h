// Inference commands (predict, embed) as N ranks for large folders: each rank takes a contiguous
// share of the inputs, and the shares' results, gathered in rank order, are the results of all
// inputs in input order. Rank 0 alone writes them.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "distributed/process_group.h"

namespace dermsim {

// The connection of this rank to the others of a sharded inference (Gloo on the CPU: results are
// host data, whatever device embedded them); none for a single rank.
std::unique_ptr<ProcessGroup> join_inference_ranks(const RankPlace& place, int timeout_seconds);

// The device a rank embeds on: `device_name` ("auto", "cpu", "cuda", "cuda:N") where it names one
// device or the CPU; CUDA without an index becomes this rank's GPU on its host (cuda:LOCAL_RANK).
std::string device_of_rank(const std::string& device_name, const RankPlace& place);

// Inputs [begin, end) of the whole list.
struct InputShare {
  size_t begin = 0, end = 0;
};

// This rank's share of `count` inputs, made of whole blocks of `block` inputs (the last block may
// be short; a rank may get none). Whole blocks because the network sees a block's images as one
// batch (or a few): a rank then embeds exactly the batches one process would, so its output is
// byte-identical to a single process's at the same thread count.
InputShare input_share(size_t count, size_t block, int rank, int world_size);

// What one rank made of its share, everything in input order: output rows, the one-line reasons of
// the inputs it skipped, its embeddings (row-major; empty where the command writes none) and a
// count the command adds up over ranks (predict: images at or above the threshold).
struct ShareResult {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> skipped;
  std::vector<float> values;
  long count = 0;
};

// Every rank's result appended in rank order, on every rank (an all-gather). Without a group (one
// rank): `local`.
ShareResult merge_shares(ProcessGroup* group, ShareResult local);

// Every rank's `local` bytes, in rank order; the lengths may differ between ranks.
std::vector<std::string> all_gather_bytes(ProcessGroup& group, const std::string& local);

}  // namespace dermsim
