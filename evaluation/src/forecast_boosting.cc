// LAD gradient boosting of oblivious trees for the p50 (forecast_boosting.h).
#include "wattguard/evaluation/forecast_boosting.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "wattguard/analytics/forecast_features.h"
#include "wattguard/evaluation/tuning_origins.h"

namespace wattguard::evaluation {
namespace {

namespace wa = wattguard::analytics;
using wa::kSlotsPerDay;
using wa::kTreeInputCount;

constexpr size_t kInputs = kTreeInputCount;
// Each input is cut at most at these many quantiles of the training rows (a histogram of 64 bins).
constexpr int kBins = 64;
constexpr int kDepth = wa::kForecastTreeDepth;
constexpr int kLeaves = wa::kForecastTreeLeaves;

// The training half-hours: inputs as floats (as the trees compare them), the target and the current
// prediction in units of the meter's scale, and the scale as the weight.
struct Rows {
  std::vector<float> inputs;  // row-major, kInputs per row
  std::vector<double> target, prediction, weight;
  size_t size() const { return target.size(); }
};

void collect_rows(const std::vector<ForecastDataSet>& sets, const wa::ForecastParams& params, int day_stride,
                  Rows& rows) {
  for_each_tuning_origin(sets, day_stride, [&](const TuningOrigin& o) {
    const wa::OriginSummary& summary = o.summary;
    if (!(summary.month_mean > 0)) return;
    for (int64_t s = 0; s < kSlotsPerDay; ++s) {
      const wa::ForecastFeatures f = wa::forecast_features(o.history, o.origin, o.origin + s, summary, o.scratch);
      const double linear = wa::linear_point(f, params);
      if (std::isnan(linear)) continue;
      const wa::TreeInputs in =
          wa::forecast_tree_inputs(o.history, o.origin, o.origin + s, summary, f, linear, o.scratch);
      for (double x : in) rows.inputs.push_back(static_cast<float>(x));
      rows.target.push_back(o.day.kwh[static_cast<size_t>(s)] / summary.month_mean);
      rows.prediction.push_back(linear / summary.month_mean);
      rows.weight.push_back(summary.month_mean);
    }
  });
}

// Per input, the candidate thresholds (quantiles of its known values) and every row's bin: the number of
// thresholds below its value, 0 for NaN (which goes left at every split, as in tree_correction).
struct Binned {
  std::vector<std::vector<float>> thresholds;
  std::vector<uint8_t> bins;  // row-major
};

Binned bin_rows(const Rows& rows) {
  Binned b;
  b.thresholds.resize(kInputs);
  const size_t n = rows.size();
  std::vector<float> v;
  for (size_t k = 0; k < kInputs; ++k) {
    v.clear();
    for (size_t i = 0; i < n; ++i) {
      const float x = rows.inputs[i * kInputs + k];
      if (!std::isnan(x)) v.push_back(x);
    }
    std::sort(v.begin(), v.end());
    auto& t = b.thresholds[k];
    for (int j = 1; j < kBins && !v.empty(); ++j) {
      const float q = v[static_cast<size_t>(static_cast<double>(j) * static_cast<double>(v.size() - 1) / kBins)];
      if (t.empty() || q > t.back()) t.push_back(q);
    }
  }
  b.bins.resize(n * kInputs);
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < kInputs; ++k) {
      const float x = rows.inputs[i * kInputs + k];
      const auto& t = b.thresholds[k];
      // x > t[j] exactly for j < bin.
      b.bins[i * kInputs + k] =
          std::isnan(x) ? 0 : static_cast<uint8_t>(std::lower_bound(t.begin(), t.end(), x) - t.begin());
    }
  }
  return b;
}

// A float as a C++ literal that reads back to the same float ("0.0F", "1.5e-05F").
std::string float_literal(float x) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(x));
  std::string s = buf;
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s + "F";
}

double weighted_median(std::vector<std::pair<double, double>>& v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double total = 0;
  for (const auto& p : v) total += p.second;
  double acc = 0;
  for (const auto& p : v) {
    acc += p.second;
    if (acc >= 0.5 * total) return p.first;
  }
  return v.back().first;
}

double weighted_mae(const Rows& rows) {
  double sum = 0;
  for (size_t i = 0; i < rows.size(); ++i)
    sum += rows.weight[i] * std::abs(rows.target[i] - std::max(0.0, rows.prediction[i]));
  return rows.size() > 0 ? sum / static_cast<double>(rows.size()) : 0;
}

// One oblivious tree on the residuals' signs; updates rows.prediction.
wa::ForecastTree fit_tree(Rows& rows, const Binned& b, const BoostingOptions& options, std::vector<int>& node) {
  const size_t n = rows.size();
  std::vector<double> sign(n);
  for (size_t i = 0; i < n; ++i) {
    const double r = rows.target[i] - rows.prediction[i];
    sign[i] = r > 0 ? 1.0 : (r < 0 ? -1.0 : 0.0);
    node[i] = 0;
  }
  wa::ForecastTree tree;
  std::vector<double> grad, mass;
  for (int level = 0; level < kDepth; ++level) {
    const size_t nodes = size_t{1} << level;
    // Histograms of weighted signs and weights per node, input and bin.
    grad.assign(nodes * kInputs * kBins, 0.0);
    mass.assign(nodes * kInputs * kBins, 0.0);
    for (size_t i = 0; i < n; ++i) {
      const size_t base = static_cast<size_t>(node[i]) * kInputs * kBins;
      const uint8_t* bins = &b.bins[i * kInputs];
      const double w = rows.weight[i], g = w * sign[i];
      for (size_t k = 0; k < kInputs; ++k) {
        grad[base + k * kBins + bins[k]] += g;
        mass[base + k * kBins + bins[k]] += w;
      }
    }
    // The split that most reduces the squared error of the signs, summed over the level's nodes.
    double best = -1;
    size_t best_input = 0, best_bin = 0;
    std::vector<double> gl(nodes), wl(nodes), gt(nodes), wt(nodes);
    for (size_t k = 0; k < kInputs; ++k) {
      const size_t bins = b.thresholds[k].size();
      if (bins == 0) continue;
      for (size_t m = 0; m < nodes; ++m) {
        gl[m] = wl[m] = gt[m] = wt[m] = 0;
        for (int j = 0; j < kBins; ++j) {
          gt[m] += grad[(m * kInputs + k) * kBins + static_cast<size_t>(j)];
          wt[m] += mass[(m * kInputs + k) * kBins + static_cast<size_t>(j)];
        }
      }
      for (size_t j = 0; j < bins; ++j) {
        double gain = 0;
        for (size_t m = 0; m < nodes; ++m) {
          gl[m] += grad[(m * kInputs + k) * kBins + j];
          wl[m] += mass[(m * kInputs + k) * kBins + j];
          const double gr = gt[m] - gl[m], wr = wt[m] - wl[m];
          if (wl[m] > 0) gain += gl[m] * gl[m] / wl[m];
          if (wr > 0) gain += gr * gr / wr;
        }
        if (gain > best) best = gain, best_input = k, best_bin = j;
      }
    }
    tree.input[static_cast<size_t>(level)] = static_cast<uint8_t>(best_input);
    tree.threshold[static_cast<size_t>(level)] = b.thresholds[best_input][best_bin];
    for (size_t i = 0; i < n; ++i) node[i] = node[i] * 2 + (b.bins[i * kInputs + best_input] > best_bin ? 1 : 0);
  }
  // Each leaf: the weighted median of its residuals (the LAD step), shrunk by the learning rate.
  std::vector<std::vector<std::pair<double, double>>> leaves(kLeaves);
  for (size_t i = 0; i < n; ++i) {
    leaves[static_cast<size_t>(node[i])].emplace_back(rows.target[i] - rows.prediction[i], rows.weight[i]);
  }
  for (size_t m = 0; m < kLeaves; ++m) {
    double w = 0;
    for (const auto& p : leaves[m]) w += p.second;
    tree.leaf[m] =
        w >= options.min_leaf_weight ? static_cast<float>(options.learning_rate * weighted_median(leaves[m])) : 0.0F;
  }
  for (size_t i = 0; i < n; ++i) rows.prediction[i] += tree.leaf[static_cast<size_t>(node[i])];
  return tree;
}

}  // namespace

BoostingOptions default_boosting_options() {
  return {.trees = 100, .learning_rate = 0.1, .min_leaf_weight = 50, .day_stride = 2};
}

std::vector<wa::ForecastTree> fit_forecast_trees(const std::vector<ForecastDataSet>& sets,
                                                 const wa::ForecastParams& params, const BoostingOptions& options,
                                                 std::string& report) {
  Rows rows;
  collect_rows(sets, params, std::max(1, options.day_stride), rows);
  const Binned b = bin_rows(rows);
  std::vector<wa::ForecastTree> trees;
  std::vector<int> node(rows.size());
  const double before = weighted_mae(rows);
  for (int t = 0; t < options.trees; ++t) trees.push_back(fit_tree(rows, b, options, node));
  char line[256];
  std::snprintf(line, sizeof line,
                "trees: %d of depth %d on %zu tuning half-hours (every %d. day), MAE %.5f with the linear blend, "
                "%.5f boosted\n",
                options.trees, kDepth, rows.size(), options.day_stride, before, weighted_mae(rows));
  report += line;
  return trees;
}

std::string forecast_trees_source(const std::vector<wa::ForecastTree>& trees, const std::string& provenance) {
  std::string out =
      "// GENERATED by `wattguard bench forecast --tune --write-trees FILE` (evaluation/forecast_boosting.cc): the\n"
      "// boosted trees of the p50, fitted on the tuning split only. Do not edit by hand.\n// " +
      provenance +
      "\n#include \"wattguard/analytics/forecast_trees.h\"\n\nnamespace wattguard::analytics {\nnamespace {\n\n"
      "// {inputs by level}, {thresholds}, {leaves}: see ForecastTree.\nconstexpr std::array<ForecastTree, " +
      std::to_string(trees.size()) + "> kTrees = {{\n";
  for (const auto& t : trees) {
    out += "    {{";
    for (size_t l = 0; l < t.input.size(); ++l) out += (l ? ", " : "") + std::to_string(t.input[l]);
    out += "}, {";
    for (size_t l = 0; l < t.threshold.size(); ++l) out += (l ? ", " : "") + float_literal(t.threshold[l]);
    out += "}, {";
    for (size_t m = 0; m < t.leaf.size(); ++m) out += (m ? ", " : "") + float_literal(t.leaf[m]);
    out += "}},\n";
  }
  out +=
      "}};\n\n}  // namespace\n\nstd::span<const ForecastTree> default_forecast_trees() { return kTrees; }\n\n"
      "}  // namespace wattguard::analytics\n";
  return out;
}

}  // namespace wattguard::evaluation
