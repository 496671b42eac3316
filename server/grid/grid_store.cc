// GridStore on SQLite: tables grid_transformers and grid_members, created if missing.
#include "wattguard/grid/grid_store.h"

#include <map>

namespace wattguard::grid {

namespace {

// A meter's primary key in grid_members makes "one transformer per meter" a database rule too.
constexpr const char* kSchema = R"sql(
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

}  // namespace

Expected<std::unique_ptr<GridStore>> GridStore::open(const std::string& path) {
  auto db = storage::Db::open(path, 5000);
  if (!db.ok()) return Error::io(db.error().message);
  std::unique_ptr<GridStore> store(new GridStore(std::move(db.value())));
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL", kSchema}) {
    if (auto s = store->db_->exec(sql); !s.ok()) return Error::io(path + ": " + s.error().message);
  }
  return store;
}

GridStore::~GridStore() = default;

Expected<std::vector<Transformer>> GridStore::list_locked(const std::string* only_id) {
  std::vector<Transformer> out;
  std::map<std::string, size_t> index;
  {
    auto st = only_id
                  ? db_->prepare("SELECT id, name, area, check_meter, created_ms FROM grid_transformers WHERE id = ?1")
                  : db_->prepare("SELECT id, name, area, check_meter, created_ms FROM grid_transformers ORDER BY id");
    if (!st.ok()) return st.error();
    if (only_id) st->bind(1, *only_id);
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      Transformer t;
      t.id = st->text(0);
      t.name = st->text(1);
      t.area = st->text(2);
      t.check_meter = st->text(3);
      t.created_ms = st->int64(4);
      index[t.id] = out.size();
      out.push_back(std::move(t));
    }
    if (rc != SQLITE_DONE) return db_->error_from(rc, "grid: list transformers");
  }
  auto st = only_id ? db_->prepare(
                          "SELECT transformer_id, meter_id FROM grid_members WHERE role = 'consumer' AND "
                          "transformer_id = ?1 ORDER BY position")
                    : db_->prepare(
                          "SELECT transformer_id, meter_id FROM grid_members WHERE role = 'consumer' "
                          "ORDER BY transformer_id, position");
  if (!st.ok()) return st.error();
  if (only_id) st->bind(1, *only_id);
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) {
    const auto it = index.find(st->text(0));
    if (it != index.end()) out[it->second].consumers.push_back(st->text(1));
  }
  if (rc != SQLITE_DONE) return db_->error_from(rc, "grid: list members");
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
  auto owner = db_->prepare("SELECT transformer_id FROM grid_members WHERE meter_id = ?1");
  if (!owner.ok()) return owner.error();
  auto insert =
      db_->prepare("INSERT INTO grid_members(meter_id, transformer_id, role, position) VALUES (?1, ?2, ?3, ?4)");
  if (!insert.ok()) return insert.error();
  for (size_t i = 0; i <= consumers.size(); ++i) {
    const std::string& meter = i == 0 ? check_meter : consumers[i - 1];
    owner->bind(1, meter);
    if (owner->step() == SQLITE_ROW) {
      const std::string other = owner->text(0);
      owner->reset();
      return Error::already_exists("meter '" + meter + "' already belongs to transformer '" + other +
                                   "'; a meter belongs to one transformer");
    }
    owner->reset();
    insert->bind(1, meter);
    insert->bind(2, id);
    insert->bind(3, i == 0 ? "check" : "consumer");
    insert->bind(4, static_cast<int64_t>(i));
    const int rc = insert->step();
    insert->reset();
    if (rc != SQLITE_DONE) return db_->error_from(rc, "grid: insert member " + meter);
  }
  return {};
}

Expected<void> GridStore::insert_locked(const Transformer& t, int64_t now_ms) {
  auto st = db_->prepare(
      "INSERT INTO grid_transformers(id, name, area, check_meter, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!st.ok()) return st.error();
  st->bind(1, t.id);
  st->bind(2, t.name);
  st->bind(3, t.area);
  st->bind(4, t.check_meter);
  st->bind(5, t.created_ms > 0 ? t.created_ms : now_ms);
  const int rc = st->step();
  if (rc != SQLITE_DONE) {
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      return Error::already_exists("transformer '" + t.id + "' exists");
    }
    return db_->error_from(rc, "grid: insert transformer " + t.id);
  }
  return insert_members_locked(t.id, t.check_meter, t.consumers);
}

Expected<void> GridStore::replace_all(const std::vector<Transformer>& transformers, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  storage::Transaction tx(*db_);
  if (auto s = tx.begin_immediate(); !s.ok()) return s;
  if (auto s = db_->exec("DELETE FROM grid_members; DELETE FROM grid_transformers;"); !s.ok()) return s;
  for (const auto& t : transformers) {
    if (auto s = insert_locked(t, now_ms); !s.ok()) return s;
  }
  if (auto s = tx.commit(); !s.ok()) return s;
  ++version_;
  return {};
}

Expected<void> GridStore::add(const Transformer& transformer, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  storage::Transaction tx(*db_);
  if (auto s = tx.begin_immediate(); !s.ok()) return s;
  if (auto s = insert_locked(transformer, now_ms); !s.ok()) return s;
  if (auto s = tx.commit(); !s.ok()) return s;
  ++version_;
  return {};
}

Expected<void> GridStore::set_members(const std::string& id, const std::string& check_meter,
                                      const std::vector<std::string>& consumers, const std::optional<std::string>& name,
                                      const std::optional<std::string>& area) {
  std::lock_guard lock(mutex_);
  storage::Transaction tx(*db_);
  if (auto s = tx.begin_immediate(); !s.ok()) return s;
  {
    auto st = db_->prepare(
        "UPDATE grid_transformers SET check_meter = ?2, name = COALESCE(?3, name), area = COALESCE(?4, area) "
        "WHERE id = ?1");
    if (!st.ok()) return st.error();
    st->bind(1, id);
    st->bind(2, check_meter);
    if (name) st->bind(3, *name);
    if (area) st->bind(4, *area);
    if (const int rc = st->step(); rc != SQLITE_DONE) return db_->error_from(rc, "grid: update transformer " + id);
    if (db_->changes() == 0) return Error::not_found("no transformer '" + id + "'");
  }
  {
    auto st = db_->prepare("DELETE FROM grid_members WHERE transformer_id = ?1");
    if (!st.ok()) return st.error();
    st->bind(1, id);
    if (const int rc = st->step(); rc != SQLITE_DONE) return db_->error_from(rc, "grid: delete members of " + id);
  }
  if (auto s = insert_members_locked(id, check_meter, consumers); !s.ok()) return s;
  if (auto s = tx.commit(); !s.ok()) return s;
  ++version_;
  return {};
}

Expected<void> GridStore::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  storage::Transaction tx(*db_);
  if (auto s = tx.begin_immediate(); !s.ok()) return s;
  for (const char* sql :
       {"DELETE FROM grid_members WHERE transformer_id = ?1", "DELETE FROM grid_transformers WHERE id = ?1"}) {
    auto st = db_->prepare(sql);
    if (!st.ok()) return st.error();
    st->bind(1, id);
    if (const int rc = st->step(); rc != SQLITE_DONE) return db_->error_from(rc, "grid: remove " + id);
  }
  if (db_->changes() == 0) return Error::not_found("no transformer '" + id + "'");
  if (auto s = tx.commit(); !s.ok()) return s;
  ++version_;
  return {};
}

Expected<std::optional<std::pair<std::string, std::string>>> GridStore::membership(const std::string& meter_id) {
  std::lock_guard lock(mutex_);
  auto st = db_->prepare("SELECT transformer_id, role FROM grid_members WHERE meter_id = ?1");
  if (!st.ok()) return st.error();
  st->bind(1, meter_id);
  const int rc = st->step();
  if (rc == SQLITE_ROW) return std::optional<std::pair<std::string, std::string>>(std::pair{st->text(0), st->text(1)});
  if (rc != SQLITE_DONE) return db_->error_from(rc, "grid: membership");
  return std::optional<std::pair<std::string, std::string>>();
}

}  // namespace wattguard::grid
