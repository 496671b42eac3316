// Tests of the localiser: a planted thief is found (by its shortfall, and by its scaled reports), honest
// consumers are not blamed, and NNLS/ROC helpers behave.
#include "wattguard/analytics/localiser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "analytics/nnls.h"
#include "wattguard/evaluation/roc.h"

namespace wattguard::analytics {
namespace {

using evaluation::roc_auc;

// What happens on the simulated transformer.
struct Scene {
  int thief = -1;  // hides `share` of its use from step `onset` on (all of it with report_nothing)
  double share = 0;
  bool report_nothing = false;
  int onset = 0;
  int second_thief = -1;  // hides `second_share` of its use from the start
  double second_share = 0;
  int fallen = -1;             // honestly uses half its usual amount throughout
  double steady_loss_kwh = 0;  // a steady loss per step from elsewhere (a model error, a theft off the books)
};

// 20 households with their own daily rhythm and noise. Pushes hourly steps: unexplained loss (stolen + noise),
// reported, shortfall vs usual.
void simulate(Localiser* loc, const Scene& scene, int steps, uint32_t seed) {
  const size_t n = loc->size();
  std::mt19937 rng(seed);
  std::normal_distribution<double> n01(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> peak(n), scale(n);
  for (size_t i = 0; i < n; ++i) {
    peak[i] = 17 + 4 * u(rng);
    scale[i] = 0.2 + 0.6 * u(rng);
  }
  std::vector<double> reported(n), shortfall(n);
  for (int s = 0; s < steps; ++s) {
    const int hour = s % 24;
    double stolen = 0;
    for (size_t i = 0; i < n; ++i) {
      const int id = static_cast<int>(i);
      const double usual = scale[i] * (0.3 + std::exp(-std::pow(hour - peak[i], 2) / 6));
      const double use = std::max(0.0, usual * (1 + 0.35 * n01(rng))) * (id == scene.fallen ? 0.5 : 1.0);
      double rep = use;
      if (id == scene.thief && s >= scene.onset) rep = scene.report_nothing ? 0.0 : use * (1 - scene.share);
      if (id == scene.second_thief) rep = use * (1 - scene.second_share);
      stolen += use - rep;
      reported[i] = rep;
      shortfall[i] = usual - rep;
    }
    loc->push(stolen + scene.steady_loss_kwh + 0.02 * n01(rng), reported, shortfall, 1.0, hour, s / 24);
  }
}

TEST(Localiser, FindsAConsumerThatStoppedReporting) {
  Localiser loc(20);
  simulate(&loc, {.thief = 7, .share = 1.0, .report_nothing = true, .onset = 48}, 7 * 24, 1);
  const auto& a = loc.solve(6 * 24);
  size_t best = 0;
  for (size_t i = 1; i < a.size(); ++i) {
    if (a[i].share > a[best].share) best = i;
  }
  EXPECT_EQ(best, 7u);
  EXPECT_GT(a[7].share, 0.5);
  EXPECT_NEAR(a[7].shortfall_coef, 1.0, 0.3);
  for (size_t i = 0; i < a.size(); ++i) {
    if (i != 7) {
      EXPECT_LT(a[i].share, 0.15) << i;
    }
  }
}

TEST(Localiser, FindsAConsumerHidingAShareOfItsUse) {
  Localiser loc(20);
  simulate(&loc, {.thief = 3, .share = 0.4}, 7 * 24, 2);
  const auto& a = loc.solve(7 * 24);
  size_t best = 0;
  for (size_t i = 1; i < a.size(); ++i) {
    if (a[i].share > a[best].share) best = i;
  }
  EXPECT_EQ(best, 3u);
  // Hiding 40 % makes the loss follow reports x 0.4/0.6.
  EXPECT_NEAR(a[3].reported_coef, 0.4 / 0.6, 0.2);
}

TEST(Localiser, BlamesNobodyWhenThereIsNoTheft) {
  Localiser loc(20);
  simulate(&loc, {}, 7 * 24, 3);
  const auto& a = loc.solve(7 * 24);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_LT(a[i].share, 0.2) << i;
}

TEST(Localiser, AnHonestFallInUseIsNotCreditedWithASteadyLossElsewhere) {
  // Consumer 5 uses half its usual amount all week (a real fall: its shortfall is about its whole usual use),
  // and the transformer loses a steady amount of about that size that does not move with it. Matching levels is
  // no evidence; only the loss rising and falling with a shortfall is.
  Localiser loc(20);
  simulate(&loc, {.fallen = 5, .steady_loss_kwh = 0.15}, 7 * 24, 4);
  const auto& a = loc.solve(7 * 24);
  EXPECT_GT(a[5].drop, 0.4);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_LT(a[i].share, 0.2) << i;
}

TEST(Localiser, FindsBothOfTwoThievesOnOneTransformer) {
  // Both report a scaled copy of their use, one hiding 80 %, the other 20 %: each one's loss is noise to the
  // other's column alone, so the second is found once the first one's swings are fitted.
  Localiser loc(20);
  simulate(&loc, {.thief = 2, .share = 0.8, .second_thief = 11, .second_share = 0.2}, 7 * 24, 5);
  const auto& a = loc.solve(7 * 24);
  EXPECT_GT(a[2].reported_coef, 2.0);  // 0.8 / 0.2 = 4
  EXPECT_NEAR(a[11].reported_coef, 0.2 / 0.8, 0.1);
  for (size_t i = 0; i < a.size(); ++i) {
    if (i != 2 && i != 11) {
      EXPECT_LT(a[i].share, 0.1) << i;
    }
  }
}

TEST(Nnls, SolvesWithSignsAndBounds) {
  // Minimise |Ax - y|^2 with A = I, y = (2, -1, 5): x = (2, 0, 5), and with an upper bound 3 on x2: (2, 0, 3).
  std::vector<double> gram = {1, 0, 0, 0, 1, 0, 0, 0, 1}, b = {2, -1, 5}, x;
  solve_nnls_gram(gram, b, &x);
  EXPECT_NEAR(x[0], 2, 1e-9);
  EXPECT_NEAR(x[1], 0, 1e-9);
  EXPECT_NEAR(x[2], 5, 1e-9);
  NnlsOptions options;
  options.upper = {10, 10, 3};
  options.free = {false, true, false};
  x.clear();
  solve_nnls_gram(gram, b, &x, options);
  EXPECT_NEAR(x[1], -1, 1e-9);
  EXPECT_NEAR(x[2], 3, 1e-9);
}

TEST(Roc, AucCountsOrderedPairsAndTies) {
  EXPECT_DOUBLE_EQ(roc_auc({3, 4}, {1, 2}), 1.0);
  EXPECT_DOUBLE_EQ(roc_auc({1, 2}, {3, 4}), 0.0);
  EXPECT_DOUBLE_EQ(roc_auc({2}, {2}), 0.5);
  EXPECT_DOUBLE_EQ(roc_auc({1, 3}, {2}), 0.5);
  EXPECT_TRUE(std::isnan(roc_auc({}, {1})));
}

}  // namespace
}  // namespace wattguard::analytics
