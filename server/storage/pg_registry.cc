// PgStore's registries: meters, events, commands (server -> meter) and the append-only audit log.
#include <algorithm>

#include "server/storage/pg_store_impl.h"
#include "wattguard/base/clock.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::storage {
namespace {

constexpr const char* kCommandSelect =
    "SELECT c.id,m.id,c.kind,c.args,c.requested_by,c.state,c.message,c.relay,c.created_ms,c.sent_ms,c.updated_ms "
    "FROM commands c JOIN meters m ON m.key=c.meter ";

CommandRecord command_from_row(const pqxx::row& r) {
  CommandRecord c;
  c.id = r[0].c_str();
  c.meter_id = r[1].c_str();
  c.kind = protocol::command_kind_from_name(r[2].c_str()).value_or(protocol::CommandKind::kPing);
  c.args_json = r[3].c_str();
  c.requested_by = r[4].c_str();
  c.state = command_state_from_name(r[5].c_str()).value_or(CommandState::kFailed);
  c.message = r[6].c_str();
  c.relay = protocol::relay_state_from_name(r[7].c_str()).value_or(protocol::RelayState::kUnknown);
  c.created_ms = r[8].as<int64_t>();
  c.sent_ms = r[9].as<int64_t>();
  c.updated_ms = r[10].as<int64_t>();
  return c;
}

MeterInfo meter_from_row(const pqxx::row& r) {
  return MeterInfo{r[0].c_str(), r[1].c_str(), r[2].c_str(), r[3].c_str(), r[4].as<int64_t>(), r[5].as<int64_t>()};
}

int64_t clamp_limit(std::size_t limit) { return static_cast<int64_t>(std::min<std::size_t>(limit, INT64_MAX)); }

std::string name_of(std::string_view v) { return std::string(v); }

}  // namespace

// ---------------------------------------------------------------- meters

Expected<void> PgStore::add_meters(std::span<const MeterInfo> meters) {
  for (const MeterInfo& m : meters) {
    if (!protocol::is_valid_meter_id(m.id)) {
      return Error::invalid("id", m.id, "meter id \"" + m.id + "\" must be 1 to 64 characters of A-Z a-z 0-9 _ -");
    }
  }
  std::lock_guard lk(impl_->write_mu);
  return impl_->guarded("adding meters", [&]() -> Expected<void> {
    auto conn = impl_->writer_conn();
    if (!conn.ok()) return conn.error();
    pqxx::work txn(*conn.value());
    const int64_t now = system_now_ms();
    std::vector<std::pair<std::string, int64_t>> added;
    added.reserve(meters.size());
    for (const MeterInfo& m : meters) {
      const pqxx::result r = txn.exec_params(
          "INSERT INTO meters(id,name,area,owner,created_ms) VALUES($1,$2,$3,$4,$5) ON CONFLICT(id) DO NOTHING "
          "RETURNING key",
          m.id, m.name, m.area, m.owner, m.created_ms != 0 ? m.created_ms : now);
      // Leaving without commit rolls back the meters added before it: all or nothing.
      if (r.empty()) return Error::already_exists("meter " + m.id + " is already provisioned");
      added.emplace_back(m.id, r[0][0].as<int64_t>());
    }
    txn.commit();
    for (auto& [id, key] : added) impl_->remember_key(id, key);
    return {};
  });
}

Expected<void> PgStore::update_meter(const MeterInfo& meter) {
  std::lock_guard lk(impl_->write_mu);
  return impl_->guarded("updating meter", [&]() -> Expected<void> {
    auto conn = impl_->writer_conn();
    if (!conn.ok()) return conn.error();
    pqxx::work txn(*conn.value());
    const pqxx::result r = txn.exec_params("UPDATE meters SET name=$1, area=$2, owner=$3, retired_ms=$4 WHERE id=$5",
                                           meter.name, meter.area, meter.owner, meter.retired_ms, meter.id);
    if (r.affected_rows() == 0) return Error::not_found("unknown meter " + meter.id);
    txn.commit();
    return {};
  });
}

Expected<MeterInfo> PgStore::get_meter(std::string_view meter_id) {
  Impl::Lease lease(*impl_);
  return impl_->guarded("reading meter", [&]() -> Expected<MeterInfo> {
    auto conn = lease.conn();
    if (!conn.ok()) return conn.error();
    pqxx::read_transaction txn(*conn.value());
    const pqxx::result r =
        txn.exec_params("SELECT id,name,area,owner,created_ms,retired_ms FROM meters WHERE id=$1", name_of(meter_id));
    if (r.empty()) return Error::not_found("unknown meter " + std::string(meter_id));
    return meter_from_row(r[0]);
  });
}

// Meters are never deleted, so a key once cached answers without asking PostgreSQL.
bool PgStore::has_meter(std::string_view meter_id) {
  if (impl_->cached_key(meter_id)) return true;
  Impl::Lease lease(*impl_);
  return impl_
      ->guarded("looking up meter",
                [&]() -> Expected<int64_t> {
                  auto conn = lease.conn();
                  if (!conn.ok()) return conn.error();
                  pqxx::read_transaction txn(*conn.value());
                  return impl_->key_of(txn, meter_id);
                })
      .ok();
}

Expected<std::vector<MeterInfo>> PgStore::list_meters() {
  Impl::Lease lease(*impl_);
  return impl_->guarded("listing meters", [&]() -> Expected<std::vector<MeterInfo>> {
    auto conn = lease.conn();
    if (!conn.ok()) return conn.error();
    pqxx::read_transaction txn(*conn.value());
    const pqxx::result r = txn.exec("SELECT id,name,area,owner,created_ms,retired_ms,key FROM meters ORDER BY id");
    std::vector<MeterInfo> out;
    out.reserve(r.size());
    for (const auto& row : r) {
      out.push_back(meter_from_row(row));
      impl_->remember_key(out.back().id, row[6].as<int64_t>());
    }
    return out;
  });
}

// ---------------------------------------------------------------- events

Expected<int64_t> PgStore::add_event(const protocol::MeterEvent& event, EventSource source, int64_t received_ms) {
  if (event.details.size() > 4096) {
    return Error::invalid("details", "", "event details longer than 4096 characters");
  }
  std::lock_guard lk(impl_->write_mu);
  return impl_->guarded("inserting event", [&]() -> Expected<int64_t> {
    auto conn = impl_->writer_conn();
    if (!conn.ok()) return conn.error();
    pqxx::work txn(*conn.value());
    auto key = impl_->key_of(txn, event.meter_id);
    if (!key.ok()) return key.error();
    const std::string kind = name_of(protocol::event_kind_name(event.kind));
    const std::string edge = name_of(protocol::event_edge_name(event.edge));
    pqxx::result r = txn.exec_params(
        "INSERT INTO events(meter,time_ms,kind,edge,source,details,received_ms) VALUES($1,$2,$3,$4,$5,$6,$7) "
        "ON CONFLICT(meter,kind,edge,time_ms) DO NOTHING RETURNING id",
        key.value(), event.time_ms, kind, edge, std::string(event_source_name(source)), event.details, received_ms);
    if (r.empty()) {
      r = txn.exec_params("SELECT id FROM events WHERE meter=$1 AND kind=$2 AND edge=$3 AND time_ms=$4", key.value(),
                          kind, edge, event.time_ms);
      if (r.empty()) return Error::io("the repeated event vanished on " + impl_->where);
    }
    const int64_t id = r[0][0].as<int64_t>();
    txn.commit();
    return id;
  });
}

Expected<std::vector<StoredEvent>> PgStore::events(const EventQuery& q) {
  Impl::Lease lease(*impl_);
  return impl_->guarded("reading events", [&]() -> Expected<std::vector<StoredEvent>> {
    auto conn = lease.conn();
    if (!conn.ok()) return conn.error();
    pqxx::read_transaction txn(*conn.value());
    int64_t key = -1;
    if (!q.meter_id.empty()) {
      auto k = impl_->key_of(txn, q.meter_id);
      if (!k.ok()) return k.error();
      key = k.value();
    }
    // Unused filters are switched off by their parameter, so one statement serves every query.
    const pqxx::result r = txn.exec_params(
        "SELECT e.id,m.id,e.time_ms,e.kind,e.edge,e.source,e.details,e.received_ms FROM events e "
        "JOIN meters m ON m.key=e.meter WHERE e.time_ms>=$1 AND e.time_ms<$2 AND ($3::bigint < 0 OR "
        "e.meter=$3::bigint) "
        "AND ($4 = '' OR e.kind=$4) ORDER BY e.time_ms DESC, e.id DESC LIMIT $5",
        q.from_ms, q.to_ms, key, q.kind ? name_of(protocol::event_kind_name(*q.kind)) : std::string(),
        clamp_limit(q.limit));
    std::vector<StoredEvent> out;
    out.reserve(r.size());
    for (const auto& row : r) {
      StoredEvent e;
      e.id = row[0].as<int64_t>();
      e.event.meter_id = row[1].c_str();
      e.event.time_ms = row[2].as<int64_t>();
      e.event.kind = protocol::event_kind_from_name(row[3].c_str()).value_or(protocol::EventKind::kPowerUp);
      e.event.edge = protocol::event_edge_from_name(row[4].c_str()).value_or(protocol::EventEdge::kInstant);
      e.source = std::string_view(row[5].c_str()) == "server" ? EventSource::kServer : EventSource::kMeter;
      e.event.details = row[6].c_str();
      e.received_ms = row[7].as<int64_t>();
      out.push_back(std::move(e));
    }
    return out;
  });
}

// ---------------------------------------------------------------- commands

Expected<void> PgStore::add_command(const CommandRecord& c) {
  if (c.id.empty() || c.id.size() > protocol::kMaxCommandIdLength || !protocol::is_valid_meter_id(c.id)) {
    return Error::invalid("id", c.id, "command id \"" + c.id + "\" is not valid");
  }
  std::lock_guard lk(impl_->write_mu);
  return impl_->guarded("adding command", [&]() -> Expected<void> {
    auto conn = impl_->writer_conn();
    if (!conn.ok()) return conn.error();
    pqxx::work txn(*conn.value());
    auto key = impl_->key_of(txn, c.meter_id);
    if (!key.ok()) return key.error();
    const int64_t created = c.created_ms != 0 ? c.created_ms : system_now_ms();
    const pqxx::result r = txn.exec_params(
        "INSERT INTO commands(id,meter,kind,args,requested_by,state,message,relay,created_ms,sent_ms,updated_ms) "
        "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT(id) DO NOTHING",
        c.id, key.value(), name_of(protocol::command_kind_name(c.kind)), c.args_json, c.requested_by,
        std::string(command_state_name(c.state)), c.message, name_of(protocol::relay_state_name(c.relay)), created,
        c.sent_ms, c.updated_ms != 0 ? c.updated_ms : created);
    if (r.affected_rows() == 0) return Error::already_exists("command " + c.id + " already exists");
    txn.commit();
    return {};
  });
}

Expected<void> PgStore::update_command(std::string_view command_id, CommandState state, std::string_view message,
                                       protocol::RelayState relay, int64_t time_ms) {
  std::lock_guard lk(impl_->write_mu);
  return impl_->guarded("updating command", [&]() -> Expected<void> {
    auto conn = impl_->writer_conn();
    if (!conn.ok()) return conn.error();
    pqxx::work txn(*conn.value());
    const pqxx::result r = txn.exec_params(
        "UPDATE commands SET state=$1, message=$2, relay=$3, updated_ms=$4, "
        "sent_ms=CASE WHEN $5 THEN $4 ELSE sent_ms END WHERE id=$6",
        std::string(command_state_name(state)), name_of(message), name_of(protocol::relay_state_name(relay)), time_ms,
        state == CommandState::kSent, name_of(command_id));
    if (r.affected_rows() == 0) return Error::not_found("unknown command " + std::string(command_id));
    txn.commit();
    return {};
  });
}

Expected<CommandRecord> PgStore::get_command(std::string_view command_id) {
  Impl::Lease lease(*impl_);
  return impl_->guarded("reading command", [&]() -> Expected<CommandRecord> {
    auto conn = lease.conn();
    if (!conn.ok()) return conn.error();
    pqxx::read_transaction txn(*conn.value());
    const pqxx::result r = txn.exec_params(std::string(kCommandSelect) + "WHERE c.id=$1", name_of(command_id));
    if (r.empty()) return Error::not_found("unknown command " + std::string(command_id));
    return command_from_row(r[0]);
  });
}

Expected<std::vector<CommandRecord>> PgStore::commands(std::string_view meter_id, std::size_t limit) {
  Impl::Lease lease(*impl_);
  return impl_->guarded("reading commands", [&]() -> Expected<std::vector<CommandRecord>> {
    auto conn = lease.conn();
    if (!conn.ok()) return conn.error();
    pqxx::read_transaction txn(*conn.value());
    int64_t key = -1;
    if (!meter_id.empty()) {
      auto k = impl_->key_of(txn, meter_id);
      if (!k.ok()) return k.error();
      key = k.value();
    }
    const pqxx::result r = txn.exec_params(
        std::string(kCommandSelect) +
            "WHERE ($1::bigint < 0 OR c.meter=$1::bigint) ORDER BY c.created_ms DESC, c.ord DESC LIMIT $2",
        key, clamp_limit(limit));
    std::vector<CommandRecord> out;
    out.reserve(r.size());
    for (const auto& row : r) out.push_back(command_from_row(row));
    return out;
  });
}

Expected<std::vector<CommandRecord>> PgStore::open_commands() {
  Impl::Lease lease(*impl_);
  return impl_->guarded("reading open commands", [&]() -> Expected<std::vector<CommandRecord>> {
    auto conn = lease.conn();
    if (!conn.ok()) return conn.error();
    pqxx::read_transaction txn(*conn.value());
    const pqxx::result r =
        txn.exec(std::string(kCommandSelect) + "WHERE c.state IN ('pending','sent') ORDER BY c.created_ms, c.ord");
    std::vector<CommandRecord> out;
    out.reserve(r.size());
    for (const auto& row : r) out.push_back(command_from_row(row));
    return out;
  });
}

// ---------------------------------------------------------------- audit

Expected<int64_t> PgStore::append_audit(const AuditEntry& e) {
  std::lock_guard lk(impl_->write_mu);
  return impl_->guarded("appending audit entry", [&]() -> Expected<int64_t> {
    auto conn = impl_->writer_conn();
    if (!conn.ok()) return conn.error();
    pqxx::work txn(*conn.value());
    const pqxx::row r = txn.exec_params1(
        "INSERT INTO audit_log(time_ms,actor,action,target,details) VALUES($1,$2,$3,$4,$5) RETURNING id",
        e.time_ms != 0 ? e.time_ms : system_now_ms(), e.actor, e.action, e.target, e.details);
    const int64_t id = r[0].as<int64_t>();
    txn.commit();
    return id;
  });
}

Expected<std::vector<AuditEntry>> PgStore::audit(std::string_view target, std::size_t limit) {
  Impl::Lease lease(*impl_);
  return impl_->guarded("reading audit log", [&]() -> Expected<std::vector<AuditEntry>> {
    auto conn = lease.conn();
    if (!conn.ok()) return conn.error();
    pqxx::read_transaction txn(*conn.value());
    const pqxx::result r = txn.exec_params(
        "SELECT id,time_ms,actor,action,target,details FROM audit_log WHERE ($1 = '' OR target=$1) "
        "ORDER BY id DESC LIMIT $2",
        name_of(target), clamp_limit(limit));
    std::vector<AuditEntry> out;
    out.reserve(r.size());
    for (const auto& row : r) {
      out.push_back(AuditEntry{row[0].as<int64_t>(), row[1].as<int64_t>(), row[2].c_str(), row[3].c_str(),
                               row[4].c_str(), row[5].c_str()});
    }
    return out;
  });
}

}  // namespace wattguard::storage
