// `dermsim serve`: the web page and JSON API (docs/web-api.md) over a trained, evaluated run.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <thread>

#include "cli/commands.h"
#include "serve/http_server.h"

namespace dermsim::cli {
namespace {

struct ServeArgs {
  std::string run, device = "auto";
  ServerOptions server;
  int max_upload_mb = 20;
};

void run_serve(ServeArgs args) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int workers = args.server.workers > 0 ? args.server.workers : cores;
  // Each of the `workers` concurrent requests gets an equal share of the cores for its tensors.
  const ServeSession session = load_serve_session(args.run, args.device, std::max(1, cores / workers));
  args.server.workers = workers;
  args.server.max_upload_bytes = static_cast<size_t>(args.max_upload_mb) << 20;
  run_server(session, args.server);
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "web page and JSON API: risk, similar lesions, saliency (no authentication)");
  cmd->add_option("--run", args->run, "trained and evaluated run folder")->required();
  cmd->add_option("--host", args->server.host, "address to listen on (loopback by default)")->capture_default_str();
  cmd->add_option("--port", args->server.port, "port (0 = any free one, printed)")
      ->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--max-upload-mb", args->max_upload_mb, "largest upload accepted")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--threads", args->server.workers, "requests computed at once (0 = one per core)")
      ->check(CLI::Range(0, 256));
  cmd->add_option("--read-timeout", args->server.read_timeout_s, "seconds a stalled upload may wait")
      ->capture_default_str()->check(CLI::Range(1, 3600));
  cmd->add_option("--device", args->device, "auto | cpu | cuda")->capture_default_str();
  cmd->callback([args] { run_serve(*args); });
}

}  // namespace dermsim::cli
