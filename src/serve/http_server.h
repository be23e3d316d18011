// `dermsim serve`'s HTTP side (cpp-httplib): the routes of docs/web-api.md over a loaded
// ServeSession, upload limits, one log line per request, clean stop on SIGINT / SIGTERM.
#pragma once

#include <cstddef>
#include <string>

#include "serve/serve_session.h"

namespace dermsim {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback: there is no authentication
  int port = 8080;                 // 0 = any free port (the one chosen is printed)
  size_t max_upload_bytes = size_t{20} << 20;
  int workers = 0;           // requests computed at once (0 = one per core)
  int read_timeout_s = 20;   // a stalled upload is dropped after this long without bytes
  int connection_threads = 32;  // connections served at once (keep-alive ones hold a thread)
};

// Serves `session` until SIGINT or SIGTERM, then finishes the requests in flight and returns.
// Prints "listening on http://HOST:PORT" (flushed) once it accepts connections. Throws UserError
// when it cannot listen.
void run_server(const ServeSession& session, const ServerOptions& options);

}  // namespace dermsim
