// `dermsim serve` as a user meets it: a real server process on 127.0.0.1 (a free port) over a run
// trained and evaluated on the shipped HAM sample, asked over real HTTP. Good uploads (JPEG as a
// form field and as a raw body, PNG) answer what `dermsim predict` says; every kind of bad input
// gets its 4xx with a JSON error; 8 concurrent clients see no error; SIGTERM stops it cleanly.
// Also in-process: concurrent Grad-CAM leaves the shared network's parameters without gradients.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/csv.h"
#include "image/decode.h"
#include "image/encode.h"
#include "serve/serve_session.h"
#include "support/test_support.h"

namespace dermsim {
namespace {

namespace fs = std::filesystem;

const std::string kHam = std::string(DERMSIM_SOURCE_DIR) + "/data/ham10000";
const std::string kImage = kHam + "/train/ISIC_0024383.jpg";

fs::path temp_root() { return fs::temp_directory_path() / ("dermsim_serve_" + std::to_string(getpid())); }
std::string run_folder() { return (temp_root() / "run").string(); }

void ok(const std::string& args) {
  const testing::CommandResult r = testing::run_dermsim(args);
  ASSERT_EQ(r.exit_code, 0) << "dermsim " << args << "\n" << r.output;
}

// The server as a child process: its stdout is read until it says where it listens.
struct ServerProcess {
  pid_t pid = -1;
  int out = -1;  // the child's stdout and stderr
  int port = 0;
  std::string output;

  void start(const std::string& args) {
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    pid = ::fork();
    if (pid == 0) {
      ::dup2(pipe_fds[1], 1);
      ::dup2(pipe_fds[1], 2);
      ::close(pipe_fds[0]);
      const std::string command = std::string("exec ") + DERMSIM_BINARY + " serve " + args;
      ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(pipe_fds[1]);
    out = pipe_fds[0];
    const std::string marker = "listening on http://127.0.0.1:";
    while (output.find(marker) == std::string::npos || output.find('\n', output.find(marker)) == std::string::npos) {
      char buffer[4096];
      const ssize_t n = ::read(out, buffer, sizeof buffer);
      ASSERT_GT(n, 0) << "the server ended before listening:\n" << output;
      output.append(buffer, static_cast<size_t>(n));
    }
    port = std::stoi(output.substr(output.find(marker) + marker.size()));
  }

  // SIGTERM, then everything it printed; returns its exit status.
  int stop() {
    ::kill(pid, SIGTERM);
    char buffer[4096];
    for (ssize_t n; (n = ::read(out, buffer, sizeof buffer)) > 0;) output.append(buffer, static_cast<size_t>(n));
    ::close(out);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

// A raw TCP exchange: sends `request`, then reads until the server closes or 15 s pass. `closed`
// tells whether the server ended the connection (rather than the 15 s running out).
std::string raw_exchange(int port, const std::string& request, bool& closed) {
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(sock, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  timeval timeout{15, 0};
  ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  EXPECT_EQ(::send(sock, request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
  std::string reply;
  char buffer[4096];
  ssize_t n;
  while ((n = ::recv(sock, buffer, sizeof buffer, 0)) > 0) reply.append(buffer, static_cast<size_t>(n));
  closed = n == 0 || (n < 0 && errno == ECONNRESET);
  ::close(sock);
  return reply;
}

// A PNG whose header claims width x height (valid CRC, no pixel data): what a forged upload sends.
std::string png_header_claiming(uint32_t width, uint32_t height) {
  const uint8_t pixel[3] = {1, 2, 3};
  std::string png = encode_png(pixel, 1, 1);
  auto put_u32 = [&](size_t at, uint32_t v) {
    for (int b = 0; b < 4; ++b) png[at + b] = static_cast<char>((v >> (24 - 8 * b)) & 0xff);
  };
  put_u32(16, width);  // IHDR data starts at 16 (8 signature + 4 length + 4 type)
  put_u32(20, height);
  const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(png.data() + 12), 17);
  put_u32(29, static_cast<uint32_t>(crc));
  return png;
}

double predicted_by_cli(const std::string& image, const std::string& run = run_folder()) {
  const std::string csv = (temp_root() / "predict.csv").string();
  const testing::CommandResult r = testing::run_dermsim("predict --run " + run + " " + image + " --out " + csv);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return std::stod(read_csv(csv).rows.at(0).at(1));
}

httplib::Result post_form(httplib::Client& client, const std::string& path, const std::string& bytes,
                          const std::string& type) {
  return client.Post(path.c_str(), httplib::MultipartFormDataItems{{"image", bytes, "upload", type}});
}

class Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::remove_all(temp_root());
    ok("prepare --data " + kHam + " --out " + run_folder() + " --image-size 64");
    ok("train --run " + run_folder() + " --epochs 2 --images-per-class 8 --embed-dim 32 --threads 2");
    ok("evaluate --run " + run_folder() + " --split test --skip-floor");
    server = new ServerProcess;
    server->start("--run " + run_folder() + " --port 0 --threads 2 --max-upload-mb 1 --read-timeout 2");
  }
  static void TearDownTestSuite() {
    if (server && server->pid > 0) server->stop();
    delete server;
    fs::remove_all(temp_root());
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server->port);
    c.set_read_timeout(60);
    return c;
  }
  static ServerProcess* server;
};
ServerProcess* Serve::server = nullptr;

nlohmann::json json_of(const httplib::Result& r) {
  EXPECT_TRUE(r) << "no answer";
  return r ? nlohmann::json::parse(r->body) : nlohmann::json();
}

TEST_F(Serve, HealthModelCardAndMap) {
  auto c = client();
  auto health = c.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json_of(health), nlohmann::json({{"status", "ok"}}));

  const nlohmann::json model = json_of(c.Get("/api/model"));
  EXPECT_EQ(model["disclaimer"], "research tool, not a diagnostic device");
  const long train_images = model["data"]["split"]["train"]["images"];
  EXPECT_EQ(model["references"], train_images);
  EXPECT_EQ(model["network"]["embedding_dim"], 32);
  EXPECT_EQ(model["network"]["image_size"], 64);
  const auto& roc = model["validation_roc"];
  ASSERT_FALSE(roc["threshold"].empty());
  EXPECT_EQ(roc["tpr"].size(), roc["threshold"].size());
  EXPECT_EQ(roc["fpr"].back(), 1.0);
  EXPECT_EQ(roc["positives"].get<long>() + roc["negatives"].get<long>(),
            model["data"]["split"]["val"]["images"].get<long>());
  const nlohmann::json card = nlohmann::json::parse(read_file(run_folder() + "/model.json"));
  // An upload carries no age, sex or site: a card whose classifier reads them serves its
  // image-only fallback, says so, and shows that fallback's test figures.
  const bool fallback = card.contains("image_only");
  EXPECT_EQ(fallback, card.contains("metadata"));
  const nlohmann::json& served = fallback ? card["image_only"] : card;
  EXPECT_EQ(model["classifier"]["description"], served["classifier_description"]);
  EXPECT_EQ(model["classifier"]["threshold"], served["threshold"]);
  EXPECT_EQ(model["classifier"]["with_metadata"].is_null(), !fallback);
  EXPECT_EQ(model["classifier"]["precision"], card["precision"]);  // embedded at the card's precision
  const nlohmann::json metrics = nlohmann::json::parse(read_file(run_folder() + "/metrics-test.json"));
  const nlohmann::json& served_metrics = fallback ? metrics["image_only"]["metrics"] : metrics["metrics"];
  EXPECT_EQ(model["test"]["auc"]["value"], served_metrics["auc"]);
  EXPECT_EQ(model["test"]["auc"]["low"], served_metrics["auc_ci"]["lower"]);

  const nlohmann::json map = json_of(c.Get("/api/map"));
  EXPECT_EQ(map["method"], "pca");
  ASSERT_EQ(map["points"].size(), static_cast<size_t>(train_images));
  EXPECT_GT(map["explained_variance"][0].get<double>(), map["explained_variance"][1].get<double>());
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<"), std::string::npos);
}

// An upload may give age, sex and site (form fields). On a run whose card reads them (a copy of
// the fixture's run given a known metadata card by tests/support/add_metadata_card.py), an upload
// with fields scores as `predict --csv` with the same values, one without as `predict` without
// --csv (the card's image-only fallback), and /api/model says which is which. A bad field is a
// 400 naming it.
TEST_F(Serve, PredictUsesTheAgeSexAndSiteAnUploadGives) {
  const std::string run = run_folder() + "-metadata";
  fs::remove_all(run);
  fs::copy(run_folder(), run, fs::copy_options::recursive);
  ASSERT_EQ(std::system(("python3 " + std::string(DERMSIM_SOURCE_DIR) + "/tests/support/add_metadata_card.py " +
                         run).c_str()), 0);
  const nlohmann::json card = nlohmann::json::parse(read_file(run + "/model.json"));
  ServerProcess metadata_server;
  metadata_server.start("--run " + run + " --port 0 --threads 2");
  httplib::Client c("127.0.0.1", metadata_server.port);
  c.set_read_timeout(60);
  const nlohmann::json model = json_of(c.Get("/api/model"));
  const nlohmann::json& with_metadata = model["classifier"]["with_metadata"];
  ASSERT_TRUE(with_metadata.is_object()) << model["classifier"].dump();
  EXPECT_EQ(with_metadata["description"], card["classifier_description"]);
  EXPECT_EQ(model["classifier"]["description"], card["image_only"]["classifier_description"]);
  EXPECT_EQ(with_metadata["sites"], card["metadata"]["sites"]);

  const std::string jpeg = read_file(kImage);
  const std::string site = card["metadata"]["sites"][0];
  auto with_fields = [&](const std::string& age) {
    auto r = c.Post("/api/predict", httplib::MultipartFormDataItems{
                                        {"image", jpeg, "upload", "image/jpeg"}, {"age", age, "", ""},
                                        {"sex", "male", "", ""}, {"site", site, "", ""}});
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    return r ? nlohmann::json::parse(r->body) : nlohmann::json();
  };
  const nlohmann::json p = with_fields("75");
  EXPECT_TRUE(p["used_metadata"].get<bool>());
  EXPECT_EQ(p["classifier"], card["classifier_description"]);
  EXPECT_GT(p["probability"].get<double>(), with_fields("30")["probability"].get<double>()) << "age ignored";
  const std::string csv = (temp_root() / "upload-metadata.csv").string();
  write_file_atomic(csv, "image,patient,sex,age_approx,anatom_site_general\n" +
                             fs::path(kImage).stem().string() + ",,male,75," + site + "\n");
  const std::string out = (temp_root() / "predict-metadata.csv").string();
  ok("predict --run " + run + " --csv " + csv + " --images " + fs::path(kImage).parent_path().string() +
     " --out " + out);
  EXPECT_NEAR(p["probability"].get<double>(), std::stod(read_csv(out).rows.at(0).at(1)), 5e-7);

  auto plain = post_form(c, "/api/predict", jpeg, "image/jpeg");
  ASSERT_TRUE(plain);
  const nlohmann::json q = nlohmann::json::parse(plain->body);
  EXPECT_FALSE(q["used_metadata"].get<bool>());
  EXPECT_EQ(q["classifier"], card["image_only"]["classifier_description"]);
  EXPECT_EQ(q["threshold"], card["image_only"]["threshold"]);
  EXPECT_NEAR(q["probability"].get<double>(), predicted_by_cli(kImage, run), 5e-7);

  for (const auto& [field, value] : std::vector<std::pair<std::string, std::string>>{
           {"age", "seventy"}, {"age", "-3"}, {"sex", "x"}}) {
    auto bad = c.Post("/api/predict", httplib::MultipartFormDataItems{
                                          {"image", jpeg, "upload", "image/jpeg"}, {field, value, "", ""}});
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400) << field << "=" << value;
    EXPECT_NE(json_of(bad)["error"].get<std::string>().find(field + ":"), std::string::npos) << bad->body;
  }
  EXPECT_EQ(metadata_server.stop(), 0) << metadata_server.output;
}

TEST_F(Serve, PredictAnswersWhatThePredictCommandSays) {
  auto c = client();
  const std::string jpeg = read_file(kImage);
  auto r = post_form(c, "/api/predict", jpeg, "image/jpeg");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const nlohmann::json p = nlohmann::json::parse(r->body);
  const double cli = predicted_by_cli(kImage);
  EXPECT_NEAR(p["probability"].get<double>(), cli, 5e-7);
  EXPECT_EQ(p["malignant"], p["probability"].get<double>() >= p["threshold"].get<double>());
  ASSERT_EQ(p["similar"].size(), 8u);
  for (size_t i = 0; i < 8; ++i) {
    const auto& s = p["similar"][i];
    EXPECT_EQ(s["thumbnail"].get<std::string>().rfind("data:image/jpeg;base64,", 0), 0u);
    EXPECT_TRUE(s["label"] == 0 || s["label"] == 1);
    if (i > 0) EXPECT_GE(s["distance"].get<double>(), p["similar"][i - 1]["distance"].get<double>());
  }
  EXPECT_EQ(p["saliency"].get<std::string>().rfind("data:image/png;base64,", 0), 0u);
  EXPECT_TRUE(p["map"]["x"].is_number());

  // The same bytes as a raw body, and fewer neighbours.
  auto raw = c.Post("/api/predict?k=3", jpeg, "image/jpeg");
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->status, 200) << raw->body;
  const nlohmann::json q = nlohmann::json::parse(raw->body);
  EXPECT_EQ(q["probability"], p["probability"]);
  ASSERT_EQ(q["similar"].size(), 3u);
  EXPECT_EQ(q["similar"][2]["image"], p["similar"][2]["image"]);

  // A PNG of the image: what predict says of that PNG file.
  const RgbImage decoded = decode_image_file(kImage, 0);
  const std::string png = encode_png(decoded.pixels.data(), decoded.width, decoded.height);
  const std::string png_path = (temp_root() / "upload.png").string();
  write_file_atomic(png_path, png);
  auto as_png = c.Post("/api/predict", png, "image/png");
  ASSERT_TRUE(as_png);
  ASSERT_EQ(as_png->status, 200) << as_png->body;
  EXPECT_NEAR(nlohmann::json::parse(as_png->body)["probability"].get<double>(), predicted_by_cli(png_path), 5e-7);

  auto explain = post_form(c, "/api/explain", jpeg, "image/jpeg");
  ASSERT_TRUE(explain);
  ASSERT_EQ(explain->status, 200);
  EXPECT_EQ(explain->get_header_value("Content-Type"), "image/png");
  const RgbImage overlay = decode_image_bytes(explain->body, "overlay", 0);
  EXPECT_EQ(overlay.width, 2 * 256 + 8);
}

TEST_F(Serve, BadInputGetsItsStatusAndAJsonError) {
  auto c = client();
  const std::string jpeg = read_file(kImage);
  auto expect_error = [](const httplib::Result& r, int status, const std::string& words) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    const nlohmann::json j = nlohmann::json::parse(r->body);
    EXPECT_NE(j["error"].get<std::string>().find(words), std::string::npos) << r->body;
  };
  expect_error(post_form(c, "/api/predict", jpeg.substr(0, jpeg.size() / 2), "image/jpeg"), 400, "JPEG");
  expect_error(post_form(c, "/api/predict", "just some text\n", "text/plain"), 400, "not a JPEG or PNG");
  expect_error(c.Post("/api/predict", "just some text\n", "text/plain"), 415, "not an image");
  expect_error(c.Post("/api/predict", httplib::MultipartFormDataItems{{"file", jpeg, "x.jpg", "image/jpeg"}}),
               400, "no field 'image'");
  expect_error(c.Post("/api/predict", png_header_claiming(20000, 20000), "image/png"), 400, "too large");
  expect_error(c.Post("/api/predict?k=0", jpeg, "image/jpeg"), 400, "k must be");
  expect_error(c.Post("/api/predict?k=abc", jpeg, "image/jpeg"), 400, "k must be");
  expect_error(c.Get("/api/nothing"), 404, "no route GET /api/nothing");
  expect_error(c.Get("/api/predict"), 404, "no route");

  // Over --max-upload-mb (1 MB): refused from the header alone; the body is never sent.
  bool closed = false;
  const std::string big = raw_exchange(server->port,
                                       "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
                                       "Content-Length: 5000000\r\n\r\n",
                                       closed);
  EXPECT_EQ(big.rfind("HTTP/1.1 413", 0), 0u) << big;
  EXPECT_NE(big.find("over the limit"), std::string::npos) << big;
  // A stalled upload (10 of 1000 bytes, then nothing) is dropped after --read-timeout (2 s).
  const std::string stalled = raw_exchange(server->port,
                                           "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
                                           "Content-Length: 1000\r\n\r\n0123456789",
                                           closed);
  EXPECT_TRUE(closed) << "the server kept a stalled upload open: " << stalled;
}

TEST_F(Serve, EightConcurrentClientsTimesTwentyFiveRequestsAllSucceed) {
  const std::string jpeg = read_file(kImage);
  const double expected = json_of(post_form(*std::make_unique<httplib::Client>(client()), "/api/predict",
                                            jpeg, "image/jpeg"))["probability"];
  std::atomic<int> failures{0}, successes{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      auto c = client();
      for (int i = 0; i < 25; ++i) {
        auto r = post_form(c, "/api/predict", jpeg, "image/jpeg");
        const bool good = r && r->status == 200 &&
                          std::abs(nlohmann::json::parse(r->body)["probability"].get<double>() - expected) < 1e-9;
        (good ? successes : failures)++;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(successes.load(), 200);
}

// Grad-CAM from several threads on one loaded session: the same map each time, and no gradient
// ever lands in the shared network's parameters.
TEST_F(Serve, ConcurrentExplanationsLeaveTheSharedParametersWithoutGradients) {
  const ServeSession session = load_serve_session(run_folder(), "cpu", 1);
  const RgbImage image = fit_upload(session, read_file(kImage));
  const std::string first = explain_png(session, image);
  std::vector<std::thread> threads;
  std::atomic<int> different{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) different += explain_png(session, image) != first;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(different.load(), 0);
  for (const auto& p : session.model.net->parameters()) EXPECT_FALSE(p.grad().defined());
}

// SIGTERM ends the server cleanly, and it logged every request in one line (ctest runs each test
// in a process of its own, so this one makes the requests it looks for).
TEST_F(Serve, SigtermStopsCleanlyAfterLoggingEveryRequest) {
  auto c = client();
  ASSERT_TRUE(c.Post("/api/predict", read_file(kImage), "image/jpeg"));
  ASSERT_TRUE(c.Get("/api/nothing"));
  bool closed = false;
  raw_exchange(server->port, "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999\r\n\r\n", closed);
  EXPECT_EQ(server->stop(), 0) << server->output;
  EXPECT_NE(server->output.find("stopped"), std::string::npos) << server->output;
  EXPECT_NE(server->output.find("POST /api/predict 200 "), std::string::npos);
  EXPECT_NE(server->output.find("GET /api/nothing 404 "), std::string::npos);
  EXPECT_NE(server->output.find("POST /api/predict 413 "), std::string::npos);
  server->pid = -1;
}

}  // namespace
}  // namespace dermsim
