// PgStore::append_readings: one transaction per batch. The (meter, seq) ledger decides which readings are
// new; those are checked for late arrival and register rollbacks, inserted, and added to the four rollup
// tables by one multi-row upsert each, with the batch's rollback events. The statements of every batch are
// prepared once per writer connection: with group commit a batch is often a few readings, and parsing and
// planning six statements of up to 21 array parameters cost more than running them.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>

#include "server/storage/append_checks.h"
#include "server/storage/pg_store_impl.h"
#include "server/storage/rollup.h"
#include "server/storage/sqlite_schema.h"

namespace wattguard::storage {
namespace {

using protocol::Reading;

// A PostgreSQL array literal built one element at a time: a batch goes to the server as a few arrays that
// unnest() turns back into rows, one statement and one round trip however many readings it holds.
class ArrayText {
 public:
  void add(int64_t v) {
    sep();
    text_ += std::to_string(v);
  }
  // The shortest text that reads back as the same double (to_chars' round-trip guarantee; PostgreSQL's
  // float8 input is exact), and much cheaper to write and to parse than 17 fixed digits.
  void add(double v) {
    sep();
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    text_.append(buf, r.ptr);
  }
  std::string done() const { return text_ + "}"; }

 private:
  void sep() {
    if (text_.size() > 1) text_ += ',';
  }
  std::string text_ = "{";
};

// A one-dimensional bigint[] or float8[] in PostgreSQL's binary array format (array_recv: dimensions, element
// type, then each element as length and big-endian bytes), sent as a binary parameter: the server copies
// 8 bytes per value where the text form made it run float8in / int8in on each of a batch's 98 values per
// reading, the largest part of the statements' parsing cost.
class BinaryArray {
 public:
  static constexpr uint32_t kInt8Oid = 20;
  static constexpr uint32_t kFloat8Oid = 701;

  explicit BinaryArray(uint32_t element_oid) : oid_(element_oid) {}
  // A value of the other type would be read as garbage, silently: a bug of ours, thrown (append fails).
  void add(int64_t v) {
    if (oid_ != kInt8Oid) throw std::logic_error("an integer in a float8[] parameter");
    put_element(static_cast<uint64_t>(v));
  }
  void add(double v) {
    if (oid_ != kFloat8Oid) throw std::logic_error("a double in a bigint[] parameter");
    put_element(std::bit_cast<uint64_t>(v));
  }
  pqxx::binarystring done() const {
    std::string out;
    out.reserve(20 + body_.size());
    put32(&out, n_ > 0 ? 1 : 0);  // dimensions (an empty array has none)
    put32(&out, 0);               // no nulls
    put32(&out, oid_);
    if (n_ > 0) {
      put32(&out, n_);
      put32(&out, 1);  // lower bound
    }
    out += body_;
    return pqxx::binarystring(out);
  }

 private:
  static void put32(std::string* out, uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
    out->append(b, 4);
  }
  void put_element(uint64_t v) {
    put32(&body_, 8);
    put32(&body_, static_cast<uint32_t>(v >> 32));
    put32(&body_, static_cast<uint32_t>(v));
    ++n_;
  }
  uint32_t oid_;
  uint32_t n_ = 0;
  std::string body_;
};

struct Accepted {
  int64_t key = 0;
  uint32_t index = 0;
  const Reading* r = nullptr;
};

struct PendingPgEvent {
  int64_t key = 0;
  protocol::MeterEvent event;
};

bool is_newer_than(const Reading& r, const PgTail& tail) {
  return !tail.has || r.time_ms > tail.time_ms || (r.time_ms == tail.time_ms && r.seq > tail.seq);
}

// Time first, then seq: the order in which "newest" and "neighbour" are meant.
bool before(int64_t t1, uint64_t s1, int64_t t2, uint64_t s2) { return t1 < t2 || (t1 == t2 && s1 < s2); }

}  // namespace

Expected<void> PgStore::Impl::resolve_keys(pqxx::connection& conn, std::span<const Reading> readings,
                                           std::vector<uint32_t>* order, std::vector<int64_t>* keys,
                                           AppendResult* result) {
  pqxx::nontransaction txn(conn);
  return resolve_meter_keys(readings, order, keys, result, [&](const std::string& id) { return key_of(txn, id); });
}

namespace {

// Inserts the candidates' (meter, seq) into the ledger; returns the pairs that were not there before.
std::set<std::pair<int64_t, int64_t>> claim_seqs(pqxx::work& txn, const std::vector<Accepted>& candidates) {
  BinaryArray meter(BinaryArray::kInt8Oid), seq(BinaryArray::kInt8Oid), time(BinaryArray::kInt8Oid);
  for (const Accepted& a : candidates) {
    meter.add(a.key);
    seq.add(static_cast<int64_t>(a.r->seq));
    time.add(a.r->time_ms);
  }
  const pqxx::result r = txn.exec_prepared("wg_claim_seqs", meter.done(), seq.done(), time.done());
  std::set<std::pair<int64_t, int64_t>> fresh;
  for (const auto& row : r) fresh.emplace(row[0].as<int64_t>(), row[1].as<int64_t>());
  return fresh;
}

// Loads the newest stored reading of every meter in `keys` that the writer has no tail for.
void load_tails(pqxx::work& txn, const std::set<int64_t>& keys, std::unordered_map<int64_t, PgTail>* tails) {
  ArrayText missing;
  bool any = false;
  for (int64_t k : keys) {
    if (tails->count(k) == 0) {
      missing.add(k);
      any = true;
    }
  }
  if (!any) return;
  const pqxx::result r = txn.exec_params(
      "SELECT k.meter, r.seq, r.time_ms, r.e_import_wh, r.e_export_wh FROM unnest($1::bigint[]) AS k(meter) "
      "LEFT JOIN LATERAL (SELECT seq,time_ms,e_import_wh,e_export_wh FROM readings WHERE meter=k.meter "
      "ORDER BY time_ms DESC, seq DESC LIMIT 1) r ON true",
      missing.done());
  for (const auto& row : r) {
    PgTail t;
    if (!row[1].is_null()) {
      t = PgTail{true, row[2].as<int64_t>(), static_cast<uint64_t>(row[1].as<int64_t>()), row[3].as<double>(),
                 row[4].as<double>()};
    }
    (*tails)[row[0].as<int64_t>()] = t;
  }
}

// A neighbour of a late reading: seq, time, registers.
struct Neighbour {
  uint64_t seq = 0;
  int64_t time_ms = 0;
  double imp = 0, exp = 0;
};

std::optional<Neighbour> stored_neighbour(pqxx::work& txn, int64_t key, int64_t time_ms, bool after) {
  const pqxx::result r =
      txn.exec_params(after ? "SELECT seq,time_ms,e_import_wh,e_export_wh FROM readings WHERE meter=$1 AND time_ms>$2 "
                              "ORDER BY time_ms, seq LIMIT 1"
                            : "SELECT seq,time_ms,e_import_wh,e_export_wh FROM readings WHERE meter=$1 AND time_ms<$2 "
                              "ORDER BY time_ms DESC, seq DESC LIMIT 1",
                      key, time_ms);
  if (r.empty()) return std::nullopt;
  return Neighbour{static_cast<uint64_t>(r[0][0].as<int64_t>()), r[0][1].as<int64_t>(), r[0][2].as<double>(),
                   r[0][3].as<double>()};
}

// A late reading: compares it with its neighbours by time among the stored readings and this batch's
// accepted ones (of the same meter: the last run of `accepted`), in both directions.
void late_rollbacks(pqxx::work& txn, int64_t key, const Reading& r, const std::vector<Accepted>& accepted,
                    std::vector<PendingPgEvent>* events) {
  std::optional<Neighbour> prev = stored_neighbour(txn, key, r.time_ms, false);
  std::optional<Neighbour> next = stored_neighbour(txn, key, r.time_ms, true);
  for (auto it = accepted.rbegin(); it != accepted.rend() && it->key == key; ++it) {
    const Reading& o = *it->r;
    if (o.time_ms < r.time_ms && (!prev || before(prev->time_ms, prev->seq, o.time_ms, o.seq))) {
      prev = Neighbour{o.seq, o.time_ms, o.e_import_wh, o.e_export_wh};
    }
    if (o.time_ms > r.time_ms && (!next || before(o.time_ms, o.seq, next->time_ms, next->seq))) {
      next = Neighbour{o.seq, o.time_ms, o.e_import_wh, o.e_export_wh};
    }
  }
  if (prev) {
    if (auto e = register_rollback(prev->seq, prev->imp, prev->exp, r.seq, r.e_import_wh, r.e_export_wh, r.time_ms,
                                   r.meter_id)) {
      events->push_back({key, std::move(*e)});
    }
  }
  if (next) {
    if (auto e = register_rollback(r.seq, r.e_import_wh, r.e_export_wh, next->seq, next->imp, next->exp, next->time_ms,
                                   r.meter_id)) {
      events->push_back({key, std::move(*e)});
    }
  }
}

void insert_readings(pqxx::work& txn, const std::vector<Accepted>& accepted, int64_t received_ms) {
  constexpr uint32_t kI = BinaryArray::kInt8Oid, kF = BinaryArray::kFloat8Oid;
  std::array<BinaryArray, 14> cols{BinaryArray(kI), BinaryArray(kI), BinaryArray(kI), BinaryArray(kF), BinaryArray(kF),
                                   BinaryArray(kF), BinaryArray(kF), BinaryArray(kF), BinaryArray(kF), BinaryArray(kF),
                                   BinaryArray(kF), BinaryArray(kF), BinaryArray(kI), BinaryArray(kI)};
  for (const Accepted& a : accepted) {
    const Reading& r = *a.r;
    int c = 0;
    cols[c++].add(a.key);
    cols[c++].add(static_cast<int64_t>(r.seq));
    cols[c++].add(r.time_ms);
    for (double v : {r.vrms, r.irms, r.p_w, r.s_va, r.q_var, r.pf, r.freq_hz, r.e_import_wh, r.e_export_wh}) {
      cols[c++].add(v);
    }
    cols[c++].add(static_cast<int64_t>(r.flags));
    cols[c].add(received_ms);
  }
  txn.exec_prepared("wg_insert_readings", cols[0].done(), cols[1].done(), cols[2].done(), cols[3].done(),
                    cols[4].done(), cols[5].done(), cols[6].done(), cols[7].done(), cols[8].done(), cols[9].done(),
                    cols[10].done(), cols[11].done(), cols[12].done(), cols[13].done());
}

// The upsert of one rollup table from arrays: adds each accumulator to its bucket exactly as the SQLite store
// does (sums add, extremes widen, first/last registers move only for earlier/later times).
std::string rollup_upsert_sql(Resolution res) {
  const std::string t = rollup_table(res);
  return "INSERT INTO " + t +
         " AS r(meter,bucket_ms,n,p_sum,p_min,p_max,v_sum,v_min,v_max,i_sum,s_sum,q_sum,pf_sum,f_sum,"
         "first_ms,first_imp,first_exp,last_ms,last_imp,last_exp,flags) SELECT * FROM unnest("
         "$1::bigint[],$2::bigint[],$3::bigint[],$4::float8[],$5::float8[],$6::float8[],$7::float8[],$8::float8[],"
         "$9::float8[],$10::float8[],$11::float8[],$12::float8[],$13::float8[],$14::float8[],$15::bigint[],"
         "$16::float8[],$17::float8[],$18::bigint[],$19::float8[],$20::float8[],$21::bigint[]) "
         "ON CONFLICT(meter,bucket_ms) DO UPDATE SET "
         "n=r.n+excluded.n, p_sum=r.p_sum+excluded.p_sum, p_min=least(r.p_min,excluded.p_min),"
         " p_max=greatest(r.p_max,excluded.p_max), v_sum=r.v_sum+excluded.v_sum, v_min=least(r.v_min,excluded.v_min),"
         " v_max=greatest(r.v_max,excluded.v_max), i_sum=r.i_sum+excluded.i_sum, s_sum=r.s_sum+excluded.s_sum,"
         " q_sum=r.q_sum+excluded.q_sum, pf_sum=r.pf_sum+excluded.pf_sum, f_sum=r.f_sum+excluded.f_sum,"
         // Every right-hand side sees the row as it was before this UPDATE.
         " first_imp=CASE WHEN excluded.first_ms<r.first_ms THEN excluded.first_imp ELSE r.first_imp END,"
         " first_exp=CASE WHEN excluded.first_ms<r.first_ms THEN excluded.first_exp ELSE r.first_exp END,"
         " first_ms=least(r.first_ms,excluded.first_ms),"
         " last_imp=CASE WHEN excluded.last_ms>=r.last_ms THEN excluded.last_imp ELSE r.last_imp END,"
         " last_exp=CASE WHEN excluded.last_ms>=r.last_ms THEN excluded.last_exp ELSE r.last_exp END,"
         " last_ms=greatest(r.last_ms,excluded.last_ms), flags=r.flags|excluded.flags";
}

std::string rollup_statement(Resolution res) { return std::string("wg_upsert_") + rollup_table(res); }

void upsert_rollups(pqxx::work& txn, const std::vector<Accepted>& accepted) {
  for (Resolution res : kAllResolutions) {
    if (res == Resolution::kRaw) continue;
    const int64_t step = resolution_ms(res);
    std::map<std::pair<int64_t, int64_t>, RollupAccumulator> acc;
    for (const Accepted& a : accepted) acc[{a.key, bucket_start(a.r->time_ms, step)}].add(*a.r);
    // meter, bucket_ms, n, 11 sums and extremes, first_ms, first registers, last_ms, last registers, flags.
    constexpr uint32_t kI = BinaryArray::kInt8Oid, kF = BinaryArray::kFloat8Oid;
    std::array<BinaryArray, 21> cols{BinaryArray(kI), BinaryArray(kI), BinaryArray(kI), BinaryArray(kF),
                                     BinaryArray(kF), BinaryArray(kF), BinaryArray(kF), BinaryArray(kF),
                                     BinaryArray(kF), BinaryArray(kF), BinaryArray(kF), BinaryArray(kF),
                                     BinaryArray(kF), BinaryArray(kF), BinaryArray(kI), BinaryArray(kF),
                                     BinaryArray(kF), BinaryArray(kI), BinaryArray(kF), BinaryArray(kF),
                                     BinaryArray(kI)};
    for (const auto& [kb, a] : acc) {
      int c = 0;
      cols[c++].add(kb.first);
      cols[c++].add(kb.second);
      cols[c++].add(a.n);
      for (double v :
           {a.p_sum, a.p_min, a.p_max, a.v_sum, a.v_min, a.v_max, a.i_sum, a.s_sum, a.q_sum, a.pf_sum, a.f_sum}) {
        cols[c++].add(v);
      }
      cols[c++].add(a.first_ms);
      cols[c++].add(a.first_imp);
      cols[c++].add(a.first_exp);
      cols[c++].add(a.last_ms);
      cols[c++].add(a.last_imp);
      cols[c++].add(a.last_exp);
      cols[c].add(static_cast<int64_t>(a.flags));
    }
    txn.exec_prepared(rollup_statement(res), cols[0].done(), cols[1].done(), cols[2].done(), cols[3].done(),
                      cols[4].done(), cols[5].done(), cols[6].done(), cols[7].done(), cols[8].done(), cols[9].done(),
                      cols[10].done(), cols[11].done(), cols[12].done(), cols[13].done(), cols[14].done(),
                      cols[15].done(), cols[16].done(), cols[17].done(), cols[18].done(), cols[19].done(),
                      cols[20].done());
  }
}

// Inserts the batch's register_rollback events (a repeat is ignored) and reports the new ones.
void insert_events(pqxx::work& txn, std::vector<PendingPgEvent>& events, int64_t received_ms, AppendResult* result) {
  for (PendingPgEvent& pe : events) {
    const pqxx::result r =
        txn.exec_prepared("wg_insert_event", pe.key, pe.event.time_ms,
                          std::string(protocol::event_kind_name(pe.event.kind)),
                          std::string(protocol::event_edge_name(pe.event.edge)),
                          std::string(event_source_name(EventSource::kServer)), pe.event.details, received_ms);
    if (r.empty()) continue;
    result->events.push_back(
        StoredEvent{r[0][0].as<int64_t>(), std::move(pe.event), EventSource::kServer, received_ms});
    ++result->rollbacks;
  }
}

}  // namespace

void PgStore::Impl::prepare_writer_statements(pqxx::connection& conn) {
  conn.prepare("wg_claim_seqs",
               "INSERT INTO reading_seqs(meter,seq,time_ms) SELECT * FROM unnest($1::bigint[],$2::bigint[],"
               "$3::bigint[]) ON CONFLICT DO NOTHING RETURNING meter,seq");
  conn.prepare("wg_insert_readings",
               std::string("INSERT INTO readings(meter,") + kPgReadingColumns +
                   ") SELECT * FROM unnest($1::bigint[],$2::bigint[],$3::bigint[],$4::float8[],$5::float8[],"
                   "$6::float8[],$7::float8[],$8::float8[],$9::float8[],$10::float8[],$11::float8[],$12::float8[],"
                   "$13::bigint[],$14::bigint[])");
  for (Resolution res : kAllResolutions) {
    if (res != Resolution::kRaw) conn.prepare(rollup_statement(res), rollup_upsert_sql(res));
  }
  conn.prepare("wg_insert_event",
               "INSERT INTO events(meter,time_ms,kind,edge,source,details,received_ms) VALUES($1,$2,$3,$4,$5,$6,$7) "
               "ON CONFLICT(meter,kind,edge,time_ms) DO NOTHING RETURNING id");
}

Expected<AppendResult> PgStore::append_readings(std::span<const Reading> readings, int64_t received_ms) {
  Impl& m = *impl_;
  AppendResult result;
  std::vector<uint32_t> order = valid_indices(readings, &result);
  std::lock_guard lk(m.write_mu);
  auto done = m.guarded("appending readings", [&]() -> Expected<void> {
    auto conn = m.writer_conn();
    if (!conn.ok()) return conn.error();
    pqxx::connection& c = *conn.value();
    std::vector<int64_t> keys(readings.size(), -1);
    if (auto s = m.resolve_keys(c, readings, &order, &keys, &result); !s.ok()) return s;
    std::sort(result.refused.begin(), result.refused.end(),
              [](const AppendResult::Refused& a, const AppendResult::Refused& b) { return a.index < b.index; });
    if (order.empty()) return {};
    // Oldest first per meter, so in-batch order never looks like a late reading or a rollback.
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      if (keys[a] != keys[b]) return keys[a] < keys[b];
      if (readings[a].time_ms != readings[b].time_ms) return readings[a].time_ms < readings[b].time_ms;
      if (readings[a].seq != readings[b].seq) return readings[a].seq < readings[b].seq;
      return a < b;  // of two copies, the first in the batch is the one stored
    });
    std::set<int64_t> months, meters;
    std::vector<Accepted> candidates;
    candidates.reserve(order.size());
    std::set<std::pair<int64_t, int64_t>> in_batch;
    for (uint32_t i : order) {
      if (!in_batch.emplace(keys[i], static_cast<int64_t>(readings[i].seq)).second) {
        result.duplicate_indices.push_back(i);
        continue;
      }
      candidates.push_back({keys[i], i, &readings[i]});
      months.insert(month_of(readings[i].time_ms));
      meters.insert(keys[i]);
    }
    m.ensure_partitions(c, months);

    pqxx::work txn(c);
    const auto fresh = claim_seqs(txn, candidates);
    load_tails(txn, meters, &m.tails);
    std::vector<Accepted> accepted;
    accepted.reserve(fresh.size());
    std::vector<PendingPgEvent> events;
    for (const Accepted& a : candidates) {
      const Reading& r = *a.r;
      if (fresh.count({a.key, static_cast<int64_t>(r.seq)}) == 0) {
        result.duplicate_indices.push_back(a.index);
        continue;
      }
      PgTail& tail = m.tails[a.key];
      if (is_newer_than(r, tail)) {
        if (tail.has) {
          if (auto e = register_rollback(tail.seq, tail.imp, tail.exp, r.seq, r.e_import_wh, r.e_export_wh, r.time_ms,
                                         r.meter_id)) {
            events.push_back({a.key, std::move(*e)});
          }
        }
        tail = PgTail{true, r.time_ms, r.seq, r.e_import_wh, r.e_export_wh};
      } else {
        ++result.late;
        late_rollbacks(txn, a.key, r, accepted, &events);
      }
      accepted.push_back(a);
    }
    if (!accepted.empty()) {
      insert_readings(txn, accepted, received_ms);
      upsert_rollups(txn, accepted);
    }
    insert_events(txn, events, received_ms, &result);
    txn.commit();
    result.stored = accepted.size();
    result.duplicates = result.duplicate_indices.size();
    std::sort(result.duplicate_indices.begin(), result.duplicate_indices.end());
    return {};
  });
  if (!done.ok()) {
    m.tails.clear();  // they may hold readings of the batch that was not stored
    // Another server's retention may have dropped a month we thought was there; the next append checks
    // (CREATE TABLE IF NOT EXISTS) every month it reaches again.
    m.partitions.clear();
    return done.error();
  }
  return result;
}

}  // namespace wattguard::storage
