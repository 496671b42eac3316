// The ingest journal on a real directory: what an earlier run left is replayed, handled records are let go,
// and a torn tail ends a segment's replay without losing what precedes it.
#include "server/ingest/ingest_journal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "wattguard/test_support/temp_dir.h"

namespace wattguard::ingest {
namespace {

using test_support::TempDir;

std::vector<JournalRecord> replay_all(IngestJournal& j, std::vector<uint64_t>* segments = nullptr) {
  std::vector<JournalRecord> out;
  j.replay([&](uint64_t segment, const JournalRecord& r) {
    out.push_back(r);
    if (segments) segments->push_back(segment);
  });
  return out;
}

std::size_t files_in(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST(IngestJournal, RecordsNotHandledWhenTheProcessEndsAreReplayedByTheNextOneWithTheirBytesIntact) {
  TempDir dir("journal");
  const std::string payload("{\"seq\":1,\n\"x\":\"\0binary\xff\"}", 25);
  {
    auto j = IngestJournal::open(dir.path());
    ASSERT_TRUE(j.ok()) << j.error().message;
    EXPECT_TRUE(replay_all(*j.value()).empty());
    const uint64_t a = j.value()->append(1000, "wattguard/v1/m1/reading", payload);
    const uint64_t b = j.value()->append(2000, "wattguard/v1/m2/reading", "two");
    ASSERT_NE(a, 0u);
    ASSERT_NE(b, 0u);
    j.value()->handled(b);
    EXPECT_EQ(j.value()->stats().outstanding, 1u);
  }  // no handled(a): as if killed before the commit
  auto j = IngestJournal::open(dir.path());
  ASSERT_TRUE(j.ok());
  std::vector<uint64_t> segments;
  const auto records = replay_all(*j.value(), &segments);
  // The whole segment comes back (a stored record again is a duplicate the store ignores), in order.
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].received_ms, 1000);
  EXPECT_EQ(records[0].topic, "wattguard/v1/m1/reading");
  EXPECT_EQ(records[0].payload, payload);
  EXPECT_EQ(records[1].payload, "two");
  EXPECT_EQ(j.value()->stats().replayed, 2u);
  for (uint64_t s : segments) j.value()->handled(s);
  EXPECT_EQ(j.value()->stats().outstanding, 0u);
  EXPECT_EQ(files_in(dir.path()), 0u);  // replayed and handled: gone
}

TEST(IngestJournal, ASegmentIsDeletedOnceClosedAndEveryRecordInItHandledAndNotBefore) {
  TempDir dir("journal");
  auto opened = IngestJournal::open(dir.path(), 100);  // tiny segments: every record closes the one before
  ASSERT_TRUE(opened.ok());
  IngestJournal& j = *opened.value();
  const std::string payload(150, 'x');
  const uint64_t a = j.append(1, "t", payload);
  const uint64_t b = j.append(2, "t", payload);
  const uint64_t c = j.append(3, "t", payload);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(files_in(dir.path()), 3u);
  j.handled(b);
  EXPECT_EQ(files_in(dir.path()), 2u);  // b: closed and handled
  j.handled(c);
  EXPECT_EQ(files_in(dir.path()), 2u);  // c is still the open segment and is small: kept for now
  j.handled(a);
  EXPECT_EQ(files_in(dir.path()), 1u);
  j.handled(a);  // more than it held: ignored
  EXPECT_EQ(j.stats().outstanding, 0u);
}

TEST(IngestJournal, ATornLastRecordEndsTheReplayOfItsSegmentAndTheRecordsBeforeItAreKept) {
  TempDir dir("journal");
  {
    auto j = IngestJournal::open(dir.path());
    ASSERT_TRUE(j.ok());
    j.value()->append(1, "wattguard/v1/m1/reading", "first");
    j.value()->append(2, "wattguard/v1/m1/reading", "second");
  }
  std::filesystem::path file;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) file = e.path();
  ASSERT_FALSE(file.empty());
  std::filesystem::resize_file(file, std::filesystem::file_size(file) - 3);  // killed mid-write
  auto j = IngestJournal::open(dir.path());
  ASSERT_TRUE(j.ok());
  const auto records = replay_all(*j.value());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].payload, "first");
  // New records go to a new segment, never after the torn one.
  const uint64_t next = j.value()->append(3, "t", "third");
  EXPECT_NE(next, 0u);
  EXPECT_EQ(files_in(dir.path()), 2u);
}

TEST(IngestJournal, AnUnwritableDirectoryIsAClearErrorAtOpen) {
  TempDir dir("journal");
  const auto file = dir.path() / "not-a-dir";
  { std::ofstream(file) << "x"; }
  auto j = IngestJournal::open(file / "journal");
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.error().message.find("not-a-dir"), std::string::npos) << j.error().message;
}

}  // namespace
}  // namespace wattguard::ingest
