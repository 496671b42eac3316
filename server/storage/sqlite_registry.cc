// SqliteStore's registries: meters, events, commands (server -> meter) and the append-only audit log.
#include <algorithm>

#include "server/storage/sqlite_store_impl.h"
#include "wattguard/base/clock.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::storage {
namespace {

CommandRecord command_from_row(const Stmt& s) {
  CommandRecord c;
  c.id = s.text(0);
  c.meter_id = s.text(1);
  c.kind = protocol::command_kind_from_name(s.text(2)).value_or(protocol::CommandKind::kPing);
  c.args_json = s.text(3);
  c.requested_by = s.text(4);
  c.state = command_state_from_name(s.text(5)).value_or(CommandState::kFailed);
  c.message = s.text(6);
  c.relay = protocol::relay_state_from_name(s.text(7)).value_or(protocol::RelayState::kUnknown);
  c.created_ms = s.int64(8);
  c.sent_ms = s.int64(9);
  c.updated_ms = s.int64(10);
  return c;
}

constexpr const char* kCommandSelect =
    "SELECT c.id,m.id,c.kind,c.args,c.requested_by,c.state,c.message,c.relay,c.created_ms,c.sent_ms,c.updated_ms "
    "FROM commands c JOIN meters m ON m.key=c.meter ";

}  // namespace

// ---------------------------------------------------------------- meters

Expected<void> SqliteStore::add_meters(std::span<const MeterInfo> meters) {
  for (const MeterInfo& m : meters) {
    if (!protocol::is_valid_meter_id(m.id)) {
      return Error::invalid("id", m.id, "meter id \"" + m.id + "\" must be 1 to 64 characters of A-Z a-z 0-9 _ -");
    }
  }
  std::lock_guard lk(impl_->write_mu);
  Db& db = *impl_->writer;
  Transaction txn(db);
  if (auto s = txn.begin_immediate(); !s.ok()) return s.error();
  const int64_t now = system_now_ms();
  std::vector<std::pair<std::string, int64_t>> added;
  added.reserve(meters.size());
  for (const MeterInfo& m : meters) {
    auto s = db.prepare("INSERT INTO meters(id,name,area,owner,created_ms) VALUES(?,?,?,?,?)");
    if (!s.ok()) return s.error();
    s->bind(1, m.id);
    s->bind(2, m.name);
    s->bind(3, m.area);
    s->bind(4, m.owner);
    s->bind(5, m.created_ms != 0 ? m.created_ms : now);
    const int rc = s->step();
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
      return Error::already_exists("meter " + m.id + " is already provisioned");
    }
    if (rc != SQLITE_DONE) return db.error_from(rc, "adding meter " + m.id);
    added.emplace_back(m.id, db.last_insert_rowid());
  }
  if (auto s = txn.commit(); !s.ok()) return s.error();
  for (auto& [id, key] : added) impl_->remember_key(id, key);
  return {};
}

Expected<void> SqliteStore::update_meter(const MeterInfo& meter) {
  std::lock_guard lk(impl_->write_mu);
  Db& db = *impl_->writer;
  auto s = db.prepare("UPDATE meters SET name=?, area=?, owner=?, retired_ms=? WHERE id=?");
  if (!s.ok()) return s.error();
  s->bind(1, meter.name);
  s->bind(2, meter.area);
  s->bind(3, meter.owner);
  s->bind(4, meter.retired_ms);
  s->bind(5, meter.id);
  if (auto st = db.step_done(*s, "updating meter"); !st.ok()) return st.error();
  if (db.changes() == 0) return Error::not_found("unknown meter " + meter.id);
  return {};
}

Expected<MeterInfo> SqliteStore::get_meter(std::string_view meter_id) {
  Impl::Lease lease(*impl_);
  Db& db = lease.db();
  auto s = db.prepare("SELECT id,name,area,owner,created_ms,retired_ms FROM meters WHERE id=?");
  if (!s.ok()) return s.error();
  s->bind(1, meter_id);
  const int rc = s->step();
  if (rc == SQLITE_DONE) return Error::not_found("unknown meter " + std::string(meter_id));
  if (rc != SQLITE_ROW) return db.error_from(rc, "reading meter");
  return MeterInfo{s->text(0), s->text(1), s->text(2), s->text(3), s->int64(4), s->int64(5)};
}

// Meters are never deleted, so a key once cached answers without touching the database.
bool SqliteStore::has_meter(std::string_view meter_id) {
  if (impl_->cached_key(meter_id)) return true;
  Impl::Lease lease(*impl_);
  return impl_->key_of(lease.db(), meter_id).ok();
}

Expected<std::vector<MeterInfo>> SqliteStore::list_meters() {
  Impl::Lease lease(*impl_);
  Db& db = lease.db();
  auto s = db.prepare("SELECT id,name,area,owner,created_ms,key,retired_ms FROM meters ORDER BY id");
  if (!s.ok()) return s.error();
  std::vector<MeterInfo> out;
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) {
    out.push_back(MeterInfo{s->text(0), s->text(1), s->text(2), s->text(3), s->int64(4), s->int64(6)});
    impl_->remember_key(out.back().id, s->int64(5));
  }
  if (rc != SQLITE_DONE) return db.error_from(rc, "listing meters");
  return out;
}

// ---------------------------------------------------------------- events

Expected<int64_t> SqliteStore::add_event(const protocol::MeterEvent& event, EventSource source, int64_t received_ms) {
  if (event.details.size() > 4096) {
    return Error::invalid("details", "", "event details longer than 4096 characters");
  }
  std::lock_guard lk(impl_->write_mu);
  Db& db = *impl_->writer;
  auto key = impl_->key_of(db, event.meter_id);
  if (!key.ok()) return key.error();
  auto s = db.prepare(
      "INSERT OR IGNORE INTO events(meter,time_ms,kind,edge,source,details,received_ms) VALUES(?,?,?,?,?,?,?)");
  if (!s.ok()) return s.error();
  s->bind(1, key.value());
  s->bind(2, event.time_ms);
  s->bind(3, protocol::event_kind_name(event.kind));
  s->bind(4, protocol::event_edge_name(event.edge));
  s->bind(5, event_source_name(source));
  s->bind(6, event.details);
  s->bind(7, received_ms);
  if (auto st = db.step_done(*s, "inserting event"); !st.ok()) return st.error();
  if (db.changes() == 1) return db.last_insert_rowid();
  auto existing = db.prepare("SELECT id FROM events WHERE meter=? AND kind=? AND edge=? AND time_ms=?");
  if (!existing.ok()) return existing.error();
  existing->bind(1, key.value());
  existing->bind(2, protocol::event_kind_name(event.kind));
  existing->bind(3, protocol::event_edge_name(event.edge));
  existing->bind(4, event.time_ms);
  if (existing->step() != SQLITE_ROW) return db.last_error("finding the existing event");
  return existing->int64(0);
}

Expected<std::vector<StoredEvent>> SqliteStore::events(const EventQuery& q) {
  Impl::Lease lease(*impl_);
  Db& db = lease.db();
  std::string sql =
      "SELECT e.id,m.id,e.time_ms,e.kind,e.edge,e.source,e.details,e.received_ms FROM events e "
      "JOIN meters m ON m.key=e.meter WHERE e.time_ms>=? AND e.time_ms<?";
  int64_t key = -1;
  if (!q.meter_id.empty()) {
    auto k = impl_->key_of(db, q.meter_id);
    if (!k.ok()) return k.error();
    key = k.value();
    sql += " AND e.meter=?";
  }
  if (q.kind) sql += " AND e.kind=?";
  sql += " ORDER BY e.time_ms DESC, e.id DESC LIMIT ?";
  auto s = db.prepare_once(sql);
  if (!s.ok()) return s.error();
  int c = 1;
  s->bind(c++, q.from_ms);
  s->bind(c++, q.to_ms);
  if (key >= 0) s->bind(c++, key);
  if (q.kind) s->bind(c++, protocol::event_kind_name(*q.kind));
  s->bind(c++, static_cast<int64_t>(std::min<std::size_t>(q.limit, INT64_MAX)));
  std::vector<StoredEvent> out;
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) {
    StoredEvent e;
    e.id = s->int64(0);
    e.event.meter_id = s->text(1);
    e.event.time_ms = s->int64(2);
    e.event.kind = protocol::event_kind_from_name(s->text(3)).value_or(protocol::EventKind::kPowerUp);
    e.event.edge = protocol::event_edge_from_name(s->text(4)).value_or(protocol::EventEdge::kInstant);
    e.source = s->text(5) == "server" ? EventSource::kServer : EventSource::kMeter;
    e.event.details = s->text(6);
    e.received_ms = s->int64(7);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return db.error_from(rc, "reading events");
  return out;
}

// ---------------------------------------------------------------- commands

Expected<void> SqliteStore::add_command(const CommandRecord& c) {
  if (c.id.empty() || c.id.size() > protocol::kMaxCommandIdLength || !protocol::is_valid_meter_id(c.id)) {
    return Error::invalid("id", c.id, "command id \"" + c.id + "\" is not valid");
  }
  std::lock_guard lk(impl_->write_mu);
  Db& db = *impl_->writer;
  auto key = impl_->key_of(db, c.meter_id);
  if (!key.ok()) return key.error();
  auto s = db.prepare(
      "INSERT INTO commands(id,meter,kind,args,requested_by,state,message,relay,created_ms,sent_ms,updated_ms) "
      "VALUES(?,?,?,?,?,?,?,?,?,?,?)");
  if (!s.ok()) return s.error();
  const int64_t created = c.created_ms != 0 ? c.created_ms : system_now_ms();
  s->bind(1, c.id);
  s->bind(2, key.value());
  s->bind(3, protocol::command_kind_name(c.kind));
  s->bind(4, c.args_json);
  s->bind(5, c.requested_by);
  s->bind(6, command_state_name(c.state));
  s->bind(7, c.message);
  s->bind(8, protocol::relay_state_name(c.relay));
  s->bind(9, created);
  s->bind(10, c.sent_ms);
  s->bind(11, c.updated_ms != 0 ? c.updated_ms : created);
  const int rc = s->step();
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    return Error::already_exists("command " + c.id + " already exists");
  }
  if (rc != SQLITE_DONE) return db.error_from(rc, "adding command");
  return {};
}

Expected<void> SqliteStore::update_command(std::string_view command_id, CommandState state, std::string_view message,
                                           protocol::RelayState relay, int64_t time_ms) {
  std::lock_guard lk(impl_->write_mu);
  Db& db = *impl_->writer;
  auto s = db.prepare(
      "UPDATE commands SET state=?, message=?, relay=?, updated_ms=?, "
      "sent_ms=CASE WHEN ?=1 THEN ? ELSE sent_ms END WHERE id=?");
  if (!s.ok()) return s.error();
  s->bind(1, command_state_name(state));
  s->bind(2, message);
  s->bind(3, protocol::relay_state_name(relay));
  s->bind(4, time_ms);
  s->bind(5, state == CommandState::kSent ? 1 : 0);
  s->bind(6, time_ms);
  s->bind(7, command_id);
  if (auto st = db.step_done(*s, "updating command"); !st.ok()) return st.error();
  if (db.changes() == 0) return Error::not_found("unknown command " + std::string(command_id));
  return {};
}

Expected<CommandRecord> SqliteStore::get_command(std::string_view command_id) {
  Impl::Lease lease(*impl_);
  Db& db = lease.db();
  static const std::string kSql = std::string(kCommandSelect) + "WHERE c.id=?";
  auto s = db.prepare(kSql.c_str());
  if (!s.ok()) return s.error();
  s->bind(1, command_id);
  const int rc = s->step();
  if (rc == SQLITE_DONE) return Error::not_found("unknown command " + std::string(command_id));
  if (rc != SQLITE_ROW) return db.error_from(rc, "reading command");
  return command_from_row(*s);
}

Expected<std::vector<CommandRecord>> SqliteStore::commands(std::string_view meter_id, std::size_t limit) {
  Impl::Lease lease(*impl_);
  Db& db = lease.db();
  static const std::string kAllSql = std::string(kCommandSelect) + "ORDER BY c.created_ms DESC, c.rowid DESC LIMIT ?";
  static const std::string kMeterSql =
      std::string(kCommandSelect) + "WHERE c.meter=? ORDER BY c.created_ms DESC, c.rowid DESC LIMIT ?";
  int64_t key = -1;
  if (!meter_id.empty()) {
    auto k = impl_->key_of(db, meter_id);
    if (!k.ok()) return k.error();
    key = k.value();
  }
  auto s = db.prepare(key >= 0 ? kMeterSql.c_str() : kAllSql.c_str());
  if (!s.ok()) return s.error();
  int c = 1;
  if (key >= 0) s->bind(c++, key);
  s->bind(c, static_cast<int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  std::vector<CommandRecord> out;
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) out.push_back(command_from_row(*s));
  if (rc != SQLITE_DONE) return db.error_from(rc, "reading commands");
  return out;
}

Expected<std::vector<CommandRecord>> SqliteStore::open_commands() {
  Impl::Lease lease(*impl_);
  Db& db = lease.db();
  static const std::string kSql =
      std::string(kCommandSelect) + "WHERE c.state IN ('pending','sent') ORDER BY c.created_ms";
  auto s = db.prepare(kSql.c_str());
  if (!s.ok()) return s.error();
  std::vector<CommandRecord> out;
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) out.push_back(command_from_row(*s));
  if (rc != SQLITE_DONE) return db.error_from(rc, "reading open commands");
  return out;
}

// ---------------------------------------------------------------- audit

Expected<int64_t> SqliteStore::append_audit(const AuditEntry& e) {
  std::lock_guard lk(impl_->write_mu);
  Db& db = *impl_->writer;
  auto s = db.prepare("INSERT INTO audit_log(time_ms,actor,action,target,details) VALUES(?,?,?,?,?)");
  if (!s.ok()) return s.error();
  s->bind(1, e.time_ms != 0 ? e.time_ms : system_now_ms());
  s->bind(2, e.actor);
  s->bind(3, e.action);
  s->bind(4, e.target);
  s->bind(5, e.details);
  if (auto st = db.step_done(*s, "appending audit entry"); !st.ok()) return st.error();
  return db.last_insert_rowid();
}

Expected<std::vector<AuditEntry>> SqliteStore::audit(std::string_view target, std::size_t limit) {
  Impl::Lease lease(*impl_);
  Db& db = lease.db();
  auto s = target.empty()
               ? db.prepare("SELECT id,time_ms,actor,action,target,details FROM audit_log ORDER BY id DESC LIMIT ?")
               : db.prepare(
                     "SELECT id,time_ms,actor,action,target,details FROM audit_log WHERE target=? "
                     "ORDER BY id DESC LIMIT ?");
  if (!s.ok()) return s.error();
  int c = 1;
  if (!target.empty()) s->bind(c++, target);
  s->bind(c, static_cast<int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  std::vector<AuditEntry> out;
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) {
    out.push_back(AuditEntry{s->int64(0), s->int64(1), s->text(2), s->text(3), s->text(4), s->text(5)});
  }
  if (rc != SQLITE_DONE) return db.error_from(rc, "reading audit log");
  return out;
}

}  // namespace wattguard::storage
