// This process's place among the ranks of a data-parallel training, and its connection to the
// others through c10d: Gloo on the CPU, NCCL for CUDA tensors where LibTorch was built with it.
// The place comes from torchrun's variables, so `dermsim train --nproc N` (which sets them for its
// own child processes) and any launcher that speaks torchrun's convention start ranks the same way.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace dermsim {

struct RankPlace {
  int rank = 0;              // RANK: 0 .. world_size-1; rank 0 writes and hosts the store
  int world_size = 1;        // WORLD_SIZE
  int local_rank = 0;        // LOCAL_RANK: index on this host (its GPU, when training on CUDA)
  int local_world_size = 1;  // LOCAL_WORLD_SIZE: ranks on this host (they share its cores)
  std::string master_addr = "127.0.0.1";  // MASTER_ADDR: where rank 0's store listens
  int master_port = 29500;                // MASTER_PORT
  // TORCHELASTIC_USE_AGENT_STORE=True: torchrun's agent already serves the store there, so rank 0
  // connects to it like the others instead of opening its own.
  bool store_served_by_launcher = false;
};

// The c10d backend a group for tensors on `device` uses: "nccl" for CUDA where LibTorch has it,
// else "gloo".
std::string backend_for(const torch::Device& device);

// The place given by the environment; a single rank (world_size 1) when WORLD_SIZE is unset.
// Throws UserError naming the variable for a missing or out-of-range value.
RankPlace rank_place_from_environment();

// The connection of one rank to all others. Every collective must be called by every rank in the
// same order with tensors of the same shapes. A rank that dies or stops answering makes the
// collectives of the others throw UserError ("rank R of N: lost the other ranks ...") within the
// timeout instead of hanging; a closed connection (a killed process) is noticed at once.
class ProcessGroup {
 public:
  // Blocks until all world_size ranks have arrived (UserError after `timeout`).
  ProcessGroup(const RankPlace& place, torch::Device device, std::chrono::milliseconds timeout);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  std::string backend_name() const;

  // In place: every tensor becomes the sum of that tensor over all ranks.
  void all_reduce_sum(std::vector<torch::Tensor>& tensors);
  // In place: every tensor becomes rank `root`'s.
  void broadcast(std::vector<torch::Tensor>& tensors, int root = 0);
  // Every rank's `local` (same shape and type on all ranks), in rank order.
  std::vector<torch::Tensor> all_gather(const torch::Tensor& local);
  void barrier();

  // Wall time spent inside collectives so far, waiting for slower ranks included.
  double seconds_communicating() const { return seconds_; }

 private:
  struct Backend;
  std::unique_ptr<Backend> backend_;
  int rank_ = 0, size_ = 1;
  double seconds_ = 0;
};

}  // namespace dermsim
