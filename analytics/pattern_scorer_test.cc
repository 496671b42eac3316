// Tests of the pattern scorer: each h1..h6 attack on a real-looking household scores above honest households,
// including ones on holiday or with a new appliance.
#include "analytics/pattern_scorer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "analytics/synthetic_household.h"

namespace wattguard::analytics {
namespace {

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
