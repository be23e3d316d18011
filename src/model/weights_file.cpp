// Reader/writer of the DSTENSOR file and name-based weight loading (see weights_file.h).
#include "model/weights_file.h"

#include <cstring>
#include <map>
#include <sstream>

#include "common/atomic_file.h"
#include "common/error.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the tensor file stores raw little-endian data; add byte swapping for this host");

namespace dermsim {
namespace {

constexpr char kMagic[8] = {'D', 'S', 'T', 'E', 'N', 'S', 'O', 'R'};
constexpr uint32_t kVersion = 1;
// A guard against reading garbage as a huge allocation.
constexpr uint32_t kMaxDims = 8;

struct Reader {
  const std::string& bytes;
  const std::string& path;
  size_t pos = 0;

  void need(size_t n, const std::string& what) {
    if (bytes.size() - pos < n)
      throw UserError(path + ": truncated tensor file (at byte " + std::to_string(pos) +
                      " while reading " + what + ")");
  }
  template <typename T>
  T scalar(const std::string& what) {
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes.data() + pos, sizeof(T));
    pos += sizeof(T);
    return value;
  }
};

template <typename T>
void append(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

uint8_t dtype_code(torch::ScalarType type, const std::string& name) {
  switch (type) {
    case torch::kFloat32: return 0;
    case torch::kFloat64: return 1;
    case torch::kInt64: return 2;
    default:
      throw std::invalid_argument("write_tensor_file: tensor '" + name +
                                  "' has a dtype other than float32, float64 or int64");
  }
}

std::string shape_string(at::IntArrayRef sizes) {
  std::ostringstream out;
  out << sizes;
  return out.str();
}

bool is_head_tensor(const std::string& name) {
  return name.rfind("embed.", 0) == 0 || name.rfind("head.", 0) == 0;
}

}  // namespace

NamedTensors read_tensor_file(const std::string& path) {
  const std::string bytes = read_file(path);
  Reader in{bytes, path};
  in.need(sizeof(kMagic), "the magic");
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    throw UserError(path + ": not a dermsim tensor file (magic DSTENSOR missing); write it with "
                           "scripts/export_torchvision_resnet18.py");
  in.pos = sizeof(kMagic);
  const auto version = in.scalar<uint32_t>("the version");
  if (version != kVersion)
    throw UserError(path + ": tensor file version " + std::to_string(version) + ", expected " +
                    std::to_string(kVersion));
  const auto count = in.scalar<uint32_t>("the tensor count");
  NamedTensors tensors;
  for (uint32_t t = 0; t < count; ++t) {
    const std::string where = "tensor #" + std::to_string(t);
    const auto name_length = in.scalar<uint32_t>(where + " name length");
    in.need(name_length, where + " name");
    std::string name = bytes.substr(in.pos, name_length);
    in.pos += name_length;
    const auto code = in.scalar<uint8_t>("dtype of '" + name + "'");
    torch::ScalarType type;
    if (code == 0) type = torch::kFloat32;
    else if (code == 1) type = torch::kFloat64;
    else if (code == 2) type = torch::kInt64;
    else throw UserError(path + ": tensor '" + name + "' has unknown dtype code " + std::to_string(code));
    const auto ndim = in.scalar<uint32_t>("ndim of '" + name + "'");
    if (ndim > kMaxDims)
      throw UserError(path + ": tensor '" + name + "' claims " + std::to_string(ndim) + " dims");
    std::vector<int64_t> dims(ndim);
    int64_t numel = 1;
    for (auto& dim : dims) {
      dim = in.scalar<int64_t>("shape of '" + name + "'");
      if (dim < 0 || (dim > 0 && numel > (int64_t{1} << 40) / dim))
        throw UserError(path + ": tensor '" + name + "' has an invalid shape");
      numel *= dim;
    }
    auto tensor = torch::empty(dims, torch::TensorOptions().dtype(type));
    const size_t data_bytes = static_cast<size_t>(numel) * tensor.element_size();
    in.need(data_bytes, "data of '" + name + "'");
    if (data_bytes > 0) std::memcpy(tensor.data_ptr(), bytes.data() + in.pos, data_bytes);
    in.pos += data_bytes;
    tensors.emplace_back(std::move(name), std::move(tensor));
  }
  if (in.pos != bytes.size())
    throw UserError(path + ": " + std::to_string(bytes.size() - in.pos) +
                    " unexpected bytes after the last tensor");
  return tensors;
}

void write_tensor_file(const std::string& path, const NamedTensors& tensors) {
  std::string out(kMagic, sizeof(kMagic));
  append<uint32_t>(out, kVersion);
  append<uint32_t>(out, static_cast<uint32_t>(tensors.size()));
  for (const auto& [name, tensor] : tensors) {
    const auto code = dtype_code(tensor.scalar_type(), name);
    append<uint32_t>(out, static_cast<uint32_t>(name.size()));
    out += name;
    append<uint8_t>(out, code);
    append<uint32_t>(out, static_cast<uint32_t>(tensor.dim()));
    for (int64_t dim : tensor.sizes()) append<int64_t>(out, dim);
    const auto cpu = tensor.detach().to(torch::kCPU).contiguous();
    out.append(static_cast<const char*>(cpu.data_ptr()), cpu.numel() * cpu.element_size());
  }
  write_file_atomic(path, out);
}

NamedTensors named_state(const torch::nn::Module& net) {
  NamedTensors tensors;
  for (const auto& item : net.named_parameters(/*recurse=*/true)) tensors.emplace_back(item.key(), item.value());
  for (const auto& item : net.named_buffers(/*recurse=*/true)) tensors.emplace_back(item.key(), item.value());
  return tensors;
}

WeightsLoadReport load_weights(torch::nn::Module& net, const std::string& path,
                               bool strict_backbone) {
  std::map<std::string, torch::Tensor> file;
  for (auto& [name, tensor] : read_tensor_file(path)) file.emplace(name, tensor);

  WeightsLoadReport report;
  NamedTensors targets = named_state(net);

  torch::NoGradGuard no_grad;
  std::vector<std::string> used;
  for (auto& [name, target] : targets) {
    auto found = file.find(name);
    if (found == file.end() || name.rfind("fc.", 0) == 0) {
      report.missing_in_file.push_back(name);
      continue;
    }
    if (found->second.sizes() != target.sizes())
      throw UserError(path + ": tensor '" + name + "' has shape " + shape_string(found->second.sizes()) +
                      " but the network expects " + shape_string(target.sizes()));
    target.copy_(found->second);
    report.loaded.push_back(name);
    used.push_back(name);
  }
  for (const auto& [name, tensor] : file)
    if (std::find(used.begin(), used.end(), name) == used.end()) report.unused_in_file.push_back(name);

  if (strict_backbone) {
    std::string missing;
    for (const auto& name : report.missing_in_file)
      if (!is_head_tensor(name)) missing += (missing.empty() ? "" : ", ") + name;
    if (!missing.empty())
      throw UserError(path + ": backbone tensors missing from the weights file: " + missing);
  }
  return report;
}

}  // namespace dermsim
