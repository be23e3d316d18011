#include "model/device.h"

#include <thread>

#include "common/error.h"

namespace dermsim {

torch::Device resolve_device(const std::string& name) {
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::kCPU;
  if (name == "cpu") return torch::kCPU;
  if (name.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available())
      throw UserError("--device " + name + ": this LibTorch build or machine has no CUDA device");
    try {
      return torch::Device(name);
    } catch (const c10::Error&) {
      throw UserError("--device " + name + ": expected auto, cpu, cuda or cuda:N");
    }
  }
  throw UserError("--device " + name + ": expected auto, cpu, cuda or cuda:N");
}

int configure_cpu_threads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  return threads;
}

}  // namespace dermsim
