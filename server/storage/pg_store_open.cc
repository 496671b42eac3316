// Opening a PgStore: connecting (naming host and port when PostgreSQL is not there), migrating, the
// partitions ahead; the connection pool, meter keys and errors shared by its other source files.
#include <libpq-fe.h>

#include <algorithm>

#include "server/storage/pg_store_impl.h"
#include "wattguard/base/clock.h"

namespace wattguard::storage {
namespace {

// "PostgreSQL at host:port, database d", from the connection string (libpq's defaults where it names none).
std::string describe_conninfo(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (opts == nullptr) {
    std::string why = err != nullptr ? err : "unparsable";
    PQfreemem(err);
    return "PostgreSQL (connection string not understood: " + why + ")";
  }
  std::string host, port, dbname;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    const std::string key = o->keyword;
    const std::string value = o->val != nullptr ? o->val : "";
    if (key == "host" || (key == "hostaddr" && host.empty())) host = value;
    if (key == "port") port = value;
    if (key == "dbname") dbname = value;
  }
  PQconninfoFree(opts);
  if (host.empty()) host = "the local socket";
  if (port.empty()) port = "5432";
  std::string out = "PostgreSQL at " + host + ":" + port;
  if (!dbname.empty()) out += ", database " + dbname;
  return out;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

protocol::Reading row_to_reading(const pqxx::row& row, int c, int64_t* received_ms) {
  protocol::Reading r;
  r.seq = static_cast<uint64_t>(i64(row[c++]));
  r.time_ms = i64(row[c++]);
  for (double* v : {&r.vrms, &r.irms, &r.p_w, &r.s_va, &r.q_var, &r.pf, &r.freq_hz, &r.e_import_wh, &r.e_export_wh}) {
    *v = f64(row[c++]);
  }
  r.flags = static_cast<uint32_t>(i64(row[c++]));
  if (received_ms != nullptr) *received_ms = i64(row[c]);
  return r;
}

Error PgStore::Impl::error_of(const std::exception& e, std::string_view what) const {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return Error::io(std::string(what) + ": lost the connection to " + where + ": " + trimmed(e.what()));
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    // 42P01 undefined_table, 42703 undefined_column: not the database this build wrote.
    if (sql->sqlstate() == "42P01" || sql->sqlstate() == "42703") {
      return Error::corruption(std::string(what) + " on " + where + ": " + trimmed(e.what()));
    }
  }
  return Error::io(std::string(what) + " on " + where + ": " + trimmed(e.what()));
}

Expected<std::unique_ptr<pqxx::connection>> PgStore::Impl::connect() const {
  try {
    return std::make_unique<pqxx::connection>(options.conninfo);
  } catch (const std::exception& e) {
    return Error::io("cannot connect to " + where + ": " + trimmed(e.what()));
  }
}

PgStore::Impl::Lease::Lease(Impl& impl) : impl_(impl) {
  std::unique_lock lk(impl_.pool_mu);
  impl_.pool_cv.wait(lk, [&] { return !impl_.idle_readers.empty(); });
  conn_ = std::move(impl_.idle_readers.back());
  impl_.idle_readers.pop_back();
}

PgStore::Impl::Lease::~Lease() {
  {
    std::lock_guard lk(impl_.pool_mu);
    impl_.idle_readers.push_back(std::move(conn_));
  }
  impl_.pool_cv.notify_one();
}

Expected<pqxx::connection*> PgStore::Impl::Lease::conn() {
  if (!conn_ || !conn_->is_open()) {
    auto c = impl_.connect();
    if (!c.ok()) return c.error();
    conn_ = std::move(c.value());
  }
  return conn_.get();
}

Expected<pqxx::connection*> PgStore::Impl::writer_conn() {
  if (!writer || !writer->is_open()) {
    auto c = connect();
    if (!c.ok()) return c.error();
    writer = std::move(c.value());
    prepare_writer_statements(*writer);
    tails.clear();  // another server may have written while we were away
  }
  return writer.get();
}

std::optional<int64_t> PgStore::Impl::cached_key(std::string_view id) {
  std::shared_lock lk(keys_mu);
  auto it = keys.find(std::string(id));
  if (it == keys.end()) return std::nullopt;
  return it->second;
}

void PgStore::Impl::remember_key(const std::string& id, int64_t key) {
  std::unique_lock lk(keys_mu);
  keys.emplace(id, key);
}

Expected<int64_t> PgStore::Impl::key_of(pqxx::transaction_base& txn, std::string_view id) {
  if (auto k = cached_key(id)) return *k;
  const pqxx::result r = txn.exec_params("SELECT key FROM meters WHERE id=$1", std::string(id));
  if (r.empty()) return Error::not_found("unknown meter " + std::string(id));
  const int64_t key = i64(r[0][0]);
  remember_key(std::string(id), key);
  return key;
}

Expected<std::unique_ptr<PgStore>> PgStore::open(const PgOptions& options) {
  if (options.reader_connections < 1 || options.reader_connections > 64) {
    return Error::invalid("reader_connections", std::to_string(options.reader_connections),
                          "reader connections must be from 1 to 64");
  }
  if (options.partitions_ahead_months < 0 || options.partitions_ahead_months > 120) {
    return Error::invalid("partitions_ahead_months", std::to_string(options.partitions_ahead_months),
                          "partitions ahead must be from 0 to 120 months");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->where = describe_conninfo(options.conninfo);
  auto writer = impl->connect();
  if (!writer.ok()) return writer.error();
  impl->writer = std::move(writer.value());
  auto migrated = impl->guarded("migrating the schema", [&]() -> Expected<void> {
    Impl::prepare_writer_statements(*impl->writer);
    if (auto s = migrate_pg_schema(*impl->writer, kSchemaVersion); !s.ok()) {
      Error e = s.error();
      e.message += " (" + impl->where + ")";
      return e;
    }
    impl->load_partitions(*impl->writer);
    std::set<int64_t> ahead;
    const int64_t now = month_of(system_now_ms());
    for (int64_t m = now; m <= now + options.partitions_ahead_months; ++m) ahead.insert(m);
    impl->ensure_partitions(*impl->writer, ahead);
    return {};
  });
  if (!migrated.ok()) return migrated.error();
  for (int i = 0; i < options.reader_connections; ++i) {
    auto c = impl->connect();
    if (!c.ok()) return c.error();
    impl->idle_readers.push_back(std::move(c.value()));
  }
  return std::unique_ptr<PgStore>(new PgStore(std::move(impl)));
}

PgStore::PgStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PgStore::~PgStore() = default;

Expected<std::vector<std::string>> PgStore::reading_partitions() {
  std::lock_guard lk(impl_->write_mu);
  return impl_->guarded("listing partitions", [&]() -> Expected<std::vector<std::string>> {
    auto conn = impl_->writer_conn();
    if (!conn.ok()) return conn.error();
    impl_->load_partitions(*conn.value());
    std::vector<std::string> out;
    for (int64_t m : impl_->partitions) out.push_back(partition_name(m));
    return out;
  });
}

}  // namespace wattguard::storage
