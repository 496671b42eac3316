// AccountStore on SQLite. The ledger's append-only rule and the payments' uniqueness are database rules
// (triggers and a partial unique index), so no code path, present or future, can break them.
#include "wattguard/accounts/account_store.h"

#include <sstream>

namespace wattguard::accounts {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS account_settings(
  meter TEXT PRIMARY KEY,
  tariff TEXT NOT NULL DEFAULT '',
  prepaid INTEGER NOT NULL DEFAULT 0,
  protected INTEGER NOT NULL DEFAULT 0,
  budget_kwh TEXT NOT NULL DEFAULT '',
  budget_money TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  webhook_url TEXT NOT NULL DEFAULT '',
  opt_out TEXT NOT NULL DEFAULT '',
  updated_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS bills(
  meter TEXT NOT NULL,
  cycle TEXT NOT NULL,
  tariff_version TEXT NOT NULL,
  currency TEXT NOT NULL,
  total_minor INTEGER NOT NULL,
  json TEXT NOT NULL,
  csv TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY(meter, cycle));
CREATE TABLE IF NOT EXISTS ledger(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  meter TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('charge', 'topup', 'payment', 'adjustment')),
  amount_minor INTEGER NOT NULL,
  currency TEXT NOT NULL,
  cycle TEXT NOT NULL DEFAULT '',
  reference TEXT NOT NULL DEFAULT '',
  actor TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS ledger_by_meter ON ledger(meter, id);
CREATE UNIQUE INDEX IF NOT EXISTS ledger_payment_reference ON ledger(reference) WHERE kind = 'payment';
CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE ON ledger
  BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON ledger
  BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TABLE IF NOT EXISTS consumer_notices(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  meter TEXT NOT NULL,
  cycle TEXT NOT NULL,
  kind TEXT NOT NULL,
  threshold TEXT NOT NULL,
  text TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  UNIQUE(meter, cycle, kind, threshold));
CREATE INDEX IF NOT EXISTS consumer_notices_by_meter ON consumer_notices(meter, id);
CREATE TABLE IF NOT EXISTS notice_deliveries(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  notice_id INTEGER NOT NULL REFERENCES consumer_notices(id),
  notifier TEXT NOT NULL,
  address TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  delivered_ms INTEGER NOT NULL DEFAULT 0,
  UNIQUE(notice_id, notifier, address));
CREATE INDEX IF NOT EXISTS notice_deliveries_due ON notice_deliveries(state, next_attempt_ms);
CREATE TABLE IF NOT EXISTS credit_disconnects(
  meter TEXT PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  command_id TEXT NOT NULL DEFAULT '');
)sql";

constexpr const char* kSettingsColumns =
    "meter, tariff, prepaid, protected, budget_kwh, budget_money, phone, webhook_url, opt_out, updated_ms";
constexpr const char* kLedgerColumns =
    "id, meter, time_ms, kind, amount_minor, currency, cycle, reference, actor, note";
constexpr const char* kDeliveryColumns =
    "id, notice_id, notifier, address, state, attempts, next_attempt_ms, last_error, delivered_ms";

std::set<std::string> split_kinds(const std::string& text) {
  std::set<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.insert(item);
  }
  return out;
}

std::string join_kinds(const std::set<std::string>& kinds) {
  std::string out;
  for (const auto& k : kinds) out += (out.empty() ? "" : ",") + k;
  return out;
}

AccountSettings settings_from_row(const storage::Stmt& s) {
  AccountSettings a;
  a.meter = s.text(0);
  a.tariff = s.text(1);
  a.prepaid = s.int64(2) != 0;
  a.protected_supply = s.int64(3) != 0;
  a.budget_kwh = s.text(4);
  a.budget_money = s.text(5);
  a.phone = s.text(6);
  a.webhook_url = s.text(7);
  a.opt_out = split_kinds(s.text(8));
  a.updated_ms = s.int64(9);
  return a;
}

std::optional<LedgerKind> ledger_kind_from_name(const std::string& name) {
  for (LedgerKind k : {LedgerKind::kCharge, LedgerKind::kTopup, LedgerKind::kPayment, LedgerKind::kAdjustment}) {
    if (name == ledger_kind_name(k)) return k;
  }
  return std::nullopt;
}

LedgerEntry ledger_from_row(const storage::Stmt& s) {
  LedgerEntry e;
  e.id = s.int64(0);
  e.meter = s.text(1);
  e.time_ms = s.int64(2);
  e.kind = ledger_kind_from_name(s.text(3)).value_or(LedgerKind::kAdjustment);
  e.amount_minor = s.int64(4);
  e.currency = s.text(5);
  e.cycle = s.text(6);
  e.reference = s.text(7);
  e.actor = s.text(8);
  e.note = s.text(9);
  return e;
}

StoredBill bill_from_row(const storage::Stmt& s) {
  StoredBill b;
  b.meter = s.text(0);
  b.cycle = s.text(1);
  b.tariff_version = s.text(2);
  b.currency = s.text(3);
  b.total_minor = s.int64(4);
  b.json = s.text(5);
  b.csv = s.text(6);
  b.created_ms = s.int64(7);
  return b;
}

Notice notice_from_row(const storage::Stmt& s) {
  Notice n;
  n.id = s.int64(0);
  n.meter = s.text(1);
  n.cycle = s.text(2);
  n.kind = s.text(3);
  n.threshold = s.text(4);
  n.text = s.text(5);
  n.created_ms = s.int64(6);
  return n;
}

NoticeDelivery delivery_from_row(const storage::Stmt& s) {
  NoticeDelivery d;
  d.id = s.int64(0);
  d.notice_id = s.int64(1);
  d.notifier = s.text(2);
  d.address = s.text(3);
  d.state = s.text(4);
  d.attempts = static_cast<int>(s.int64(5));
  d.next_attempt_ms = s.int64(6);
  d.last_error = s.text(7);
  d.delivered_ms = s.int64(8);
  return d;
}

// Runs a query and collects its rows.
template <typename Row, typename Bind>
Expected<std::vector<Row>> collect(storage::Db& db, const std::string& sql, Bind bind,
                                   Row (*from_row)(const storage::Stmt&)) {
  auto st = db.prepare_once(sql);
  if (!st.ok()) return st.error();
  bind(*st);
  std::vector<Row> out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) out.push_back(from_row(*st));
  if (rc != SQLITE_DONE) return db.error_from(rc, "query");
  return out;
}

// The first row of a query that matches at most one, or nullopt.
template <typename Row>
Expected<std::optional<Row>> first_row(Expected<std::vector<Row>> rows) {
  if (!rows.ok()) return std::move(rows).error();
  if (rows->empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows->front()));
}

}  // namespace

const char* ledger_kind_name(LedgerKind kind) {
  switch (kind) {
    case LedgerKind::kCharge: return "charge";
    case LedgerKind::kTopup: return "topup";
    case LedgerKind::kPayment: return "payment";
    case LedgerKind::kAdjustment: return "adjustment";
  }
  return "adjustment";
}

Expected<std::unique_ptr<AccountStore>> AccountStore::open(const std::string& path) {
  auto db = storage::Db::open(path, 5000);
  if (!db.ok()) return Error::io(db.error().message);
  std::unique_ptr<AccountStore> store(new AccountStore(std::move(db).value()));
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", kSchema}) {
    if (auto s = store->db_->exec(sql); !s.ok()) return Error::io(path + ": " + s.error().message);
  }
  return store;
}

AccountStore::~AccountStore() = default;

Expected<AccountSettings> AccountStore::settings(const std::string& meter) {
  std::lock_guard lock(mutex_);
  auto rows = collect<AccountSettings>(
      *db_, std::string("SELECT ") + kSettingsColumns + " FROM account_settings WHERE meter = ?1",
      [&](storage::Stmt& s) { s.bind(1, meter); }, settings_from_row);
  if (!rows.ok()) return std::move(rows).error();
  if (rows->empty()) {
    AccountSettings defaults;
    defaults.meter = meter;
    return defaults;
  }
  return std::move(rows->front());
}

Expected<std::vector<AccountSettings>> AccountStore::all_settings() {
  std::lock_guard lock(mutex_);
  return collect<AccountSettings>(
      *db_, std::string("SELECT ") + kSettingsColumns + " FROM account_settings ORDER BY meter", [](storage::Stmt&) {},
      settings_from_row);
}

Expected<void> AccountStore::save_settings(const AccountSettings& a) {
  std::lock_guard lock(mutex_);
  auto st = db_->prepare(
      "INSERT INTO account_settings(meter, tariff, prepaid, protected, budget_kwh, budget_money, phone, "
      "webhook_url, opt_out, updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
      "ON CONFLICT(meter) DO UPDATE SET tariff = ?2, prepaid = ?3, protected = ?4, budget_kwh = ?5, "
      "budget_money = ?6, phone = ?7, webhook_url = ?8, opt_out = ?9, updated_ms = ?10");
  if (!st.ok()) return st.error();
  st->bind(1, a.meter);
  st->bind(2, a.tariff);
  st->bind(3, a.prepaid ? 1 : 0);
  st->bind(4, a.protected_supply ? 1 : 0);
  st->bind(5, a.budget_kwh);
  st->bind(6, a.budget_money);
  st->bind(7, a.phone);
  st->bind(8, a.webhook_url);
  st->bind(9, join_kinds(a.opt_out));
  st->bind(10, a.updated_ms);
  return db_->step_done(*st, "save account settings");
}

Expected<void> AccountStore::add_bill(const StoredBill& b) {
  std::lock_guard lock(mutex_);
  auto st = db_->prepare(
      "INSERT INTO bills(meter, cycle, tariff_version, currency, total_minor, json, csv, created_ms) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!st.ok()) return st.error();
  st->bind(1, b.meter);
  st->bind(2, b.cycle);
  st->bind(3, b.tariff_version);
  st->bind(4, b.currency);
  st->bind(5, b.total_minor);
  st->bind(6, b.json);
  st->bind(7, b.csv);
  st->bind(8, b.created_ms);
  return db_->step_done(*st, "store bill " + b.meter + " " + b.cycle);
}

Expected<std::optional<StoredBill>> AccountStore::bill(const std::string& meter, const std::string& cycle) {
  std::lock_guard lock(mutex_);
  return first_row(collect<StoredBill>(
      *db_,
      "SELECT meter, cycle, tariff_version, currency, total_minor, json, csv, created_ms FROM bills "
      "WHERE meter = ?1 AND cycle = ?2",
      [&](storage::Stmt& s) {
        s.bind(1, meter);
        s.bind(2, cycle);
      },
      bill_from_row));
}

Expected<std::vector<StoredBill>> AccountStore::bills(const std::string& meter, std::size_t limit) {
  std::lock_guard lock(mutex_);
  return collect<StoredBill>(
      *db_,
      "SELECT meter, cycle, tariff_version, currency, total_minor, json, csv, created_ms FROM bills "
      "WHERE meter = ?1 ORDER BY cycle DESC LIMIT ?2",
      [&](storage::Stmt& s) {
        s.bind(1, meter);
        s.bind(2, static_cast<int64_t>(limit));
      },
      bill_from_row);
}

Expected<int64_t> AccountStore::append_ledger(const LedgerEntry& e) {
  std::lock_guard lock(mutex_);
  auto st = db_->prepare(
      "INSERT INTO ledger(meter, time_ms, kind, amount_minor, currency, cycle, reference, actor, note) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (!st.ok()) return st.error();
  st->bind(1, e.meter);
  st->bind(2, e.time_ms);
  st->bind(3, ledger_kind_name(e.kind));
  st->bind(4, e.amount_minor);
  st->bind(5, e.currency);
  st->bind(6, e.cycle);
  st->bind(7, e.reference);
  st->bind(8, e.actor);
  st->bind(9, e.note);
  if (auto done = db_->step_done(*st, "ledger entry for " + e.meter); !done.ok()) return std::move(done).error();
  return db_->last_insert_rowid();
}

Expected<std::vector<LedgerEntry>> AccountStore::ledger(const std::string& meter, std::size_t limit) {
  std::lock_guard lock(mutex_);
  return collect<LedgerEntry>(
      *db_, std::string("SELECT ") + kLedgerColumns + " FROM ledger WHERE meter = ?1 ORDER BY id DESC LIMIT ?2",
      [&](storage::Stmt& s) {
        s.bind(1, meter);
        s.bind(2, static_cast<int64_t>(limit));
      },
      ledger_from_row);
}

Expected<std::optional<LedgerEntry>> AccountStore::payment(const std::string& reference) {
  std::lock_guard lock(mutex_);
  return first_row(collect<LedgerEntry>(
      *db_, std::string("SELECT ") + kLedgerColumns + " FROM ledger WHERE kind = 'payment' AND reference = ?1",
      [&](storage::Stmt& s) { s.bind(1, reference); }, ledger_from_row));
}

Expected<int64_t> AccountStore::scalar_locked(const char* sql, const std::string& meter, const std::string* cycle) {
  auto st = db_->prepare(sql);
  if (!st.ok()) return st.error();
  st->bind(1, meter);
  if (cycle != nullptr) st->bind(2, *cycle);
  if (st->step() != SQLITE_ROW) return db_->last_error("ledger query");
  return st->int64(0);
}

Expected<int64_t> AccountStore::balance_minor(const std::string& meter) {
  std::lock_guard lock(mutex_);
  return scalar_locked("SELECT COALESCE(SUM(amount_minor), 0) FROM ledger WHERE meter = ?1", meter, nullptr);
}

Expected<int64_t> AccountStore::last_credit_id(const std::string& meter) {
  std::lock_guard lock(mutex_);
  return scalar_locked("SELECT COALESCE(MAX(id), 0) FROM ledger WHERE meter = ?1 AND kind IN ('topup', 'payment')",
                       meter, nullptr);
}

Expected<int64_t> AccountStore::charged_minor(const std::string& meter, const std::string& cycle) {
  std::lock_guard lock(mutex_);
  return scalar_locked(
      "SELECT -COALESCE(SUM(amount_minor), 0) FROM ledger WHERE meter = ?1 AND kind = 'charge' AND cycle = ?2", meter,
      &cycle);
}

Expected<std::optional<int64_t>> AccountStore::add_notice(
    const Notice& n, const std::vector<std::pair<std::string, std::string>>& deliveries, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  storage::Transaction tx(*db_);
  if (auto begun = tx.begin_immediate(); !begun.ok()) return std::move(begun).error();
  auto st = db_->prepare(
      "INSERT INTO consumer_notices(meter, cycle, kind, threshold, text, created_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
      "ON CONFLICT(meter, cycle, kind, threshold) DO NOTHING");
  if (!st.ok()) return st.error();
  st->bind(1, n.meter);
  st->bind(2, n.cycle);
  st->bind(3, n.kind);
  st->bind(4, n.threshold);
  st->bind(5, n.text);
  st->bind(6, n.created_ms);
  if (auto done = db_->step_done(*st, "notice"); !done.ok()) return std::move(done).error();
  if (db_->changes() == 0) return std::optional<int64_t>();
  const int64_t id = db_->last_insert_rowid();
  for (const auto& [notifier, address] : deliveries) {
    auto d = db_->prepare(
        "INSERT OR IGNORE INTO notice_deliveries(notice_id, notifier, address, next_attempt_ms) "
        "VALUES(?1, ?2, ?3, ?4)");
    if (!d.ok()) return d.error();
    d->bind(1, id);
    d->bind(2, notifier);
    d->bind(3, address);
    d->bind(4, now_ms);
    if (auto done = db_->step_done(*d, "notice delivery"); !done.ok()) return std::move(done).error();
  }
  if (auto committed = tx.commit(); !committed.ok()) return std::move(committed).error();
  return std::optional<int64_t>(id);
}

Expected<std::vector<Notice>> AccountStore::notices(const std::string& meter, std::size_t limit) {
  std::lock_guard lock(mutex_);
  return collect<Notice>(
      *db_,
      "SELECT id, meter, cycle, kind, threshold, text, created_ms FROM consumer_notices WHERE meter = ?1 "
      "ORDER BY id DESC LIMIT ?2",
      [&](storage::Stmt& s) {
        s.bind(1, meter);
        s.bind(2, static_cast<int64_t>(limit));
      },
      notice_from_row);
}

Expected<std::optional<Notice>> AccountStore::notice(int64_t id) {
  std::lock_guard lock(mutex_);
  return first_row(collect<Notice>(
      *db_, "SELECT id, meter, cycle, kind, threshold, text, created_ms FROM consumer_notices WHERE id = ?1",
      [&](storage::Stmt& s) { s.bind(1, id); }, notice_from_row));
}

Expected<std::vector<NoticeDelivery>> AccountStore::due_notice_deliveries(int64_t now_ms, std::size_t limit) {
  std::lock_guard lock(mutex_);
  return collect<NoticeDelivery>(
      *db_,
      std::string("SELECT ") + kDeliveryColumns +
          " FROM notice_deliveries WHERE state = 'pending' AND next_attempt_ms <= ?1 ORDER BY id LIMIT ?2",
      [&](storage::Stmt& s) {
        s.bind(1, now_ms);
        s.bind(2, static_cast<int64_t>(limit));
      },
      delivery_from_row);
}

Expected<std::vector<NoticeDelivery>> AccountStore::deliveries_of(int64_t notice_id) {
  std::lock_guard lock(mutex_);
  return collect<NoticeDelivery>(
      *db_, std::string("SELECT ") + kDeliveryColumns + " FROM notice_deliveries WHERE notice_id = ?1 ORDER BY id",
      [&](storage::Stmt& s) { s.bind(1, notice_id); }, delivery_from_row);
}

Expected<bool> AccountStore::mark_notice_delivered(int64_t delivery_id, int64_t t_ms) {
  std::lock_guard lock(mutex_);
  auto st = db_->prepare(
      "UPDATE notice_deliveries SET state = 'delivered', delivered_ms = ?2, attempts = attempts + 1 "
      "WHERE id = ?1 AND state = 'pending'");
  if (!st.ok()) return st.error();
  st->bind(1, delivery_id);
  st->bind(2, t_ms);
  if (auto done = db_->step_done(*st, "notice delivered"); !done.ok()) return std::move(done).error();
  return db_->changes() > 0;
}

Expected<void> AccountStore::mark_notice_failed(int64_t delivery_id, const std::string& error, int64_t next_attempt_ms,
                                                bool give_up) {
  std::lock_guard lock(mutex_);
  auto st = db_->prepare(
      "UPDATE notice_deliveries SET attempts = attempts + 1, last_error = ?2, next_attempt_ms = ?3, "
      "state = CASE WHEN ?4 THEN 'undelivered' ELSE 'pending' END WHERE id = ?1 AND state = 'pending'");
  if (!st.ok()) return st.error();
  st->bind(1, delivery_id);
  st->bind(2, error);
  st->bind(3, next_attempt_ms);
  st->bind(4, give_up ? 1 : 0);
  return db_->step_done(*st, "notice failed");
}

Expected<void> AccountStore::set_credit_disconnect(const CreditDisconnect& r) {
  std::lock_guard lock(mutex_);
  auto st = db_->prepare(
      "INSERT INTO credit_disconnects(meter, time_ms, command_id) VALUES(?1, ?2, ?3) "
      "ON CONFLICT(meter) DO UPDATE SET time_ms = ?2, command_id = ?3");
  if (!st.ok()) return st.error();
  st->bind(1, r.meter);
  st->bind(2, r.time_ms);
  st->bind(3, r.command_id);
  return db_->step_done(*st, "credit disconnect");
}

Expected<void> AccountStore::clear_credit_disconnect(const std::string& meter) {
  std::lock_guard lock(mutex_);
  auto st = db_->prepare("DELETE FROM credit_disconnects WHERE meter = ?1");
  if (!st.ok()) return st.error();
  st->bind(1, meter);
  return db_->step_done(*st, "credit reconnect");
}

Expected<std::optional<CreditDisconnect>> AccountStore::credit_disconnect(const std::string& meter) {
  std::lock_guard lock(mutex_);
  auto st = db_->prepare("SELECT meter, time_ms, command_id FROM credit_disconnects WHERE meter = ?1");
  if (!st.ok()) return st.error();
  st->bind(1, meter);
  const int rc = st->step();
  if (rc == SQLITE_DONE) return std::optional<CreditDisconnect>();
  if (rc != SQLITE_ROW) return db_->error_from(rc, "credit disconnect");
  return std::optional<CreditDisconnect>(CreditDisconnect{st->text(0), st->int64(1), st->text(2)});
}

}  // namespace wattguard::accounts
