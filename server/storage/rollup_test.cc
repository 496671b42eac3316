// Tests of the bucket arithmetic used by rollups and aggregated queries.
#include "server/storage/rollup.h"

#include <gtest/gtest.h>

namespace wattguard::storage {
namespace {

protocol::Reading reading(int64_t t, double p, double imp) {
  protocol::Reading r;
  r.meter_id = "m";
  r.time_ms = t;
  r.p_w = p;
  r.vrms = 230 + p / 1000;
  r.irms = p / 230;
  r.s_va = p * 1.1;
  r.pf = 0.9;
  r.freq_hz = 50;
  r.e_import_wh = imp;
  return r;
}

TEST(BucketStart, FloorsTowardsMinusInfinity) {
  EXPECT_EQ(bucket_start(0, 60'000), 0);
  EXPECT_EQ(bucket_start(59'999, 60'000), 0);
  EXPECT_EQ(bucket_start(60'000, 60'000), 60'000);
  EXPECT_EQ(bucket_start(-1, 60'000), -60'000);
  EXPECT_EQ(bucket_start(1'750'000'123'456, 900'000), 1'749'999'600'000);
}

TEST(RollupAccumulator, AddingInAnyOrderGivesTheSameBucket) {
  RollupAccumulator in_order, shuffled;
  const protocol::Reading a = reading(1000, 100, 10), b = reading(2000, 300, 11), c = reading(3000, 200, 12.5);
  for (const auto& r : {a, b, c}) in_order.add(r);
  for (const auto& r : {c, a, b}) shuffled.add(r);
  const AggregatePoint p1 = in_order.to_point(0, false, 0, 0);
  const AggregatePoint p2 = shuffled.to_point(0, false, 0, 0);
  EXPECT_EQ(p1, p2);
  EXPECT_EQ(p1.count, 3u);
  EXPECT_DOUBLE_EQ(p1.p_avg_w, 200);
  EXPECT_DOUBLE_EQ(p1.p_min_w, 100);
  EXPECT_DOUBLE_EQ(p1.p_max_w, 300);
  EXPECT_DOUBLE_EQ(p1.energy_import_wh, 2.5);  // no earlier register: last - first
  EXPECT_DOUBLE_EQ(p1.e_import_wh, 12.5);
}

TEST(RollupAccumulator, MergeEqualsAddingAll) {
  RollupAccumulator all, left, right;
  for (int i = 0; i < 10; ++i) {
    const auto r = reading(i * 5000, 50.0 * i, 100 + i);
    all.add(r);
    (i % 2 ? left : right).add(r);
  }
  right.merge(left);
  const AggregatePoint a = all.to_point(0, true, 99, 0);
  const AggregatePoint b = right.to_point(0, true, 99, 0);
  EXPECT_EQ(a.count, b.count);
  EXPECT_NEAR(a.p_avg_w, b.p_avg_w, 1e-9);  // sums in another order: equal up to rounding
  EXPECT_NEAR(a.vrms_avg, b.vrms_avg, 1e-9);
  EXPECT_NEAR(a.pf_avg, b.pf_avg, 1e-12);
  EXPECT_EQ(a.p_min_w, b.p_min_w);
  EXPECT_EQ(a.p_max_w, b.p_max_w);
  EXPECT_EQ(a.e_import_wh, b.e_import_wh);
  EXPECT_DOUBLE_EQ(a.energy_import_wh, 10.0);  // 109 - 99
  EXPECT_DOUBLE_EQ(b.energy_import_wh, 10.0);
}

TEST(RollupAccumulator, RegisterBelowThePreviousCountsNoEnergy) {
  RollupAccumulator acc;
  acc.add(reading(1000, 100, 5));
  EXPECT_DOUBLE_EQ(acc.to_point(0, true, 50, 0).energy_import_wh, 0.0);
}

}  // namespace
}  // namespace wattguard::storage
