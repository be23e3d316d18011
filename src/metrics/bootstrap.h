// Bootstrap confidence intervals that resample groups (patients), not images: images of one patient
// are correlated, so resampling them one by one would understate the uncertainty.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dermsim {

struct Interval {
  double estimate = 0;      // the metric on the data as given
  double lower = 0, upper = 0;  // percentile interval of the resampled metric
  double level = 0.95;
  int resamples = 0;
  long long redrawn = 0;  // resamples thrown away because they held only one class
};

using BinaryMetricFn = std::function<double(const std::vector<int>&, const std::vector<double>&)>;

// Draws the distinct groups with replacement (`resamples` times), takes every case of each drawn
// group, and evaluates `metric`; a resample holding one class only is redrawn and counted in
// `redrawn`. The interval is the (1 - level) / 2 and (1 + level) / 2 quantiles of the resampled
// values, linearly interpolated (numpy's default percentile). Deterministic for a seed (SplitMix64).
Interval bootstrap_ci(const std::vector<int>& y, const std::vector<double>& score,
                      const std::vector<std::string>& groups, const BinaryMetricFn& metric,
                      int resamples = 1000, std::uint64_t seed = 0, double level = 0.95);

}  // namespace dermsim
