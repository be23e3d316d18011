#include "distributed/sharded_inference.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "model/device.h"

namespace dermsim {

std::unique_ptr<ProcessGroup> join_inference_ranks(const RankPlace& place, int timeout_seconds) {
  if (place.world_size == 1) return nullptr;
  return std::make_unique<ProcessGroup>(place, torch::kCPU, std::chrono::seconds(timeout_seconds));
}

std::string device_of_rank(const std::string& device_name, const RankPlace& place) {
  if (place.local_world_size == 1) return device_name;
  const torch::Device device = resolve_device(device_name);
  if (!device.is_cuda() || device.has_index()) return device_name;
  return "cuda:" + std::to_string(place.local_rank);
}

InputShare input_share(size_t count, size_t block, int rank, int world_size) {
  const size_t blocks = (count + block - 1) / block;
  const auto first_block = [&](int r) { return blocks * static_cast<size_t>(r) / world_size; };
  return {std::min(count, first_block(rank) * block),
          std::min(count, first_block(rank + 1) * block)};
}

std::vector<std::string> all_gather_bytes(ProcessGroup& group, const std::string& local) {
  const std::vector<torch::Tensor> lengths =
      group.all_gather(torch::tensor({static_cast<int64_t>(local.size())}, torch::kInt64));
  int64_t longest = 1;  // never an empty tensor
  for (const auto& n : lengths) longest = std::max(longest, n.item<int64_t>());
  torch::Tensor padded = torch::zeros({longest}, torch::kUInt8);
  std::memcpy(padded.data_ptr<uint8_t>(), local.data(), local.size());
  const std::vector<torch::Tensor> gathered = group.all_gather(padded);
  std::vector<std::string> out;
  for (size_t r = 0; r < gathered.size(); ++r)
    out.emplace_back(reinterpret_cast<const char*>(gathered[r].data_ptr<uint8_t>()),
                     static_cast<size_t>(lengths[r].item<int64_t>()));
  return out;
}

namespace {

// A ShareResult as bytes: every number a uint64, every string its length then its bytes (file names
// need not be UTF-8, so no JSON), the embeddings as raw floats.
void put_number(std::string& out, uint64_t n) {
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
}

void put_string(std::string& out, const std::string& s) {
  put_number(out, s.size());
  out += s;
}

std::string to_bytes(const ShareResult& r) {
  std::string out;
  put_number(out, r.rows.size());
  for (const auto& row : r.rows) {
    put_number(out, row.size());
    for (const auto& cell : row) put_string(out, cell);
  }
  put_number(out, r.skipped.size());
  for (const auto& reason : r.skipped) put_string(out, reason);
  put_number(out, static_cast<uint64_t>(r.count));
  put_number(out, r.values.size());
  out.append(reinterpret_cast<const char*>(r.values.data()), r.values.size() * sizeof(float));
  return out;
}

// Reads what to_bytes wrote (a rank of this same program: the layout is not checked).
class BytesReader {
 public:
  explicit BytesReader(const std::string& bytes) : bytes_(bytes) {}
  uint64_t number() {
    uint64_t n = 0;
    std::memcpy(&n, bytes_.data() + at_, sizeof n);
    at_ += sizeof n;
    return n;
  }
  std::string string() {
    const size_t n = number();
    at_ += n;
    return bytes_.substr(at_ - n, n);
  }
  void floats(std::vector<float>& out) {
    const size_t n = number();
    out.resize(out.size() + n);
    std::memcpy(out.data() + out.size() - n, bytes_.data() + at_, n * sizeof(float));
    at_ += n * sizeof(float);
  }

 private:
  const std::string& bytes_;
  size_t at_ = 0;
};

}  // namespace

ShareResult merge_shares(ProcessGroup* group, ShareResult local) {
  if (group == nullptr || group->size() == 1) return local;
  ShareResult merged;
  for (const std::string& share : all_gather_bytes(*group, to_bytes(local))) {
    BytesReader in(share);
    for (uint64_t rows = in.number(); rows > 0; --rows) {
      merged.rows.emplace_back(in.number());
      for (auto& cell : merged.rows.back()) cell = in.string();
    }
    for (uint64_t skipped = in.number(); skipped > 0; --skipped)
      merged.skipped.push_back(in.string());
    merged.count += static_cast<long>(in.number());
    in.floats(merged.values);
  }
  return merged;
}

}  // namespace dermsim
