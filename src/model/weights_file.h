// A small binary tensor file (no TorchScript, no Python at run time) and loading torchvision-exported
// weights into a dermsim network by parameter/buffer name.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace dermsim {

// Format, all integers little-endian:
//   magic "DSTENSOR" (8 bytes), uint32 version (= 1), uint32 tensor count, then per tensor:
//   uint32 name length, name bytes (UTF-8), uint8 dtype (0 = float32, 1 = float64, 2 = int64),
//   uint32 ndim, int64 dims[ndim], raw little-endian element data (row-major, numel * itemsize).
// scripts/export_torchvision_resnet18.py writes it with numpy.
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Throws UserError naming the file (and the tensor, when one is malformed or truncated).
NamedTensors read_tensor_file(const std::string& path);
// Writes CPU copies of the tensors (float32, float64 or int64) atomically.
void write_tensor_file(const std::string& path, const NamedTensors& tensors);
// Every parameter, then every buffer, by its full name: what load_weights fills, as
// PyTorch's state_dict() names it.
NamedTensors named_state(const torch::nn::Module& net);

struct WeightsLoadReport {
  std::vector<std::string> loaded;          // net tensors copied from the file
  std::vector<std::string> missing_in_file; // net tensors the file lacks (kept as initialised)
  std::vector<std::string> unused_in_file;  // file tensors the net lacks (torchvision's fc.* etc.)
};

// Copies every parameter and buffer whose name is in both the net and the file (shapes must match,
// else UserError naming the tensor). torchvision's fc.* are never used. With strict_backbone, a
// missing backbone tensor (anything outside the "embed." projection and the "head." classifier)
// is a UserError listing them. The net may live on any device; dtypes are converted.
WeightsLoadReport load_weights(torch::nn::Module& net, const std::string& path,
                               bool strict_backbone);

}  // namespace dermsim
