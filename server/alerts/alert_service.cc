// AlertService on its own SQLite connection: alerts, the delivery outbox and alert actions.
#include "wattguard/alerts/alert_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <unordered_map>

#include "wattguard/base/clock.h"
#include "wattguard/storage/sqlite_db.h"

namespace wattguard::alerts {

using storage::Db;
using storage::Stmt;
using storage::Transaction;

const std::vector<std::string>& consumer_visible_kinds() {
  static const std::vector<std::string> kKinds = {"offline"};
  return kKinds;
}

bool is_consumer_visible(std::string_view kind) {
  const auto& kinds = consumer_visible_kinds();
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

const char* alert_state_name(AlertState state) {
  switch (state) {
    case AlertState::kOpen: return "open";
    case AlertState::kAcknowledged: return "acknowledged";
    case AlertState::kClosed: return "closed";
  }
  return "open";
}

std::optional<AlertState> alert_state_from_name(std::string_view name) {
  if (name == "open") return AlertState::kOpen;
  if (name == "acknowledged") return AlertState::kAcknowledged;
  if (name == "closed") return AlertState::kClosed;
  return std::nullopt;
}

const char* delivery_state_name(DeliveryState state) {
  switch (state) {
    case DeliveryState::kPending: return "pending";
    case DeliveryState::kDelivered: return "delivered";
    case DeliveryState::kUndelivered: return "undelivered";
  }
  return "pending";
}

namespace {

DeliveryState delivery_state_from_text(const std::string& s) {
  if (s == "delivered") return DeliveryState::kDelivered;
  if (s == "undelivered") return DeliveryState::kUndelivered;
  return DeliveryState::kPending;
}

// The active-key index makes "one active alert per dedup key" a database rule, not just a lookup.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS alerts(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  meter TEXT NOT NULL DEFAULT '',
  transformer TEXT NOT NULL DEFAULT '',
  area TEXT NOT NULL DEFAULT '',
  score REAL NOT NULL DEFAULT 0,
  evidence TEXT NOT NULL DEFAULT '[]',
  raised_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  cleared_ms INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'open',
  dedup_key TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_active_key ON alerts(dedup_key) WHERE cleared_ms = 0 AND state <> 'closed';
CREATE INDEX IF NOT EXISTS alerts_by_meter ON alerts(meter, id);
CREATE TABLE IF NOT EXISTS alert_deliveries(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id INTEGER NOT NULL REFERENCES alerts(id),
  notifier TEXT NOT NULL,
  recipient TEXT NOT NULL,
  address TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  delivered_ms INTEGER NOT NULL DEFAULT 0,
  UNIQUE(alert_id, notifier, recipient));
CREATE INDEX IF NOT EXISTS alert_deliveries_due ON alert_deliveries(state, next_attempt_ms);
CREATE TABLE IF NOT EXISTS alert_actions(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id INTEGER NOT NULL REFERENCES alerts(id),
  time_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS alert_actions_by_alert ON alert_actions(alert_id, id);
)sql";

constexpr const char* kAlertColumns =
    "id,kind,meter,transformer,area,score,evidence,raised_ms,updated_ms,cleared_ms,state,dedup_key";

Alert alert_from_row(const Stmt& s) {
  Alert a;
  a.id = s.int64(0);
  a.kind = s.text(1);
  a.meter_id = s.text(2);
  a.transformer_id = s.text(3);
  a.area = s.text(4);
  a.score = s.real(5);
  a.evidence = nlohmann::json::parse(s.text(6), nullptr, false);
  if (a.evidence.is_discarded()) a.evidence = nlohmann::json::array();
  a.raised_ms = s.int64(7);
  a.updated_ms = s.int64(8);
  a.cleared_ms = s.int64(9);
  a.state = alert_state_from_name(s.text(10)).value_or(AlertState::kOpen);
  a.dedup_key = s.text(11);
  return a;
}

constexpr const char* kDeliveryColumns =
    "id,alert_id,notifier,recipient,address,state,attempts,next_attempt_ms,last_error,delivered_ms";

Delivery delivery_from_row(const Stmt& s) {
  Delivery d;
  d.id = s.int64(0);
  d.alert_id = s.int64(1);
  d.notifier = s.text(2);
  d.recipient = s.text(3);
  d.address = s.text(4);
  d.state = delivery_state_from_text(s.text(5));
  d.attempts = static_cast<int>(s.int64(6));
  d.next_attempt_ms = s.int64(7);
  d.last_error = s.text(8);
  d.delivered_ms = s.int64(9);
  return d;
}

}  // namespace

constexpr int64_t kDayMs = 86'400'000;

struct AlertService::Impl {
  AlertServiceOptions options;
  std::mutex mutex;  // guards db (one connection, not thread-safe)
  std::unique_ptr<Db> db;
  std::mutex listeners_mutex;
  std::vector<AlertListener> listeners;
  // When each meter's recent alerts were notified (guarded by mutex), for max_notified_per_meter_per_day.
  std::unordered_map<std::string, std::deque<int64_t>> notified;

  // Whether a new alert of `meter` may notify now; records it when it may. Caller holds mutex.
  bool may_notify(const std::string& meter, int64_t now_ms) {
    const int limit = options.max_notified_per_meter_per_day;
    if (limit <= 0 || meter.empty()) return true;
    auto& times = notified[meter];
    while (!times.empty() && times.front() <= now_ms - kDayMs) times.pop_front();
    if (times.size() >= static_cast<std::size_t>(limit)) return false;
    times.push_back(now_ms);
    return true;
  }

  // The active alert's evidence with `added`'s items appended and numbered, the last kMaxOccurrences kept.
  static nlohmann::json append_occurrences(const std::string& stored, const nlohmann::json& added) {
    nlohmann::json items = nlohmann::json::parse(stored, nullptr, false);
    if (!items.is_array()) items = nlohmann::json::array();
    int64_t last = 0;
    for (const auto& item : items) {
      if (item.is_object() && item.contains("occurrence") && item["occurrence"].is_number_integer()) {
        last = std::max(last, item["occurrence"].get<int64_t>());
      }
    }
    if (last == 0) last = static_cast<int64_t>(items.size());  // stored before occurrences were numbered
    for (auto item : added.is_array() ? added : nlohmann::json::array({added})) {
      if (item.is_object()) item["occurrence"] = ++last;
      items.push_back(std::move(item));
    }
    while (items.size() > kMaxOccurrences) items.erase(items.begin());
    return items;
  }

  int64_t now() const { return options.now_ms(); }  // or_system_clock'ed by open()

  void log_error(const std::string& what, const Error& st) { spdlog::error("alerts: {}: {}", what, st.message); }

  // Caller holds mutex.
  bool insert_action(int64_t alert_id, const AlertAction& a) {
    auto s = db->prepare("INSERT INTO alert_actions(alert_id,time_ms,actor,action,detail) VALUES(?,?,?,?,?)");
    if (!s.ok()) return log_error("prepare action", s.error()), false;
    s->bind(1, alert_id);
    s->bind(2, a.time_ms);
    s->bind(3, a.actor);
    s->bind(4, a.action);
    s->bind(5, a.detail);
    if (s->step() != SQLITE_DONE) return log_error("insert action", db->last_error("insert action")), false;
    return true;
  }

  std::vector<Delivery> deliveries_locked(int64_t alert_id) {
    std::vector<Delivery> out;
    static const std::string kSql =
        std::string("SELECT ") + kDeliveryColumns + " FROM alert_deliveries WHERE alert_id=? ORDER BY id";
    auto s = db->prepare(kSql.c_str());
    if (!s.ok()) return out;
    s->bind(1, alert_id);
    while (s->step() == SQLITE_ROW) out.push_back(delivery_from_row(*s));
    return out;
  }

  std::vector<AlertAction> actions_locked(int64_t alert_id) {
    std::vector<AlertAction> out;
    auto s = db->prepare("SELECT time_ms,actor,action,detail FROM alert_actions WHERE alert_id=? ORDER BY id");
    if (!s.ok()) return out;
    s->bind(1, alert_id);
    while (s->step() == SQLITE_ROW) out.push_back({s->int64(0), s->text(1), s->text(2), s->text(3)});
    return out;
  }

  std::optional<Alert> get_locked(int64_t id) {
    static const std::string kSql = std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE id=?";
    auto s = db->prepare(kSql.c_str());
    if (!s.ok()) return std::nullopt;
    s->bind(1, id);
    if (s->step() != SQLITE_ROW) return std::nullopt;
    Alert a = alert_from_row(*s);
    a.deliveries = deliveries_locked(id);
    a.actions = actions_locked(id);
    return a;
  }

  Expected<void> set_state(int64_t id, AlertState to, const std::string& user, const std::string& note) {
    std::lock_guard lock(mutex);
    const auto current = get_locked(id);
    if (!current) return Error::not_found("no alert " + std::to_string(id));
    if (current->state == AlertState::kClosed) {
      return Error::invalid("id", std::to_string(id), "the alert is already closed").because(kAlertAlreadyClosed);
    }
    const int64_t t = now();
    Transaction tx(*db);
    if (auto st = tx.begin_immediate(); !st.ok()) return log_error("begin", st.error()), st.error();
    auto s = db->prepare("UPDATE alerts SET state=?, updated_ms=? WHERE id=?");
    if (!s.ok()) return s.error();
    s->bind(1, alert_state_name(to));
    s->bind(2, t);
    s->bind(3, id);
    if (s->step() != SQLITE_DONE) return Error::io("updating alert " + std::to_string(id) + " failed");
    if (!insert_action(id, {t, user, to == AlertState::kClosed ? "close" : "acknowledge", note}))
      return Error::io("recording the action on alert " + std::to_string(id) + " failed");
    if (auto st = tx.commit(); !st.ok()) return log_error("commit", st.error()), st.error();
    return {};
  }
};

AlertService::AlertService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AlertService::~AlertService() = default;

Expected<std::unique_ptr<AlertService>> AlertService::open(AlertServiceOptions options) {
  auto im = std::make_unique<Impl>();
  im->options = std::move(options);
  im->options.now_ms = or_system_clock(std::move(im->options.now_ms));
  // Generous busy timeout: the reading store's writer commits batches on the same file.
  auto db = Db::open(im->options.database_path, 10'000);
  if (!db.ok()) return Error::io(db.error().message).at(im->options.database_path);
  im->db = std::move(db.value());
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"}) {
    if (auto st = im->db->exec(pragma); !st.ok()) return Error::io(st.error().message).at(im->options.database_path);
  }
  if (auto st = im->db->exec(kSchema); !st.ok()) {
    return Error::io("alert tables: " + st.error().message).at(im->options.database_path);
  }
  return std::unique_ptr<AlertService>(new AlertService(std::move(im)));
}

std::string AlertService::default_dedup_key(const NewAlert& alert) {
  return alert.kind + "|" + alert.meter_id + "|" + alert.transformer_id;
}

int64_t AlertService::now_ms() const { return impl_->now(); }

int64_t AlertService::raise(const NewAlert& in) {
  Impl& im = *impl_;
  const std::string key = in.dedup_key.empty() ? default_dedup_key(in) : in.dedup_key;
  const int64_t now = im.now();
  const int64_t t = in.raised_ms > 0 ? in.raised_ms : now;
  const std::string evidence = in.evidence.dump();
  int64_t id = 0;
  bool created = false;
  {
    std::lock_guard lock(im.mutex);
    Transaction tx(*im.db);
    if (auto st = tx.begin_immediate(); !st.ok()) return im.log_error("raise: begin", st.error()), 0;
    std::string stored_evidence;
    {
      auto s = im.db->prepare("SELECT id, evidence FROM alerts WHERE dedup_key=? AND cleared_ms=0 AND state<>'closed'");
      if (!s.ok()) return im.log_error("raise: prepare", s.error()), 0;
      s->bind(1, key);
      if (s->step() == SQLITE_ROW) {
        id = s->int64(0);
        stored_evidence = s->text(1);
      }
    }
    if (id != 0) {
      auto s = im.db->prepare("UPDATE alerts SET score=?, evidence=?, updated_ms=MAX(updated_ms, ?) WHERE id=?");
      if (!s.ok()) return im.log_error("raise: prepare", s.error()), 0;
      s->bind(1, in.score);
      s->bind(2, in.occurrence ? Impl::append_occurrences(stored_evidence, in.evidence).dump() : evidence);
      s->bind(3, t);
      s->bind(4, id);
      if (s->step() != SQLITE_DONE) return im.log_error("raise: update", im.db->last_error("update")), 0;
    } else {
      auto s = im.db->prepare(
          "INSERT INTO alerts(kind,meter,transformer,area,score,evidence,raised_ms,updated_ms,dedup_key) "
          "VALUES(?,?,?,?,?,?,?,?,?)");
      if (!s.ok()) return im.log_error("raise: prepare", s.error()), 0;
      s->bind(1, in.kind);
      s->bind(2, in.meter_id);
      s->bind(3, in.transformer_id);
      s->bind(4, in.area);
      s->bind(5, in.score);
      s->bind(6, in.occurrence ? Impl::append_occurrences("[]", in.evidence).dump() : evidence);
      s->bind(7, t);
      s->bind(8, t);
      s->bind(9, key);
      if (s->step() != SQLITE_DONE) return im.log_error("raise: insert", im.db->last_error("insert")), 0;
      id = im.db->last_insert_rowid();
      created = true;
      // The outbox rows go in with the alert: a crash cannot leave an alert nobody will be told of.
      auto recipients = im.options.recipients ? im.options.recipients(in.area) : std::vector<Recipient>{};
      if (!recipients.empty() && !im.may_notify(in.meter_id, now)) {
        recipients.clear();
        const std::string limit = std::to_string(im.options.max_notified_per_meter_per_day);
        if (!im.insert_action(id, {now, "system", "not_notified",
                                   "meter " + in.meter_id + " had " + limit + " notified alerts in 24 h"})) {
          return 0;
        }
      }
      for (const Recipient& r : recipients) {
        auto d = im.db->prepare(
            "INSERT OR IGNORE INTO alert_deliveries(alert_id,notifier,recipient,address,next_attempt_ms) "
            "VALUES(?,?,?,?,?)");
        if (!d.ok()) return im.log_error("raise: prepare", d.error()), 0;
        d->bind(1, id);
        d->bind(2, r.notifier);
        d->bind(3, r.name.empty() ? r.address : r.name);
        d->bind(4, r.address);
        d->bind(5, now);
        if (d->step() != SQLITE_DONE) return im.log_error("raise: outbox", im.db->last_error("outbox")), 0;
      }
    }
    if (auto st = tx.commit(); !st.ok()) return im.log_error("raise: commit", st.error()), 0;
  }
  if (created) {
    spdlog::warn("alert {}: {} meter={} transformer={} area={} score={:.3g}", id, in.kind, in.meter_id,
                 in.transformer_id, in.area, in.score);
    std::vector<AlertListener> listeners;
    {
      std::lock_guard lock(im.listeners_mutex);
      listeners = im.listeners;
    }
    if (!listeners.empty()) {
      if (auto a = get(id)) {
        for (const auto& l : listeners) {
          try {
            l(*a);
          } catch (const std::exception& e) {
            spdlog::error("alerts: listener failed for alert {}: {}", id, e.what());
          }
        }
      }
    }
  }
  return id;
}

void AlertService::clear(const std::string& dedup_key, int64_t t_ms) {
  Impl& im = *impl_;
  std::lock_guard lock(im.mutex);
  Transaction tx(*im.db);
  if (auto st = tx.begin_immediate(); !st.ok()) return im.log_error("clear: begin", st.error());
  int64_t id = 0;
  std::string kind;
  {
    auto s = im.db->prepare("SELECT id,kind FROM alerts WHERE dedup_key=? AND cleared_ms=0 AND state<>'closed'");
    if (!s.ok()) return im.log_error("clear: prepare", s.error());
    s->bind(1, dedup_key);
    if (s->step() != SQLITE_ROW) return;
    id = s->int64(0);
    kind = s->text(1);
  }
  const int64_t t = t_ms > 0 ? t_ms : im.now();
  // An offline alert is over when the meter is back; tamper alerts stay for the reader to close.
  const bool close = kind == "offline";
  auto s = im.db->prepare(
      "UPDATE alerts SET cleared_ms=?, updated_ms=MAX(updated_ms, ?), state=CASE WHEN ? THEN 'closed' ELSE state END "
      "WHERE id=?");
  if (!s.ok()) return im.log_error("clear: prepare", s.error());
  s->bind(1, t);
  s->bind(2, t);
  s->bind(3, close ? 1 : 0);
  s->bind(4, id);
  if (s->step() != SQLITE_DONE) return im.log_error("clear", im.db->last_error("clear"));
  if (!im.insert_action(id, {t, "system", "clear", close ? "condition ended; closed" : "condition ended"})) return;
  if (auto st = tx.commit(); !st.ok()) im.log_error("clear: commit", st.error());
}

std::vector<Alert> AlertService::list(const AlertQuery& q) {
  Impl& im = *impl_;
  std::vector<Alert> out;
  if (q.only_meters && q.only_meters->empty()) return out;
  if (q.only_kinds && q.only_kinds->empty()) return out;
  std::string sql = std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE 1=1";
  std::vector<std::string> binds;
  if (!q.meter_id.empty()) sql += " AND meter=?", binds.push_back(q.meter_id);
  if (!q.transformer_id.empty()) sql += " AND transformer=?", binds.push_back(q.transformer_id);
  if (!q.area.empty()) sql += " AND area=?", binds.push_back(q.area);
  if (q.state) sql += " AND state=?", binds.push_back(alert_state_name(*q.state));
  const auto add_in = [&](const char* column, const std::vector<std::string>& values) {
    sql += std::string(" AND ") + column + " IN (";
    for (std::size_t i = 0; i < values.size(); ++i) {
      sql += i ? ",?" : "?";
      binds.push_back(values[i]);
    }
    sql += ")";
  };
  if (q.only_meters) add_in("meter", *q.only_meters);
  if (q.only_kinds) add_in("kind", *q.only_kinds);
  sql += " ORDER BY id DESC LIMIT " + std::to_string(q.limit);
  std::lock_guard lock(im.mutex);
  auto s = im.db->prepare_once(sql);
  if (!s.ok()) {
    im.log_error("list", s.error());
    return out;
  }
  for (std::size_t i = 0; i < binds.size(); ++i) s->bind(static_cast<int>(i + 1), binds[i]);
  while (s->step() == SQLITE_ROW) out.push_back(alert_from_row(*s));
  for (Alert& a : out) {
    a.deliveries = im.deliveries_locked(a.id);
    a.actions = im.actions_locked(a.id);
  }
  return out;
}

std::optional<Alert> AlertService::get(int64_t id) {
  std::lock_guard lock(impl_->mutex);
  return impl_->get_locked(id);
}

Expected<void> AlertService::acknowledge(int64_t id, const std::string& user, const std::string& note) {
  return impl_->set_state(id, AlertState::kAcknowledged, user, note);
}

Expected<void> AlertService::close(int64_t id, const std::string& user, const std::string& note) {
  return impl_->set_state(id, AlertState::kClosed, user, note);
}

void AlertService::add_action(int64_t id, const AlertAction& action) {
  std::lock_guard lock(impl_->mutex);
  impl_->insert_action(id, action);
}

namespace {

// " AND kind IN (?,...)" for the consumer's kinds; bind_consumer_kinds() fills them from parameter `first` on.
std::string consumer_kinds_clause() {
  std::string sql = " AND kind IN (";
  for (std::size_t i = 0; i < consumer_visible_kinds().size(); ++i) sql += i ? ",?" : "?";
  return sql + ")";
}

void bind_consumer_kinds(storage::Stmt& s, int first) {
  for (const std::string& kind : consumer_visible_kinds()) s.bind(first++, kind);
}

}  // namespace

std::map<std::string, int> AlertService::open_counts(bool consumer_view) {
  Impl& im = *impl_;
  std::map<std::string, int> out;
  std::lock_guard lock(im.mutex);
  // Built once, so that the statements are cached like every other (prepare needs stable text).
  static const std::string kAll =
      "SELECT meter, COUNT(*) FROM alerts WHERE state<>'closed' AND meter<>'' GROUP BY meter";
  static const std::string kConsumer = "SELECT meter, COUNT(*) FROM alerts WHERE state<>'closed' AND meter<>''" +
                                       consumer_kinds_clause() + " GROUP BY meter";
  auto s = im.db->prepare(consumer_view ? kConsumer.c_str() : kAll.c_str());
  if (!s.ok()) return out;
  if (consumer_view) bind_consumer_kinds(*s, 1);
  while (s->step() == SQLITE_ROW) out[s->text(0)] = static_cast<int>(s->int64(1));
  return out;
}

int AlertService::open_count(const std::string& meter_id, bool consumer_view) {
  Impl& im = *impl_;
  std::lock_guard lock(im.mutex);
  static const std::string kAll = "SELECT COUNT(*) FROM alerts WHERE state<>'closed' AND meter=?";
  static const std::string kConsumer = kAll + consumer_kinds_clause();
  auto s = im.db->prepare(consumer_view ? kConsumer.c_str() : kAll.c_str());
  if (!s.ok()) return 0;
  s->bind(1, meter_id);
  if (consumer_view) bind_consumer_kinds(*s, 2);
  return s->step() == SQLITE_ROW ? static_cast<int>(s->int64(0)) : 0;
}

void AlertService::add_listener(AlertListener listener) {
  std::lock_guard lock(impl_->listeners_mutex);
  impl_->listeners.push_back(std::move(listener));
}

std::vector<Delivery> AlertService::due_deliveries(int64_t now_ms, std::size_t limit) {
  Impl& im = *impl_;
  std::vector<Delivery> out;
  static const std::string kSql = std::string("SELECT ") + kDeliveryColumns +
                                  " FROM alert_deliveries WHERE state='pending' AND next_attempt_ms<=? "
                                  "ORDER BY next_attempt_ms, id LIMIT ?";
  std::lock_guard lock(im.mutex);
  auto s = im.db->prepare(kSql.c_str());
  if (!s.ok()) return out;
  s->bind(1, now_ms);
  s->bind(2, static_cast<int64_t>(limit));
  while (s->step() == SQLITE_ROW) out.push_back(delivery_from_row(*s));
  return out;
}

bool AlertService::mark_delivered(int64_t delivery_id, int64_t t_ms) {
  Impl& im = *impl_;
  std::lock_guard lock(im.mutex);
  auto s = im.db->prepare(
      "UPDATE alert_deliveries SET state='delivered', attempts=attempts+1, delivered_ms=?, last_error='' "
      "WHERE id=? AND state='pending'");
  if (!s.ok()) return false;
  s->bind(1, t_ms);
  s->bind(2, delivery_id);
  if (s->step() != SQLITE_DONE) {
    im.log_error("mark delivered", im.db->last_error("mark delivered"));
    return false;
  }
  return im.db->changes() == 1;
}

void AlertService::mark_failed(int64_t delivery_id, const std::string& error, int64_t next_attempt_ms, bool give_up) {
  Impl& im = *impl_;
  std::lock_guard lock(im.mutex);
  auto s = im.db->prepare(
      "UPDATE alert_deliveries SET state=?, attempts=attempts+1, next_attempt_ms=?, last_error=? "
      "WHERE id=? AND state='pending'");
  if (!s.ok()) return;
  s->bind(1, give_up ? "undelivered" : "pending");
  s->bind(2, next_attempt_ms);
  s->bind(3, error.substr(0, 500));
  s->bind(4, delivery_id);
  if (s->step() != SQLITE_DONE) im.log_error("mark failed", im.db->last_error("mark failed"));
}

std::vector<Delivery> AlertService::deliveries_of(int64_t alert_id) {
  std::lock_guard lock(impl_->mutex);
  return impl_->deliveries_locked(alert_id);
}

}  // namespace wattguard::alerts
