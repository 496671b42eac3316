// GridStore on SQLite or PostgreSQL (storage::SqlConnection): tables grid_transformers and grid_members, created
// if missing.
#include "wattguard/grid/grid_store.h"

#include <map>

namespace wattguard::grid {

namespace {

using storage::SqlRow;
using storage::SqlValue;

// A meter's primary key in grid_members makes "one transformer per meter" a database rule too. The same tables
// on both engines; PostgreSQL's are created under an advisory lock, since servers starting together would race
// on CREATE ... IF NOT EXISTS.
constexpr const char* kSqliteSchema = R"sql(
CREATE TABLE IF NOT EXISTS grid_transformers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  area TEXT NOT NULL DEFAULT '',
  check_meter TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS grid_members (
  meter_id TEXT PRIMARY KEY,
  transformer_id TEXT NOT NULL REFERENCES grid_transformers(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('check', 'consumer')),
  position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS grid_members_by_transformer ON grid_members(transformer_id, position);
)sql";

constexpr const char* kPgSchema = R"sql(
SELECT pg_advisory_xact_lock(7423102);
CREATE TABLE IF NOT EXISTS grid_transformers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  area TEXT NOT NULL DEFAULT '',
  check_meter TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS grid_members (
  meter_id TEXT PRIMARY KEY,
  transformer_id TEXT NOT NULL REFERENCES grid_transformers(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('check', 'consumer')),
  position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS grid_members_by_transformer ON grid_members(transformer_id, position);
)sql";

Transformer transformer_from_row(const SqlRow& row) {
  Transformer t;
  t.id = row.text(0);
  t.name = row.text(1);
  t.area = row.text(2);
  t.check_meter = row.text(3);
  t.created_ms = row.int64(4);
  return t;
}

// The store's errors say what it was doing.
Error doing(Error e, const std::string& what) {
  e.message = what + ": " + e.message;
  return e;
}

}  // namespace

Expected<std::unique_ptr<GridStore>> GridStore::open(const std::string& path) {
  storage::SqlTarget target;
  target.sqlite_path = path;
  return open(target);
}

Expected<std::unique_ptr<GridStore>> GridStore::open(const storage::SqlTarget& target) {
  auto db = storage::open_sql_connection(target, 5000);
  if (!db.ok()) return Error::io(db.error().message);
  const bool sqlite = db.value()->dialect() == storage::SqlDialect::kSqlite;
  if (auto s = db.value()->script(sqlite ? kSqliteSchema : kPgSchema); !s.ok()) return Error::io(s.error().message);
  return std::unique_ptr<GridStore>(new GridStore(std::move(db.value())));
}

GridStore::~GridStore() = default;

Expected<std::vector<Transformer>> GridStore::list_locked(const std::string* only_id) {
  std::vector<Transformer> out;
  std::map<std::string, size_t> index;
  auto ts = only_id ? db_->run("SELECT id, name, area, check_meter, created_ms FROM grid_transformers WHERE id = $1",
                               {*only_id})
                    : db_->run("SELECT id, name, area, check_meter, created_ms FROM grid_transformers ORDER BY id", {});
  if (!ts.ok()) return doing(ts.error(), "grid: list transformers");
  for (const SqlRow& row : ts.value().rows) {
    Transformer t = transformer_from_row(row);
    index[t.id] = out.size();
    out.push_back(std::move(t));
  }
  auto ms = only_id ? db_->run(
                          "SELECT transformer_id, meter_id FROM grid_members WHERE role = 'consumer' AND "
                          "transformer_id = $1 ORDER BY position",
                          {*only_id})
                    : db_->run(
                          "SELECT transformer_id, meter_id FROM grid_members WHERE role = 'consumer' "
                          "ORDER BY transformer_id, position",
                          {});
  if (!ms.ok()) return doing(ms.error(), "grid: list members");
  for (const SqlRow& row : ms.value().rows) {
    const auto it = index.find(row.text(0));
    if (it != index.end()) out[it->second].consumers.push_back(row.text(1));
  }
  return out;
}

Expected<std::vector<Transformer>> GridStore::list() {
  std::lock_guard lock(mutex_);
  return list_locked(nullptr);
}

Expected<Transformer> GridStore::get(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto all = list_locked(&id);
  if (!all.ok()) return all.error();
  if (all->empty()) return Error::not_found("no transformer '" + id + "'");
  return std::move(all->front());
}

Expected<void> GridStore::insert_members_locked(const std::string& id, const std::string& check_meter,
                                                const std::vector<std::string>& consumers) {
  for (size_t i = 0; i <= consumers.size(); ++i) {
    const std::string& meter = i == 0 ? check_meter : consumers[i - 1];
    auto owner = db_->run("SELECT transformer_id FROM grid_members WHERE meter_id = $1", {meter});
    if (!owner.ok()) return doing(owner.error(), "grid: member " + meter);
    if (!owner.value().rows.empty()) {
      return Error::already_exists("meter '" + meter + "' already belongs to transformer '" +
                                   owner.value().rows[0].text(0) + "'; a meter belongs to one transformer");
    }
    auto ins = db_->run("INSERT INTO grid_members(meter_id, transformer_id, role, position) VALUES ($1, $2, $3, $4)",
                        {meter, id, std::string(i == 0 ? "check" : "consumer"), static_cast<int64_t>(i)});
    if (!ins.ok()) return doing(ins.error(), "grid: insert member " + meter);
  }
  return {};
}

Expected<void> GridStore::insert_locked(const Transformer& t, int64_t now_ms) {
  auto ins =
      db_->run("INSERT INTO grid_transformers(id, name, area, check_meter, created_ms) VALUES ($1, $2, $3, $4, $5)",
               {t.id, t.name, t.area, t.check_meter, t.created_ms > 0 ? t.created_ms : now_ms});
  if (!ins.ok() && ins.error().code == ErrorCode::kAlreadyExists) {
    return Error::already_exists("transformer '" + t.id + "' exists");
  }
  if (!ins.ok()) return doing(ins.error(), "grid: insert transformer " + t.id);
  return insert_members_locked(t.id, t.check_meter, t.consumers);
}

Expected<void> GridStore::replace_all(const std::vector<Transformer>& transformers, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  storage::SqlTransaction tx(*db_);
  if (auto s = tx.begin(); !s.ok()) return s;
  if (auto s = db_->script("DELETE FROM grid_members; DELETE FROM grid_transformers;"); !s.ok()) return s;
  for (const auto& t : transformers) {
    if (auto s = insert_locked(t, now_ms); !s.ok()) return s;
  }
  if (auto s = tx.commit(); !s.ok()) return s;
  ++version_;
  return {};
}

Expected<void> GridStore::add(const Transformer& transformer, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  storage::SqlTransaction tx(*db_);
  if (auto s = tx.begin(); !s.ok()) return s;
  if (auto s = insert_locked(transformer, now_ms); !s.ok()) return s;
  if (auto s = tx.commit(); !s.ok()) return s;
  ++version_;
  return {};
}

Expected<void> GridStore::set_members(const std::string& id, const std::string& check_meter,
                                      const std::vector<std::string>& consumers, const std::optional<std::string>& name,
                                      const std::optional<std::string>& area) {
  std::lock_guard lock(mutex_);
  storage::SqlTransaction tx(*db_);
  if (auto s = tx.begin(); !s.ok()) return s;
  const SqlValue no_change{};
  auto upd = db_->run(
      "UPDATE grid_transformers SET check_meter = $2, name = COALESCE($3, name), area = COALESCE($4, area) "
      "WHERE id = $1",
      {id, check_meter, name ? SqlValue(*name) : no_change, area ? SqlValue(*area) : no_change});
  if (!upd.ok()) return doing(upd.error(), "grid: update transformer " + id);
  if (upd.value().affected == 0) return Error::not_found("no transformer '" + id + "'");
  if (auto del = db_->run("DELETE FROM grid_members WHERE transformer_id = $1", {id}); !del.ok()) {
    return doing(del.error(), "grid: delete members of " + id);
  }
  if (auto s = insert_members_locked(id, check_meter, consumers); !s.ok()) return s;
  if (auto s = tx.commit(); !s.ok()) return s;
  ++version_;
  return {};
}

Expected<void> GridStore::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  storage::SqlTransaction tx(*db_);
  if (auto s = tx.begin(); !s.ok()) return s;
  if (auto del = db_->run("DELETE FROM grid_members WHERE transformer_id = $1", {id}); !del.ok()) {
    return doing(del.error(), "grid: remove " + id);
  }
  auto del = db_->run("DELETE FROM grid_transformers WHERE id = $1", {id});
  if (!del.ok()) return doing(del.error(), "grid: remove " + id);
  if (del.value().affected == 0) return Error::not_found("no transformer '" + id + "'");
  if (auto s = tx.commit(); !s.ok()) return s;
  ++version_;
  return {};
}

Expected<std::optional<std::pair<std::string, std::string>>> GridStore::membership(const std::string& meter_id) {
  std::lock_guard lock(mutex_);
  auto r = db_->run("SELECT transformer_id, role FROM grid_members WHERE meter_id = $1", {meter_id});
  if (!r.ok()) return doing(r.error(), "grid: membership");
  if (r.value().rows.empty()) return std::optional<std::pair<std::string, std::string>>();
  const SqlRow& row = r.value().rows[0];
  return std::optional<std::pair<std::string, std::string>>(std::pair{row.text(0), row.text(1)});
}

}  // namespace wattguard::grid
