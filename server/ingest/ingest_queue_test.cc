// The writer's hand-over on its own: when a batch is due under group commit and under a flush interval.
// Single-threaded where the answer does not depend on time; no sleeps.
#include "server/ingest/ingest_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace wattguard::ingest {
namespace {

ReadingItem reading(uint64_t seq) {
  protocol::Reading r;
  r.meter_id = "m1";
  r.seq = seq;
  r.time_ms = 1'750'000'000'000 + static_cast<int64_t>(seq) * 5000;
  return ReadingItem{r, r.time_ms, 0};
}

TEST(IngestQueue, GroupCommitHandsTheWriterWhateverHasArrivedAtOnce) {
  IngestQueue q(/*flush_interval_ms=*/0, /*flush_max_readings=*/2000, /*max_pending_readings=*/1000);
  q.push_reading(reading(1));
  WriterTake take;
  ASSERT_TRUE(q.take(take));  // would block forever if the single reading were not due
  ASSERT_EQ(take.batch.size(), 1u);
  EXPECT_EQ(q.done(), 0u);
  // While the writer is busy, readings gather into the next batch, taken whole.
  for (uint64_t s = 2; s <= 6; ++s) q.push_reading(reading(s));
  ASSERT_TRUE(q.take(take));
  EXPECT_EQ(take.batch.size(), 5u);
  EXPECT_EQ(take.batch.front().reading.seq, 2u);
  q.done();
}

TEST(IngestQueue, WithAFlushIntervalAReadingWaitsUntilTheBatchIsFull) {
  IngestQueue q(/*flush_interval_ms=*/60'000, /*flush_max_readings=*/3, /*max_pending_readings=*/1000);
  q.push_reading(reading(1));
  q.push_work(TickItem{});
  WriterTake take;
  ASSERT_TRUE(q.take(take));  // the tick is handed over; the lone reading is not due yet
  EXPECT_EQ(take.work.size(), 1u);
  EXPECT_TRUE(take.batch.empty());
  EXPECT_EQ(q.done(), 1u);
  q.push_reading(reading(2));
  q.push_reading(reading(3));
  ASSERT_TRUE(q.take(take));
  EXPECT_EQ(take.batch.size(), 3u);
  q.done();
  q.stop();
  EXPECT_FALSE(q.take(take));
}

}  // namespace
}  // namespace wattguard::ingest
