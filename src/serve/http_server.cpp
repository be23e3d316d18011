// Routes and the request pipeline. Bodies over the limit are refused from their Content-Length
// (and on Expect: 100-continue) before any of the body is read; inference runs on at most
// `workers` requests at once, while more connection threads keep slow clients from blocking others.
#include "serve/http_server.h"

#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <thread>

#include "common/error.h"
#include "web/web_assets.h"

namespace dermsim {

namespace {

constexpr int kDefaultNeighbours = 8;

// A counting semaphore: the pool of `workers` inference slots.
class InferenceSlots {
 public:
  explicit InferenceSlots(int count) : free_(count) {}
  template <typename Fn>
  auto run(Fn fn) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      available_.wait(lock, [&] { return free_ > 0; });
      --free_;
    }
    struct Release {
      InferenceSlots& slots;
      ~Release() {
        { std::lock_guard<std::mutex> lock(slots.mutex_); ++slots.free_; }
        slots.available_.notify_one();
      }
    } release{*this};
    return fn();
  }

 private:
  std::mutex mutex_;
  std::condition_variable available_;
  int free_;
};

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, {{"error", message}});
}

// A request refused before its handler runs (413, 411); its status and body are set.
struct Refusal {
  int status = 0;
  std::string message;
};

Refusal check_body_size(const httplib::Request& req, size_t max_bytes) {
  if (req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos)
    return {411, "chunked uploads are not accepted; send a Content-Length"};
  if (!req.has_header("Content-Length")) return {};
  const std::string text = req.get_header_value("Content-Length");
  unsigned long long length = 0;
  try {
    length = std::stoull(text);
  } catch (const std::exception&) {
    return {400, "Content-Length '" + text + "' is not a number"};
  }
  if (length > max_bytes)
    return {413, "upload of " + std::to_string(length) + " bytes is over the limit of " +
                     std::to_string(max_bytes >> 20) + " MB (--max-upload-mb)"};
  return {};
}

// The image bytes of an upload: multipart field `image`, or a raw image/jpeg or image/png body.
// Sets the refusal (400 / 415) and returns false when there is none.
bool upload_bytes(const httplib::Request& req, std::string& bytes, Refusal& refusal) {
  if (req.is_multipart_form_data()) {
    if (!req.has_file("image")) {
      refusal = {400, "the multipart form has no field 'image'"};
      return false;
    }
    bytes = req.get_file_value("image").content;
    return true;
  }
  const std::string type = req.get_header_value("Content-Type");
  const std::string media = type.substr(0, type.find(';'));
  if (media != "image/jpeg" && media != "image/png") {
    refusal = {415, "content type '" + type + "' is not an image; send image/jpeg, image/png or a "
                    "multipart form with the field 'image'"};
    return false;
  }
  bytes = req.body;
  return true;
}

// A multipart form field, else the query parameter of that name, else "".
std::string field_value(const httplib::Request& req, const std::string& name) {
  if (req.has_file(name)) return req.get_file_value(name).content;
  return req.has_param(name) ? req.get_param_value(name) : std::string();
}

int neighbours_asked(const httplib::Request& req) {
  if (!req.has_param("k")) return kDefaultNeighbours;
  const std::string text = req.get_param_value("k");
  try {
    size_t used = 0;
    const int k = std::stoi(text, &used);
    if (used == text.size() && k >= 1 && k <= kMaxNeighbours) return k;
  } catch (const std::exception&) {
  }
  throw UserError("k must be a whole number from 1 to " + std::to_string(kMaxNeighbours) + ", got '" +
                  text + "'");
}

// Decodes the upload and runs `answer` on it in an inference slot; bad input becomes a 4xx JSON
// error, anything else a 500.
template <typename Answer>
void handle_upload(const ServeSession& session, InferenceSlots& slots, const httplib::Request& req,
                   httplib::Response& res, Answer answer) {
  std::string bytes;
  Refusal refusal;
  if (!upload_bytes(req, bytes, refusal)) return send_error(res, refusal.status, refusal.message);
  try {
    slots.run([&] {
      answer(fit_upload(session, bytes));
      return 0;
    });
  } catch (const UserError& e) {
    send_error(res, 400, e.what());
  } catch (const std::exception& e) {
    send_error(res, 500, std::string("internal error: ") + e.what());
  }
}

// SIGINT / SIGTERM write a byte to this pipe (async-signal-safe); a watcher thread stops the server.
int stop_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int) {
  const char byte = 1;
  (void)!::write(stop_pipe[1], &byte, 1);
}

thread_local std::chrono::steady_clock::time_point request_start;
thread_local bool request_started = false;

void log_request(const httplib::Request& req, const httplib::Response& res) {
  if (request_started) {
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - request_start).count();
    std::printf("%s %s %d %.1f ms\n", req.method.c_str(), req.path.c_str(), res.status, ms);
  } else {
    std::printf("%s %s %d - ms\n", req.method.c_str(), req.path.c_str(), res.status);
  }
  std::fflush(stdout);
  request_started = false;
}

void add_routes(httplib::Server& server, const ServeSession& session, InferenceSlots& slots) {
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, {{"status", "ok"}});
  });
  server.Get("/api/model", [&session](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, session.model_info);
  });
  server.Get("/api/map", [&session](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, session.map);
  });
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    const std::string_view page = web_page_html();
    res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
  });
  server.Post("/api/predict", [&session, &slots](const httplib::Request& req, httplib::Response& res) {
    int k = 0;
    try {
      k = neighbours_asked(req);
    } catch (const UserError& e) {
      return send_error(res, 400, e.what());
    }
    LesionRecord metadata;
    try {
      metadata = upload_metadata(field_value(req, "age"), field_value(req, "sex"), field_value(req, "site"));
    } catch (const UserError& e) {
      return send_error(res, 400, e.what());
    }
    handle_upload(session, slots, req, res, [&](const RgbImage& image) {
      send_json(res, 200, predict_json(session, image, k, metadata));
    });
  });
  server.Post("/api/explain", [&session, &slots](const httplib::Request& req, httplib::Response& res) {
    handle_upload(session, slots, req, res, [&](const RgbImage& image) {
      res.set_content(explain_png(session, image), "image/png");
    });
  });
}

}  // namespace

void run_server(const ServeSession& session, const ServerOptions& options) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  InferenceSlots slots(options.workers > 0 ? options.workers : cores);
  httplib::Server server;
  const int connection_threads = options.connection_threads;
  server.new_task_queue = [connection_threads] { return new httplib::ThreadPool(connection_threads); };
  server.set_read_timeout(options.read_timeout_s);
  server.set_write_timeout(options.read_timeout_s);
  server.set_payload_max_length(options.max_upload_bytes);

  const size_t max_bytes = options.max_upload_bytes;
  server.set_expect_100_continue_handler([max_bytes](const httplib::Request& req, httplib::Response& res) {
    request_start = std::chrono::steady_clock::now();
    request_started = true;
    const Refusal refusal = check_body_size(req, max_bytes);
    if (refusal.status == 0) return 100;
    send_error(res, refusal.status, refusal.message);
    res.set_header("Connection", "close");
    return refusal.status;
  });
  server.set_pre_routing_handler([max_bytes](const httplib::Request& req, httplib::Response& res) {
    request_start = std::chrono::steady_clock::now();
    request_started = true;
    const Refusal refusal = check_body_size(req, max_bytes);
    if (refusal.status == 0) return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, refusal.status, refusal.message);
    res.set_header("Connection", "close");  // the unread body must not be parsed as a request
    return httplib::Server::HandlerResponse::Handled;
  });
  server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler's own error
    if (res.status == 404)
      send_error(res, 404, "no route " + req.method + " " + req.path);
    else
      send_error(res, res.status, "request refused (HTTP " + std::to_string(res.status) + ")");
  });
  server.set_logger(log_request);
  add_routes(server, session, slots);

  const int port = options.port == 0 ? server.bind_to_any_port(options.host)
                                     : (server.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port < 0)
    throw UserError("serve: cannot listen on " + options.host + ":" + std::to_string(options.port) +
                    " (in use, or not an address of this machine)");

  if (::pipe(stop_pipe) != 0) throw UserError("serve: cannot create the stop pipe");
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  std::thread watcher([&server] {
    char byte = 0;
    while (::read(stop_pipe[0], &byte, 1) < 0 && errno == EINTR) {
    }
    server.stop();
  });

  std::printf("listening on http://%s:%d (%zu reference images; no authentication, see README)\n",
              options.host.c_str(), port, session.reference.size());
  std::fflush(stdout);
  const bool clean = server.listen_after_bind();
  on_stop_signal(0);  // wakes the watcher if the server ended by itself
  watcher.join();
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::close(stop_pipe[0]);
  ::close(stop_pipe[1]);
  std::printf("stopped\n");
  std::fflush(stdout);
  if (!clean) throw UserError("serve: the server stopped on an error");
}

}  // namespace dermsim
