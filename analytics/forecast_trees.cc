// Evaluating the boosted trees of the p50.
#include "wattguard/analytics/forecast_trees.h"

#include <algorithm>
#include <cmath>

namespace wattguard::analytics {

double tree_correction(std::span<const ForecastTree> trees, const TreeInputs& inputs) {
  double sum = 0;
  for (const ForecastTree& tree : trees) {
    size_t leaf = 0;
    for (size_t l = 0; l < tree.input.size(); ++l) {
      // Compared in float, as the inputs were when the trees were fitted, so a value at a threshold goes the
      // same way; NaN compares false and goes left.
      const auto x = static_cast<float>(inputs[tree.input[l]]);
      leaf = leaf * 2 + (x > tree.threshold[l] ? 1 : 0);
    }
    sum += tree.leaf[leaf];
  }
  return sum;
}

double boosted_point(std::span<const ForecastTree> trees, const TreeInputs& inputs, double linear_p50, double scale) {
  if (std::isnan(linear_p50) || !(scale > 0)) return linear_p50;
  return std::max(0.0, linear_p50 + scale * tree_correction(trees, inputs));
}

}  // namespace wattguard::analytics
