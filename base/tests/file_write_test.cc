// write_file_atomically: the whole text, the mode from the start, no temporary file left, a clear error.
#include "wattguard/base/file_write.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace wattguard {
namespace {
namespace fs = std::filesystem;

class FileWrite : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wattguard-file-write-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static mode_t mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_mode & 0777;
  }

  fs::path dir_;
};

TEST_F(FileWrite, ReplacesTheFileWithTheModeAskedAndLeavesNothingElseBehind) {
  const fs::path p = dir_ / "keys" / "server.key";
  ASSERT_TRUE(write_file_atomically(p, "first").ok());
  EXPECT_EQ(read(p), "first");
  EXPECT_EQ(mode_of(p), 0600u);
  EXPECT_EQ(mode_of(p.parent_path()), 0700u);  // a directory it made is private too
  ASSERT_TRUE(write_file_atomically(p, std::string(100'000, 'x'), 0644).ok());
  EXPECT_EQ(read(p).size(), 100'000u);
  EXPECT_EQ(mode_of(p), 0644u);
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(p.parent_path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(FileWrite, AnUnwritablePlaceIsAnIoErrorNamingThePathAndTheOldFileStays) {
  const fs::path p = dir_ / "kept.txt";
  ASSERT_TRUE(write_file_atomically(p, "old").ok());
  // A directory where the file should be: the rename fails, and nothing of the attempt is left.
  const fs::path blocked = dir_ / "blocked";
  fs::create_directories(blocked / "inside");
  auto r = write_file_atomically(blocked, "new");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kIoError);
  EXPECT_NE(r.error().message.find(blocked.string()), std::string::npos) << r.error().message;
  EXPECT_EQ(read(p), "old");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 2);  // kept.txt and blocked
}

}  // namespace
}  // namespace wattguard
