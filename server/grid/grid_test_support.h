// Helpers shared by this folder's tests: a real SQLite readings store (in a test_support::TempDir).
#pragma once

#include <memory>
#include <string>

#include "wattguard/storage/sqlite_store.h"
#include "wattguard/test_support/temp_dir.h"

namespace wattguard::grid {

inline std::unique_ptr<storage::SqliteStore> open_test_store(const std::string& path) {
  storage::SqliteOptions so;
  so.path = path;
  auto opened = storage::SqliteStore::open(so);
  if (!opened.ok()) return nullptr;
  return std::move(opened.value());
}

}  // namespace wattguard::grid
