#include "distributed/process_group.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cerrno>
#include <cstdlib>
#include <limits>

#include "common/error.h"

namespace dermsim {

namespace {

// LibTorch 2.x made Gloo and NCCL backends of a wrapping ProcessGroup; in 1.13 they are process
// groups themselves. Both bases have the same collectives with the same signatures.
#if TORCH_VERSION_MAJOR >= 2
using C10dGroup = c10d::Backend;
#else
using C10dGroup = c10d::ProcessGroup;
#endif

int env_int(const char* name, int fallback, int min, int max) {
  const char* text = std::getenv(name);
  if (text == nullptr) return fallback;
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < min || value > max)
    throw UserError(std::string("environment variable ") + name + "=" + text +
                    ": expected an integer from " + std::to_string(min) + " to " +
                    std::to_string(max));
  return static_cast<int>(value);
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

std::string rank_label(int rank, int size) {
  return "rank " + std::to_string(rank) + " of " + std::to_string(size);
}

std::shared_ptr<::gloo::transport::Device> gloo_device(const RankPlace& place) {
  // GLOO_SOCKET_IFNAME, as in PyTorch, names the interface on multi-homed hosts. Ranks that all
  // live on this host talk over loopback; otherwise the address this host's name resolves to.
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"))
    return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
  if (place.local_world_size == place.world_size)
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace

std::string backend_for(const torch::Device& device) {
#ifdef USE_C10D_NCCL
  if (device.is_cuda()) return "nccl";
#endif
  return "gloo";
}

RankPlace rank_place_from_environment() {
  RankPlace place;
  if (std::getenv("WORLD_SIZE") == nullptr) return place;
  constexpr int kMaxRanks = 1 << 16;
  place.world_size = env_int("WORLD_SIZE", 1, 1, kMaxRanks);
  if (std::getenv("RANK") == nullptr)
    throw UserError("environment variable WORLD_SIZE is set but RANK is not (torchrun sets both)");
  place.rank = env_int("RANK", 0, 0, place.world_size - 1);
  // Without torchrun's LOCAL_* variables every rank is taken to be on this host.
  place.local_world_size = env_int("LOCAL_WORLD_SIZE", place.world_size, 1, place.world_size);
  place.local_rank = env_int("LOCAL_RANK", place.rank, 0, place.local_world_size - 1);
  if (const char* addr = std::getenv("MASTER_ADDR")) place.master_addr = addr;
  place.master_port =
      env_int("MASTER_PORT", place.master_port, 1, std::numeric_limits<uint16_t>::max());
  const char* agent_store = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
  place.store_served_by_launcher = agent_store != nullptr && std::string(agent_store) == "True";
  return place;
}

struct ProcessGroup::Backend {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<C10dGroup> group;
  std::string name;
};

ProcessGroup::ProcessGroup(const RankPlace& place, torch::Device device,
                           std::chrono::milliseconds timeout)
    : backend_(std::make_unique<Backend>()), rank_(place.rank), size_(place.world_size) {
  const std::string where = place.master_addr + ":" + std::to_string(place.master_port);
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(place.master_port);
    store_options.isServer = place.rank == 0 && !place.store_served_by_launcher;
    store_options.numWorkers = static_cast<size_t>(place.world_size);
    store_options.timeout = timeout;
    // Our keys under a prefix of their own: a launcher's store holds its keys too.
    backend_->store = c10::make_intrusive<c10d::PrefixStore>(
        "dermsim", c10::make_intrusive<c10d::TCPStore>(place.master_addr, store_options));
#ifdef USE_C10D_NCCL
    if (device.is_cuda()) {
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      backend_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(backend_->store, place.rank,
                                                                    place.world_size, options);
      backend_->name = backend_for(device);
      return;
    }
#endif
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(gloo_device(place));
    backend_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(backend_->store, place.rank,
                                                                  place.world_size, options);
    backend_->name = backend_for(device);
  } catch (const std::exception& e) {
    throw UserError(rank_label(rank_, size_) + ": the ranks did not all meet at " + where +
                    " within " + std::to_string(timeout.count() / 1000) + " s (" +
                    first_line(e.what()) + ")");
  }
}

ProcessGroup::~ProcessGroup() = default;

std::string ProcessGroup::backend_name() const {
  return backend_->name;
}

namespace {

// Runs one collective: its time is counted, and a failure (a dead or silent rank) becomes one line.
template <typename Fn>
void run_collective(const char* what, int rank, int size, double& seconds, Fn fn) {
  const auto start = std::chrono::steady_clock::now();
  try {
    fn();
  } catch (const std::exception& e) {
    throw UserError(
        rank_label(rank, size) + ": lost the other ranks during " + what + " (" +
        first_line(e.what()) +
        "): a rank stopped or its connection broke");
  }
  seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

void ProcessGroup::all_reduce_sum(std::vector<torch::Tensor>& tensors) {
  run_collective("all-reduce", rank_, size_, seconds_, [&] {
    // One collective per tensor: a list given to one call means one tensor per local device.
    std::vector<c10::intrusive_ptr<c10d::Work>> pending;
    for (auto& t : tensors) {
      std::vector<at::Tensor> one{t};
      pending.push_back(backend_->group->allreduce(one));
    }
    for (auto& work : pending) work->wait();
  });
}

void ProcessGroup::broadcast(std::vector<torch::Tensor>& tensors, int root) {
  run_collective("broadcast", rank_, size_, seconds_, [&] {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    std::vector<c10::intrusive_ptr<c10d::Work>> pending;
    for (auto& t : tensors) {
      std::vector<at::Tensor> one{t};
      pending.push_back(backend_->group->broadcast(one, options));
    }
    for (auto& work : pending) work->wait();
  });
}

std::vector<torch::Tensor> ProcessGroup::all_gather(const torch::Tensor& local) {
  std::vector<std::vector<at::Tensor>> gathered(1);
  run_collective("all-gather", rank_, size_, seconds_, [&] {
    std::vector<at::Tensor> input{local.detach().contiguous()};
    for (int r = 0; r < size_; ++r) gathered[0].push_back(torch::empty_like(input[0]));
    backend_->group->allgather(gathered, input)->wait();
  });
  return gathered[0];
}

void ProcessGroup::barrier() {
  run_collective("barrier", rank_, size_, seconds_, [&] { backend_->group->barrier()->wait(); });
}

}  // namespace dermsim
