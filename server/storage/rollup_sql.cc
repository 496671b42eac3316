// SQL of the rollup tables, built once per resolution.
#include "server/storage/rollup_sql.h"

#include <array>

#include "server/storage/sqlite_schema.h"

namespace wattguard::storage {

const RollupSql& rollup_sql(Resolution res) {
  static const std::array<RollupSql, 5> kAll = [] {
    std::array<RollupSql, 5> a;
    for (Resolution r : kAllResolutions) {
      if (r == Resolution::kRaw) continue;
      const std::string t = rollup_table(r);
      RollupSql& s = a[static_cast<std::size_t>(r)];
      s.upsert = "INSERT INTO " + t +
                 "(meter,bucket_ms,n,p_sum,p_min,p_max,v_sum,v_min,v_max,i_sum,s_sum,q_sum,pf_sum,f_sum,"
                 "first_ms,first_imp,first_exp,last_ms,last_imp,last_exp,flags) "
                 "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(meter,bucket_ms) DO UPDATE SET "
                 "n=n+excluded.n, p_sum=p_sum+excluded.p_sum, p_min=min(p_min,excluded.p_min),"
                 " p_max=max(p_max,excluded.p_max), v_sum=v_sum+excluded.v_sum, v_min=min(v_min,excluded.v_min),"
                 " v_max=max(v_max,excluded.v_max), i_sum=i_sum+excluded.i_sum, s_sum=s_sum+excluded.s_sum,"
                 " q_sum=q_sum+excluded.q_sum, pf_sum=pf_sum+excluded.pf_sum, f_sum=f_sum+excluded.f_sum,"
                 // Every right-hand side sees the row as it was before this UPDATE.
                 " first_imp=CASE WHEN excluded.first_ms<first_ms THEN excluded.first_imp ELSE first_imp END,"
                 " first_exp=CASE WHEN excluded.first_ms<first_ms THEN excluded.first_exp ELSE first_exp END,"
                 " first_ms=min(first_ms,excluded.first_ms),"
                 " last_imp=CASE WHEN excluded.last_ms>=last_ms THEN excluded.last_imp ELSE last_imp END,"
                 " last_exp=CASE WHEN excluded.last_ms>=last_ms THEN excluded.last_exp ELSE last_exp END,"
                 " last_ms=max(last_ms,excluded.last_ms), flags=flags|excluded.flags";
      s.select_range =
          "SELECT bucket_ms,n,p_sum,p_min,p_max,v_sum,v_min,v_max,i_sum,s_sum,q_sum,pf_sum,f_sum,"
          "first_ms,first_imp,first_exp,last_ms,last_imp,last_exp,flags FROM " +
          t + " WHERE meter=? AND bucket_ms>=? AND bucket_ms<? ORDER BY bucket_ms";
      s.select_prev = "SELECT last_ms,last_imp,last_exp FROM " + t +
                      " WHERE meter=? AND bucket_ms<? ORDER BY bucket_ms DESC LIMIT 1";
      s.delete_older = "DELETE FROM " + t + " WHERE meter=? AND bucket_ms<?";
    }
    return a;
  }();
  return kAll[static_cast<std::size_t>(res)];
}

RollupAccumulator accumulator_from_row(const Stmt& s, int c) {
  RollupAccumulator a;
  a.n = s.int64(c++);
  a.p_sum = s.real(c++);
  a.p_min = s.real(c++);
  a.p_max = s.real(c++);
  a.v_sum = s.real(c++);
  a.v_min = s.real(c++);
  a.v_max = s.real(c++);
  a.i_sum = s.real(c++);
  a.s_sum = s.real(c++);
  a.q_sum = s.real(c++);
  a.pf_sum = s.real(c++);
  a.f_sum = s.real(c++);
  a.first_ms = s.int64(c++);
  a.first_imp = s.real(c++);
  a.first_exp = s.real(c++);
  a.last_ms = s.int64(c++);
  a.last_imp = s.real(c++);
  a.last_exp = s.real(c++);
  a.flags = static_cast<uint32_t>(s.int64(c));
  return a;
}

Expected<void> upsert_rollup(Db& db, Resolution res, int64_t key, int64_t bucket, const RollupAccumulator& a) {
  auto s = db.prepare(rollup_sql(res).upsert.c_str());
  if (!s.ok()) return s.error();
  int c = 1;
  s->bind(c++, key);
  s->bind(c++, bucket);
  s->bind(c++, a.n);
  s->bind(c++, a.p_sum);
  s->bind(c++, a.p_min);
  s->bind(c++, a.p_max);
  s->bind(c++, a.v_sum);
  s->bind(c++, a.v_min);
  s->bind(c++, a.v_max);
  s->bind(c++, a.i_sum);
  s->bind(c++, a.s_sum);
  s->bind(c++, a.q_sum);
  s->bind(c++, a.pf_sum);
  s->bind(c++, a.f_sum);
  s->bind(c++, a.first_ms);
  s->bind(c++, a.first_imp);
  s->bind(c++, a.first_exp);
  s->bind(c++, a.last_ms);
  s->bind(c++, a.last_imp);
  s->bind(c++, a.last_exp);
  s->bind(c++, a.flags);
  return db.step_done(*s, "updating rollup");
}

}  // namespace wattguard::storage
