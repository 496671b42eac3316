// PgStore's state and what its source files share: connections (one writer, a pool of readers, reopened
// when broken), meter keys, the writer's per-meter tails, the readings partitions, and turning libpqxx's
// exceptions into Error. Private to server/storage.
#pragma once

#include <charconv>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wattguard/storage/pg_store.h"

namespace wattguard::storage {

// The newest reading of a meter as the writer knows it (rollback and late detection).
struct PgTail {
  bool has = false;
  int64_t time_ms = 0;
  uint64_t seq = 0;
  double imp = 0, exp = 0;
};

// The columns of a reading row after (meter), in the order row_to_reading reads them.
inline constexpr const char* kPgReadingColumns =
    "seq,time_ms,vrms,irms,p_w,s_va,q_var,pf,freq_hz,e_import_wh,e_export_wh,flags,received_ms";

// A non-null numeric field, parsed with from_chars: libpqxx 6's as<double>() goes through a string stream,
// which made a 1,000-point month query spend most of its time parsing.
inline double f64(const pqxx::field& f) {
  double v = 0;
  const char* s = f.c_str();
  std::from_chars(s, s + f.size(), v);
  return v;
}
inline int64_t i64(const pqxx::field& f) {
  int64_t v = 0;
  const char* s = f.c_str();
  std::from_chars(s, s + f.size(), v);
  return v;
}

// Reads kPgReadingColumns from row columns [c, c + 13); *received_ms gets the last one if not null.
protocol::Reading row_to_reading(const pqxx::row& row, int c, int64_t* received_ms);

// Months are counted as year * 12 + (month - 1), UTC; a partition holds one month of readings by time_ms.
int64_t month_of(int64_t time_ms);
int64_t month_start_ms(int64_t month);
std::string partition_name(int64_t month);  // readings_pYYYYMM

// The schema migrations (pg_schema.cc): applies the missing ones, refuses a newer schema (kCorruption).
Expected<void> migrate_pg_schema(pqxx::connection& conn, int newest_version);

struct PgStore::Impl {
  PgOptions options;
  std::string where;  // "PostgreSQL at host:port, database d": named by every connection error

  std::mutex write_mu;
  std::unique_ptr<pqxx::connection> writer;   // guarded by write_mu
  std::unordered_map<int64_t, PgTail> tails;  // guarded by write_mu; dropped when a write fails
  std::set<int64_t> partitions;               // months with a partition; guarded by write_mu

  std::mutex pool_mu;
  std::condition_variable pool_cv;
  std::vector<std::unique_ptr<pqxx::connection>> idle_readers;  // guarded by pool_mu; null = to reconnect

  // Meter id <-> key. Meters are never deleted, so entries never go stale; a miss is looked up.
  std::shared_mutex keys_mu;
  std::unordered_map<std::string, int64_t> keys;  // guarded by keys_mu

  // A new connection, or kIoError naming `where`.
  Expected<std::unique_ptr<pqxx::connection>> connect() const;
  // kIoError (or kCorruption for data that is not ours) for an exception thrown while doing `what`.
  Error error_of(const std::exception& e, std::string_view what) const;

  // Runs f (returning Expected<T>), turning what libpqxx throws into an Error.
  template <class F>
  auto guarded(std::string_view what, F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const std::exception& e) {
      return error_of(e, what);
    }
  }

  // A reader connection for the duration of one call; waits while all are leased.
  class Lease {
   public:
    explicit Lease(Impl& impl);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    // The connection, reopened first if it broke. kIoError if PostgreSQL cannot be reached.
    Expected<pqxx::connection*> conn();

   private:
    Impl& impl_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  // The writer connection, reopened first if it broke. REQUIRES: write_mu held.
  Expected<pqxx::connection*> writer_conn();
  // Declares append_readings' statements on a new writer connection (libpqxx prepares each on its first use,
  // and again after it reconnects by itself). Throws what libpqxx throws.
  static void prepare_writer_statements(pqxx::connection& conn);

  std::optional<int64_t> cached_key(std::string_view id);
  void remember_key(const std::string& id, int64_t key);
  // The meter's key: kNotFound if it is not provisioned. Throws what libpqxx throws.
  Expected<int64_t> key_of(pqxx::transaction_base& txn, std::string_view id);

  // Readings of unknown meters are refused (into result->refused) and dropped from *order; the others get
  // their key in *keys. Throws what libpqxx throws.
  Expected<void> resolve_keys(pqxx::connection& conn, std::span<const protocol::Reading> readings,
                              std::vector<uint32_t>* order, std::vector<int64_t>* keys, AppendResult* result);

  // Reads which months have a partition. REQUIRES: write_mu held. Throws what libpqxx throws.
  void load_partitions(pqxx::connection& conn);
  // Creates the partitions of these months that are missing, each in its own committed transaction (so a
  // batch's transaction never holds the parent table's DDL lock). REQUIRES: write_mu held. Throws.
  void ensure_partitions(pqxx::connection& conn, const std::set<int64_t>& months);
};

}  // namespace wattguard::storage
