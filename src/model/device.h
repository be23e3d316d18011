// Choosing where tensors live: "auto" picks CUDA when this LibTorch build and machine have it.
#pragma once

#include <torch/torch.h>

#include <string>

namespace dermsim {

// "auto" | "cpu" | "cuda" | "cuda:N". Throws UserError for cuda on a machine without it.
torch::Device resolve_device(const std::string& name);

// Sets LibTorch's intra-op threads (its default on Debian's build is 1: ~1.6x slower on 2 cores).
// threads <= 0 means one per core. Returns the count set: it changes floating-point results (the
// order of reductions), so a run records it.
int configure_cpu_threads(int threads);

}  // namespace dermsim
