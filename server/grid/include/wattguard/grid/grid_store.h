// The grid model on the server: distribution transformers (id, name, area, check meter) and which meter belongs
// to which transformer, in the readings' SQLite file (own connection, WAL) or in the PostgreSQL database the
// readings use. Every change is one transaction.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/storage/sql_connection.h"

namespace wattguard::grid {

struct Transformer {
  std::string id;                      // 1..64 of A-Z a-z 0-9 _ - (like meter ids: it appears in URLs)
  std::string name;                    // display name, may be empty
  std::string area;                    // service area (the meter reader's patch), may be empty
  std::string check_meter;             // the meter on the transformer's secondary
  std::vector<std::string> consumers;  // in the order given
  int64_t created_ms = 0;

  bool operator==(const Transformer&) const = default;
};

// Thread-safe (one connection behind a mutex). Callers validate meter ids against the readings store before
// writing (see topology_import.h); the store itself enforces a meter on one transformer only.
class GridStore {
 public:
  // Opens (creating the tables if missing). Fails with kIoError naming the path.
  static Expected<std::unique_ptr<GridStore>> open(const std::string& path);
  // The same on either engine (the SQLite file, or a PostgreSQL database shared by several servers).
  static Expected<std::unique_ptr<GridStore>> open(const storage::SqlTarget& target);
  ~GridStore();
  GridStore(const GridStore&) = delete;
  GridStore& operator=(const GridStore&) = delete;

  // Every transformer with its members, ordered by id.
  Expected<std::vector<Transformer>> list();
  Expected<Transformer> get(const std::string& id);  // kNotFound

  // Replaces the whole topology in one transaction (all or nothing).
  Expected<void> replace_all(const std::vector<Transformer>& transformers, int64_t now_ms);
  // Adds one transformer with its members. kAlreadyExists when the id is taken or a member already belongs
  // to another transformer (the message names it).
  Expected<void> add(const Transformer& transformer, int64_t now_ms);
  // Replaces check meter and consumers of an existing transformer (name/area too when given). kNotFound.
  Expected<void> set_members(const std::string& id, const std::string& check_meter,
                             const std::vector<std::string>& consumers,
                             const std::optional<std::string>& name = std::nullopt,
                             const std::optional<std::string>& area = std::nullopt);
  Expected<void> remove(const std::string& id);  // kNotFound

  // The transformer a meter belongs to and its role ("check" or "consumer"), or nullopt.
  Expected<std::optional<std::pair<std::string, std::string>>> membership(const std::string& meter_id);

  // Increases with every successful change (the analysis service rebuilds monitors when it moves).
  uint64_t version() const { return version_.load(); }

 private:
  explicit GridStore(std::unique_ptr<storage::SqlConnection> db) : db_(std::move(db)) {}
  Expected<void> insert_locked(const Transformer& t, int64_t now_ms);
  Expected<void> insert_members_locked(const std::string& id, const std::string& check_meter,
                                       const std::vector<std::string>& consumers);
  Expected<std::vector<Transformer>> list_locked(const std::string* only_id);

  std::mutex mutex_;
  std::unique_ptr<storage::SqlConnection> db_;  // guarded by mutex_
  std::atomic<uint64_t> version_{1};
};

}  // namespace wattguard::grid
