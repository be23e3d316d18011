// bf16 autocast (see precision.h). LibTorch 2.4 replaced the per-device autocast setters by ones
// taking the device type and deprecated the old ones; both are used through the version macros.
#include "model/precision.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "common/error.h"

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define DERMSIM_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace dermsim {
namespace {

bool autocast_enabled(torch::DeviceType type) {
#ifdef DERMSIM_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(type);
#else
  return type == torch::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

torch::ScalarType autocast_dtype(torch::DeviceType type) {
#ifdef DERMSIM_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::get_autocast_dtype(type);
#else
  return type == torch::kCPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
#endif
}

void set_autocast(torch::DeviceType type, bool enabled, torch::ScalarType dtype) {
#ifdef DERMSIM_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_dtype(type, dtype);
  at::autocast::set_autocast_enabled(type, enabled);
#else
  if (type == torch::kCPU) {
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(enabled);
  } else {
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(enabled);
  }
#endif
}

}  // namespace

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::kFloat32;
  if (name == "bf16") return Precision::kBFloat16;
  throw UserError("--precision " + name + ": expected fp32 or bf16");
}

std::string precision_name(Precision precision) {
  return precision == Precision::kBFloat16 ? "bf16" : "fp32";
}

AutocastGuard::AutocastGuard(Precision precision, const torch::Device& device)
    : enabled_(precision == Precision::kBFloat16), device_type_(device.type()) {
  if (!enabled_) return;
  TORCH_CHECK(device_type_ == torch::kCPU || device_type_ == torch::kCUDA,
              "bf16 autocast: CPU or CUDA only, not ", device);
  previous_enabled_ = autocast_enabled(device_type_);
  previous_dtype_ = autocast_dtype(device_type_);
  set_autocast(device_type_, true, torch::kBFloat16);
}

AutocastGuard::~AutocastGuard() {
  if (!enabled_) return;
  set_autocast(device_type_, previous_enabled_, previous_dtype_);
  if (!previous_enabled_) at::autocast::clear_cache();
}

torch::Tensor embed_forward(EmbeddingNet& net, const torch::Tensor& images, Precision precision) {
  AutocastGuard autocast(precision, images.device());
  return net->forward(images).to(torch::kFloat);
}

}  // namespace dermsim
