// A bounded load on a running `dermsim serve`: C clients (threads, one keep-alive connection
// each) each POST one image to /api/predict R times; prints the latency median and p99, the
// throughput and the errors. Used by bench/serve_latency.sh.
//   serve_load PORT IMAGE CLIENTS REQUESTS_PER_CLIENT
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: serve_load PORT IMAGE CLIENTS REQUESTS_PER_CLIENT\n");
    return 2;
  }
  const int port = std::stoi(argv[1]), clients = std::stoi(argv[3]), requests = std::stoi(argv[4]);
  std::ifstream file(argv[2], std::ios::binary);
  const std::string image((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (image.empty()) {
    std::fprintf(stderr, "serve_load: cannot read %s\n", argv[2]);
    return 2;
  }
  {  // warm-up, untimed: the server's first requests pay for lazy initialisation
    httplib::Client warm("127.0.0.1", port);
    warm.set_read_timeout(120);
    for (int i = 0; i < 3; ++i) warm.Post("/api/predict", image, "image/jpeg");
  }
  std::vector<double> latencies_ms;
  std::mutex mutex;
  std::atomic<int> errors{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(120);
      for (int r = 0; r < requests; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        auto res = client.Post("/api/predict", image, "image/jpeg");
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (!res || res->status != 200) ++errors;
        std::lock_guard<std::mutex> lock(mutex);
        latencies_ms.push_back(ms);
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto quantile = [&](double q) {
    return latencies_ms[std::min(latencies_ms.size() - 1, static_cast<size_t>(q * latencies_ms.size()))];
  };
  std::printf("clients %d x %d requests: median %.1f ms, p99 %.1f ms, max %.1f ms, %.1f requests/s, %d errors\n",
              clients, requests, quantile(0.5), quantile(0.99), latencies_ms.back(),
              latencies_ms.size() / seconds, errors.load());
  return errors.load() == 0 ? 0 : 1;
}
