// A terminal progress bar for long work: count, percentage, rate, ETA, and a free-text status.
// Safe to advance from several threads. Draws at most ~10 times a second, to stderr, and only a
// final line when stderr is not a terminal (logs and CI stay readable).
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

namespace dermsim {

class ProgressBar {
 public:
  ProgressBar(std::string label, long long total, std::string unit = "it");
  ~ProgressBar();  // finish(), unless an exception is unwinding: then it only clears its line

  void advance(long long n = 1);
  void set_status(std::string status);  // e.g. "loss 0.213"
  void finish();                        // prints the final line once
  double elapsed_seconds() const;
  long long done() const { return done_.load(); }

 private:
  void draw(bool final_line);

  std::string label_, unit_, status_;
  long long total_;
  std::atomic<long long> done_{0};
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mutex_;
  bool tty_ = false, finished_ = false;
  int exceptions_at_start_ = 0;  // a bar destroyed by an error prints nothing (one-line errors)
};

// "1.2 MB", "3.4 GB": sizes for summaries.
std::string human_bytes(double bytes);
// "2m05s", "1h02m": durations for ETAs and summaries.
std::string human_duration(double seconds);

}  // namespace dermsim
