#include "common/progress.h"

#include <exception>

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace dermsim {

ProgressBar::ProgressBar(std::string label, long long total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total),
      start_(std::chrono::steady_clock::now()), last_draw_(start_), tty_(::isatty(2)),
      exceptions_at_start_(std::uncaught_exceptions()) {}

ProgressBar::~ProgressBar() {
  if (std::uncaught_exceptions() > exceptions_at_start_) {
    if (tty_) std::fputs("\r\033[K", stderr);
    return;
  }
  finish();
}

double ProgressBar::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::advance(long long n) {
  done_ += n;
  if (!tty_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100) && done_.load() < total_) return;
  last_draw_ = now;
  draw(false);
}

void ProgressBar::set_status(std::string status) {
  std::lock_guard<std::mutex> lock(mutex_);
  status_ = std::move(status);
}

void ProgressBar::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  draw(true);
}

void ProgressBar::draw(bool final_line) {
  const long long done = done_.load();
  const double elapsed = elapsed_seconds();
  const double rate = elapsed > 0 ? done / elapsed : 0.0;
  const double fraction = total_ > 0 ? std::min(1.0, double(done) / total_) : 0.0;
  constexpr int kWidth = 24;  // characters of bar
  std::string bar(kWidth, ' ');
  for (int i = 0; i < int(fraction * kWidth); ++i) bar[i] = '#';
  std::string eta = rate > 0 && done < total_ ? " eta " + human_duration((total_ - done) / rate)
                                              : " in " + human_duration(elapsed);
  std::fprintf(stderr, "%s%-10s [%s] %lld/%lld %5.1f%% %.1f %s/s%s%s%s", tty_ ? "\r" : "",
               label_.c_str(), bar.c_str(), done, total_, 100.0 * fraction, rate, unit_.c_str(),
               eta.c_str(), status_.empty() ? "" : "  ", status_.c_str());
  if (final_line) std::fputc('\n', stderr);
  else std::fputs("\033[K", stderr);
  std::fflush(stderr);
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) { bytes /= 1000; ++u; }
  char text[32];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return text;
}

std::string human_duration(double seconds) {
  char text[32];
  long long s = std::llround(std::max(0.0, seconds));
  if (s < 60) std::snprintf(text, sizeof text, "%llds", s);
  else if (s < 3600) std::snprintf(text, sizeof text, "%lldm%02llds", s / 60, s % 60);
  else std::snprintf(text, sizeof text, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  return text;
}

}  // namespace dermsim
