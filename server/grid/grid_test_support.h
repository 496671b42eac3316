// Helpers shared by this folder's tests: a temporary directory and a real SQLite readings store in it.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "wattguard/storage/sqlite_store.h"

namespace wattguard::grid {

class GridTestDir {
 public:
  GridTestDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("wattguard_grid_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~GridTestDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  GridTestDir(const GridTestDir&) = delete;
  GridTestDir& operator=(const GridTestDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::unique_ptr<storage::SqliteStore> open_test_store(const std::string& path) {
  storage::SqliteOptions so;
  so.path = path;
  auto opened = storage::SqliteStore::open(so);
  if (!opened.ok()) return nullptr;
  return std::move(opened.value());
}

}  // namespace wattguard::grid
