// Tests of the pattern scorer: each h1..h6 attack on a real-looking household scores above honest households,
// including ones on holiday or with a new appliance.
#include "wattguard/analytics/pattern_scorer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "wattguard/evaluation/synthetic_household.h"

namespace wattguard::analytics {
namespace {

using evaluation::SyntheticHousehold;

constexpr int kSlots = 96;

// Consumers 0..5 carry attacks h1..h6 from day 21; 6 goes on holiday from day 24; 7 gets an EV charger from
// day 21; the rest stay as they are. Returns the final scores.
std::vector<double> run(uint64_t seed) {
  const size_t n = 16;
  PatternScorer scorer(n);
  std::vector<SyntheticHousehold> homes;
  for (size_t i = 0; i < n; ++i) homes.emplace_back(seed * 100 + i);
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<double> u(0.1, 0.8);
  std::vector<float> energy(n * kSlots);
  std::vector<uint8_t> present(n * kSlots, 1);
  for (int d = 0; d < 28; ++d) {
    const double temp = 18.0 - 0.1 * d;
    for (size_t i = 0; i < n; ++i) {
      float* x = &energy[i * kSlots];
      homes[i].day(d % 7, temp, 100 + d, x, i == 6 && d >= 24);
      if (i == 7 && d >= 21 && d % 3 != 0) {
        for (int s = 88; s < 96; ++s) x[s] += 1.75f;  // EV charging 22:00-24:00
      }
      if (d < 21 || i > 5) continue;
      double mean = 0;
      for (int s = 0; s < kSlots; ++s) mean += x[s] / kSlots;
      std::vector<float> orig(x, x + kSlots);
      switch (i) {
        case 0: {  // h1
          const double a = u(rng);
          for (int s = 0; s < kSlots; ++s) x[s] = static_cast<float>(a * orig[s]);
          break;
        }
        case 1: {  // h2: off for 6 hours
          const int start = static_cast<int>(rng() % 60);
          for (int s = start; s < start + 24; ++s) x[s] = 0;
          break;
        }
        case 2:  // h3
          for (int s = 0; s < kSlots; ++s) x[s] = static_cast<float>(u(rng) * orig[s]);
          break;
        case 3:  // h4
          for (int s = 0; s < kSlots; ++s) x[s] = static_cast<float>(u(rng) * mean);
          break;
        case 4:  // h5
          for (int s = 0; s < kSlots; ++s) x[s] = static_cast<float>(mean);
          break;
        default:  // h6
          for (int s = 0; s < kSlots; ++s) x[s] = orig[static_cast<size_t>(kSlots - 1 - s)];
          break;
      }
    }
    scorer.push_day(energy, present);
  }
  std::vector<double> scores;
  for (size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(scorer.consumer(i).ready);
    scores.push_back(scorer.consumer(i).score);
  }
  return scores;
}

TEST(PatternScorer, EveryJokarAttackScoresAboveEveryHonestHousehold) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    const auto scores = run(seed);
    const double honest_max = *std::max_element(scores.begin() + 6, scores.end());
    for (int attack = 0; attack < 6; ++attack) {
      EXPECT_GT(scores[static_cast<size_t>(attack)], honest_max)
          << "h" << attack + 1 << " seed " << seed << " honest max " << honest_max;
    }
  }
}

TEST(PatternScorer, EvidenceNamesTheAttackShape) {
  PatternScorer scorer(6);
  std::vector<SyntheticHousehold> homes;
  for (int i = 0; i < 6; ++i) homes.emplace_back(500 + i);
  std::vector<float> energy(6 * kSlots);
  std::vector<uint8_t> present(6 * kSlots, 1);
  for (int d = 0; d < 24; ++d) {
    for (int i = 0; i < 6; ++i) homes[i].day(d % 7, 15.0, 200 + d, &energy[i * kSlots]);
    if (d >= 17) std::fill(energy.begin(), energy.begin() + kSlots, 0.0f);  // consumer 0 reports zero
    scorer.push_day(energy, present);
  }
  const auto evidence = scorer.evidence(0);
  ASSERT_FALSE(evidence.empty());
  bool zero = false, drop = false;
  for (const auto& e : evidence) {
    zero |= e.find("zero readings") != std::string::npos;
    drop |= e.find("below its usual level") != std::string::npos;
  }
  EXPECT_TRUE(zero && drop) << evidence.front();
  EXPECT_GT(scorer.consumer(0).score, 5.0);
  EXPECT_LT(scorer.consumer(1).score, 4.0);
}

// Consumer 0 replaces an old freezer on day 21 (its night base falls from 200 W to 80 W, the rest of its day is
// unchanged); consumer 1 scales its reports by 0.5 (h1) from the same day. Returns the base-drop z of both.
std::array<double, 2> base_drop_z(double margin) {
  PatternConfig config;
  config.base_drop_margin = margin;
  const size_t n = 8;
  PatternScorer scorer(n, config);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> evening(0.6, 1.4);
  std::vector<float> energy(n * kSlots);
  std::vector<uint8_t> present(n * kSlots, 1);
  for (int d = 0; d < 28; ++d) {
    for (size_t i = 0; i < n; ++i) {
      const double base = (i == 0 && d >= 21) ? 0.02 : 0.05;
      const double peak = evening(rng);
      for (int s = 0; s < kSlots; ++s) {
        double e = base + ((s >= 68 && s < 88) ? 0.8 * peak : 0.0);
        if (i == 1 && d >= 21) e *= 0.5;
        energy[i * kSlots + static_cast<size_t>(s)] = static_cast<float>(e);
      }
    }
    scorer.push_day(energy, present);
  }
  const int f = static_cast<int>(PatternFeature::kBaseDrop);
  return {scorer.consumer(0).recent_z[f], scorer.consumer(1).recent_z[f]};
}

TEST(PatternScorer, ABaseLoadFallTheDayDoesNotShareIsWeakEvidence) {
  const auto uncapped = base_drop_z(-1.0);
  const auto capped = base_drop_z(PatternConfig{}.base_drop_margin);
  // The freezer's fall counts only as far as the day's own fall allows; the scaled reports keep their evidence.
  EXPECT_GT(uncapped[0], 5.0);
  EXPECT_LT(capped[0], 0.7 * uncapped[0]);
  EXPECT_GT(capped[1], 3.0);
  EXPECT_NEAR(capped[1], uncapped[1], 0.05 * uncapped[1]);
}

// Households with a morning and an evening peak and much hour-to-hour noise; from onset_day consumer 0 reports
// each day in reverse (h6) or, with `flatten`, its day's mean in every slot (h5). Returns consumer 0's z of the
// attacked feature, the highest honest score, consumer 0's shape_reversal() (or shape_flattening()) and the
// highest honest one.
std::array<double, 4> noisy_attack(const PatternConfig& config, bool flatten, int onset_day = 28, int days = 36) {
  const size_t n = 10;
  PatternScorer scorer(n, config);
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> morning(24, 36), evening(68, 90), any(0, kSlots - 1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<float> energy(n * kSlots);
  std::vector<uint8_t> present(n * kSlots, 1);
  for (int d = 0; d < days; ++d) {
    for (size_t i = 0; i < n; ++i) {
      float* x = &energy[i * kSlots];
      std::fill(x, x + kSlots, 0.03f);
      // A few appliance runs a day (kettle, oven, washing), more likely at the peaks but never on a timetable.
      for (int k = 0; k < 8; ++k) {
        const double r = u(rng);
        const int s = r < 0.35 ? morning(rng) : r < 0.85 ? evening(rng) : any(rng);
        x[s] += static_cast<float>(0.3 + 0.5 * u(rng));
      }
      if (i != 0 || d < onset_day) continue;
      if (flatten) {
        const float mean = std::accumulate(x, x + kSlots, 0.0f) / kSlots;
        std::fill(x, x + kSlots, mean);
      } else {
        std::reverse(x, x + kSlots);
      }
    }
    scorer.push_day(energy, present);
  }
  auto measure = [&](size_t i) { return flatten ? scorer.shape_flattening(i) : scorer.shape_reversal(i); };
  double honest_max = 0, honest_measure = -1;
  for (size_t i = 1; i < n; ++i) {
    honest_max = std::max(honest_max, scorer.consumer(i).score);
    honest_measure = std::max(honest_measure, measure(i));
  }
  const PatternFeature f = flatten ? PatternFeature::kFlat : PatternFeature::kReversal;
  return {scorer.consumer(0).recent_z[static_cast<int>(f)], honest_max, measure(0), honest_measure};
}

std::array<double, 4> noisy_reversal(double weekly_scale, int onset_day = 28, int days = 36) {
  PatternConfig config;
  config.weekly_reversal_scale = weekly_scale;
  return noisy_attack(config, false, onset_day, days);
}

TEST(PatternScorer, ARecentWeeksReversedShapeShowsThroughDailyNoise) {
  const auto daily = noisy_reversal(0.0);
  const auto weekly = noisy_reversal(PatternConfig{}.weekly_reversal_scale);
  // The recent days' mean profile is clearly reversed, while no honest household's is.
  EXPECT_GT(weekly[2], 0.5);
  EXPECT_LT(weekly[3], 0.0);
  // So the reversal evidence grows once the mean profile counts, and honest households stay unremarkable.
  EXPECT_GT(weekly[0], daily[0]);
  EXPECT_GT(weekly[1], 0.0);
  EXPECT_LT(weekly[1], 1.5);
}

TEST(PatternScorer, AReversalNeverBecomesTheNewNormal) {
  // Seven weeks of reversed reports: days that scored low would have taught the baseline the reversed shape.
  const auto r = noisy_reversal(PatternConfig{}.weekly_reversal_scale, 14, 63);
  EXPECT_GT(r[2], 0.5);
  EXPECT_GT(r[0], 2.5);
}

TEST(PatternScorer, ARecentWeeksFlattenedProfileStandsOutFromNoisyHouseholds) {
  const auto r = noisy_attack(PatternConfig{}, /*flatten=*/true);
  // Eight days of constant reports leave the recent mean profile with a small fraction of its usual variation
  // (what remains is the pre-onset days' fading weight); honest noisy households keep theirs.
  EXPECT_GT(r[2], 1.8);
  EXPECT_LT(r[3], 0.5);
  EXPECT_GT(r[0], 3.0);
  EXPECT_GT(r[0], r[1]);
}

TEST(PatternScorer, NotReadyBeforeItHasAWeekOfHistory) {
  PatternScorer scorer(2);
  std::vector<float> energy(2 * kSlots, 0.1f);
  std::vector<uint8_t> present(2 * kSlots, 1);
  for (int d = 0; d < 6; ++d) scorer.push_day(energy, present);
  EXPECT_FALSE(scorer.consumer(0).ready);
  EXPECT_LT(scorer.expected_slot_kwh(0, 10), 0.0);
  scorer.push_day(energy, present);
  EXPECT_NEAR(scorer.expected_slot_kwh(0, 10), 0.1, 1e-6);
}

}  // namespace
}  // namespace wattguard::analytics
