// ROC AUC by ranks (Mann-Whitney U), O(n log n).
#include "wattguard/evaluation/roc.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace wattguard::evaluation {

double roc_auc(const std::vector<double>& positives, const std::vector<double>& negatives) {
  if (positives.empty() || negatives.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::vector<std::pair<double, int>> all;
  all.reserve(positives.size() + negatives.size());
  for (double v : positives) all.emplace_back(v, 1);
  for (double v : negatives) all.emplace_back(v, 0);
  std::sort(all.begin(), all.end());
  double rank_sum = 0;
  size_t i = 0;
  while (i < all.size()) {
    size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    const double mid_rank = 0.5 * static_cast<double>(i + 1 + j);  // average of ranks i+1 .. j
    for (size_t k = i; k < j; ++k) {
      if (all[k].second) rank_sum += mid_rank;
    }
    i = j;
  }
  const double np = static_cast<double>(positives.size()), nn = static_cast<double>(negatives.size());
  return (rank_sum - np * (np + 1) / 2) / (np * nn);
}

}  // namespace wattguard::evaluation
