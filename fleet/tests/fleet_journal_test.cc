// The fleet journal: what survives a restart, a torn tail, compaction, and a second process.
#include "wattguard/fleet/fleet_journal.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "wattguard/test_support/temp_dir.h"

namespace wattguard::fleet {
namespace {

using test_support::TempDir;

QueuedReading reading(uint64_t seq) {
  QueuedReading q;
  q.seq = seq;
  q.time_ms = 1'700'000'000'000 + static_cast<int64_t>(seq) * 5000;
  q.vrms = 230.5f;
  q.p_w = 100.0f + static_cast<float>(seq);
  q.import_uwh = seq * 1000;
  q.export_uwh = 7;
  q.flags = 8;
  return q;
}

std::unique_ptr<FleetJournal> open_journal(const std::filesystem::path& dir, const std::vector<std::string>& ids,
                                           uint64_t compact_bytes = 64ull << 20) {
  JournalOptions o;
  o.dir = dir;
  o.fsync = false;
  o.commit_interval_ms = 5;
  o.compact_bytes = compact_bytes;
  o.max_unacked_per_meter = 100;
  auto j = FleetJournal::open(o, ids);
  EXPECT_TRUE(j.ok()) << (j.ok() ? "" : j.error().to_string());
  return j.ok() ? std::move(j).value() : nullptr;
}

void wait_durable(const FleetJournal& j, uint64_t lsn) {
  for (int k = 0; k < 2000 && j.durable_lsn() < lsn; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

TEST(FleetJournal, FreshDirectoryKnowsNoMeter) {
  TempDir dir;
  auto j = open_journal(dir.path(), {"a", "b"});
  ASSERT_TRUE(j);
  EXPECT_FALSE(j->loaded(0).known);
  EXPECT_FALSE(j->loaded(1).known);
}

TEST(FleetJournal, RestartRestoresSequenceRegistersSettingsAndUnackedReadingsInOrder) {
  TempDir dir;
  {
    auto j = open_journal(dir.path(), {"a", "b"});
    uint64_t lsn = 0;
    for (uint64_t s = 1; s <= 10; ++s) lsn = j->append_reading(0, reading(s));
    for (uint64_t s = 1; s <= 6; ++s) j->append_ack(0, s);
    lsn = j->append_reading(1, reading(40));
    j->append_settings(1, false, 10000);
    wait_durable(*j, lsn);
    EXPECT_GE(j->durable_lsn(), lsn);
    j->close();
  }
  auto j = open_journal(dir.path(), {"b", "a", "c"});  // order changes; "c" is new
  const PersistedMeter& a = j->loaded(1);
  ASSERT_TRUE(a.known);
  EXPECT_EQ(a.state.next_seq, 11u);
  EXPECT_EQ(a.state.import_uwh, 10'000u);
  EXPECT_EQ(a.state.export_uwh, 7u);
  EXPECT_EQ(a.state.last_time_ms, reading(10).time_ms);
  ASSERT_EQ(a.unacked.size(), 4u);
  EXPECT_EQ(a.unacked.front(), reading(7));
  EXPECT_EQ(a.unacked.back(), reading(10));
  const PersistedMeter& b = j->loaded(0);
  ASSERT_TRUE(b.known);
  EXPECT_EQ(b.state.next_seq, 41u);
  EXPECT_FALSE(b.state.relay_closed);
  EXPECT_EQ(b.state.period_ms, 10000u);
  EXPECT_FALSE(j->loaded(2).known);
}

TEST(FleetJournal, MetersNotInTheFleetAreForgotten) {
  TempDir dir;
  {
    auto j = open_journal(dir.path(), {"a", "b"});
    wait_durable(*j, j->append_reading(1, reading(1)));
  }
  auto j = open_journal(dir.path(), {"a"});
  EXPECT_EQ(j->forgotten_meters(), 1u);
}

TEST(FleetJournal, TornTailFromACrashIsDiscardedAndEverythingBeforeKept) {
  TempDir dir;
  {
    auto j = open_journal(dir.path(), {"a"});
    for (uint64_t s = 1; s <= 3; ++s) j->append_reading(0, reading(s));
    wait_durable(*j, 3);
    j->close();
  }
  // Another record, cut short as if the process died mid-write.
  {
    auto j = open_journal(dir.path(), {"a"});
    wait_durable(*j, j->append_reading(0, reading(4)));
    // leave it open: no compaction at close
    std::ofstream out(dir.path() / FleetJournal::kFileName, std::ios::app | std::ios::binary);
    const char partial[] = {70, 0, 0, 0, 2, 0};
    out.write(partial, sizeof(partial));
  }
  // (The destructor compacted; make a torn tail again on the compacted file.)
  {
    std::ofstream out(dir.path() / FleetJournal::kFileName, std::ios::app | std::ios::binary);
    const char partial[] = {70, 0, 0, 0, 2, 0, 0};
    out.write(partial, sizeof(partial));
  }
  auto j = open_journal(dir.path(), {"a"});
  EXPECT_EQ(j->discarded_tail_bytes(), 7u);
  EXPECT_EQ(j->loaded(0).state.next_seq, 5u);
  EXPECT_EQ(j->loaded(0).unacked.size(), 4u);
}

TEST(FleetJournal, CorruptRecordStopsReplayThere) {
  TempDir dir;
  {
    auto j = open_journal(dir.path(), {"a"});
    j->append_reading(0, reading(1));
    wait_durable(*j, 1);
  }
  const auto path = dir.path() / FleetJournal::kFileName;
  const auto size = std::filesystem::file_size(path);
  {
    // Flip a byte inside the last record's payload: its CRC no longer matches.
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size - 10));
    f.put('\x55');
  }
  auto j = open_journal(dir.path(), {"a"});
  EXPECT_TRUE(j->loaded(0).known);
  EXPECT_TRUE(j->loaded(0).unacked.empty());
  EXPECT_GT(j->discarded_tail_bytes(), 0u);
}

TEST(FleetJournal, CompactionKeepsStateAndShrinksTheFile) {
  TempDir dir;
  {
    auto j = open_journal(dir.path(), {"a"}, 4096);
    uint64_t lsn = 0;
    for (uint64_t s = 1; s <= 500; ++s) {
      lsn = j->append_reading(0, reading(s));
      j->append_ack(0, s);
      if (s % 50 == 0) wait_durable(*j, lsn);
    }
    j->append_reading(0, reading(501));
    wait_durable(*j, lsn + 2);
    EXPECT_GT(j->stats().compactions, 1u);
  }
  EXPECT_LT(std::filesystem::file_size(dir.path() / FleetJournal::kFileName), 1000u);
  auto j = open_journal(dir.path(), {"a"});
  EXPECT_EQ(j->loaded(0).state.next_seq, 502u);
  ASSERT_EQ(j->loaded(0).unacked.size(), 1u);
  EXPECT_EQ(j->loaded(0).unacked.front().seq, 501u);
}

TEST(FleetJournal, BoundedQueueDropsTheOldestAndCountsThem) {
  TempDir dir;
  {
    auto j = open_journal(dir.path(), {"a"});
    for (uint64_t s = 1; s <= 150; ++s) j->append_reading(0, reading(s));
    wait_durable(*j, 150);
  }
  auto j = open_journal(dir.path(), {"a"});
  ASSERT_EQ(j->loaded(0).unacked.size(), 100u);
  EXPECT_EQ(j->loaded(0).unacked.front().seq, 51u);
}

TEST(FleetJournal, SecondProcessOnTheSameDirectoryIsRefused) {
  TempDir dir;
  auto first = open_journal(dir.path(), {"a"});
  JournalOptions o;
  o.dir = dir.path();
  auto second = FleetJournal::open(o, {"a"});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("in use"), std::string::npos);
}

TEST(FleetJournal, AFileThatIsNotAJournalIsRefused) {
  TempDir dir;
  std::filesystem::create_directories(dir.path());
  std::ofstream(dir.path() / FleetJournal::kFileName) << "hello, world";
  JournalOptions o;
  o.dir = dir.path();
  auto j = FleetJournal::open(o, {"a"});
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.error().message.find("not a wattguard fleet journal"), std::string::npos);
}

}  // namespace
}  // namespace wattguard::fleet
