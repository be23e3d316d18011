// Group bootstrap (see bootstrap.h).
#include "metrics/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "common/error.h"
#include "metrics/input_checks.h"
#include "common/splitmix64.h"

namespace dermsim {
namespace {

// Linear interpolation between order statistics (numpy.percentile's default 'linear' method).
double quantile_of_sorted(const std::vector<double>& sorted, double q) {
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sorted[below] + (sorted[above] - sorted[below]) * fraction;
}

}  // namespace

Interval bootstrap_ci(const std::vector<int>& y, const std::vector<double>& score,
                      const std::vector<std::string>& groups, const BinaryMetricFn& metric,
                      int resamples, std::uint64_t seed, double level) {
  metrics_detail::check_labels("bootstrap_ci", y, score.size());
  if (groups.size() != y.size()) {
    throw UserError("bootstrap_ci: size mismatch: " + std::to_string(y.size()) + " labels but " +
                    std::to_string(groups.size()) + " group ids");
  }
  metrics_detail::check_both_classes("bootstrap_ci", y);
  if (resamples < 1) throw UserError("bootstrap_ci: resamples must be >= 1");
  if (!(level > 0.0 && level < 1.0)) {
    throw UserError("bootstrap_ci: level " + std::to_string(level) + " must lie in (0, 1)");
  }
  Interval interval;
  interval.estimate = metric(y, score);  // throws (e.g. one class) before any resampling
  interval.level = level;
  interval.resamples = resamples;

  // Members of each group, groups numbered in order of first appearance so the draw is
  // independent of hashing.
  std::unordered_map<std::string, std::size_t> group_index;
  std::vector<std::vector<std::size_t>> members;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    auto [it, inserted] = group_index.emplace(groups[i], members.size());
    if (inserted) members.emplace_back();
    members[it->second].push_back(i);
  }

  SplitMix64 rng(seed);
  // Both classes are present overall, so a two-class resample has positive probability; the cap
  // only guards against absurdly unlucky data (e.g. one mixed group among thousands of pure ones).
  const long long max_redraws = 100LL * resamples + 10000;
  std::vector<double> values;
  values.reserve(static_cast<std::size_t>(resamples));
  std::vector<int> y_drawn;
  std::vector<double> score_drawn;
  while (static_cast<int>(values.size()) < resamples) {
    y_drawn.clear();
    score_drawn.clear();
    for (std::size_t g = 0; g < members.size(); ++g) {
      for (std::size_t i : members[rng.below(members.size())]) {
        y_drawn.push_back(y[i]);
        score_drawn.push_back(score[i]);
      }
    }
    const bool both_classes = std::find(y_drawn.begin(), y_drawn.end(), 0) != y_drawn.end() &&
                              std::find(y_drawn.begin(), y_drawn.end(), 1) != y_drawn.end();
    if (!both_classes) {
      if (++interval.redrawn > max_redraws) {
        throw UserError("bootstrap_ci: gave up after " + std::to_string(interval.redrawn) +
                        " resamples with only one class; too few groups of the minority class");
      }
      continue;
    }
    values.push_back(metric(y_drawn, score_drawn));
  }
  std::sort(values.begin(), values.end());
  interval.lower = quantile_of_sorted(values, (1 - level) / 2);
  interval.upper = quantile_of_sorted(values, (1 + level) / 2);
  return interval;
}

}  // namespace dermsim
