// Helpers of the SqliteStore tests: a temporary database and raw SQL behind the store's back (the meters and
// readings to append are in store_test_support.h). Test-only.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <string>

#include "server/storage/store_test_support.h"
#include "wattguard/storage/sqlite_store.h"
#include "wattguard/test_support/temp_dir.h"

namespace wattguard::storage::store_test {

namespace fs = std::filesystem;

class TempDb {
 public:
  std::string path() const { return dir_.file("wattguard.db"); }
  std::unique_ptr<SqliteStore> open() const {
    auto s = SqliteStore::open(SqliteOptions{.path = path(), .reader_connections = 2});
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return s.ok() ? std::move(s.value()) : nullptr;
  }

 private:
  test_support::TempDir dir_{"store"};
};

// Runs one SQL statement on the file behind the store's back (simulating damage).
inline void raw_sql(const std::string& path, const char* sql) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
  sqlite3_close(raw);
}

}  // namespace wattguard::storage::store_test
