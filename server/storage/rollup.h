// Bucket arithmetic shared by ingest-time rollups and query-time aggregation.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "wattguard/protocol/messages.h"
#include "wattguard/storage/store_types.h"

namespace wattguard::storage {

// Start of the bucket of length step_ms holding t_ms (floor, also for negative times).
inline int64_t bucket_start(int64_t t_ms, int64_t step_ms) {
  int64_t q = t_ms / step_ms;
  if ((t_ms % step_ms) != 0 && t_ms < 0) --q;
  return q * step_ms;
}

// Sums, extremes and first/last registers of the readings in one bucket. Adding readings and
// merging accumulators are order-independent, which is what lets a late reading correct a bucket.
struct RollupAccumulator {
  int64_t n = 0;
  double p_sum = 0, p_min = std::numeric_limits<double>::infinity(), p_max = -std::numeric_limits<double>::infinity();
  double v_sum = 0, v_min = std::numeric_limits<double>::infinity(), v_max = -std::numeric_limits<double>::infinity();
  double i_sum = 0, s_sum = 0, q_sum = 0, pf_sum = 0, f_sum = 0;
  int64_t first_ms = std::numeric_limits<int64_t>::max();
  double first_imp = 0, first_exp = 0;
  int64_t last_ms = std::numeric_limits<int64_t>::min();
  double last_imp = 0, last_exp = 0;
  uint32_t flags = 0;

  void add(const protocol::Reading& r) {
    ++n;
    p_sum += r.p_w;
    p_min = std::min(p_min, r.p_w);
    p_max = std::max(p_max, r.p_w);
    v_sum += r.vrms;
    v_min = std::min(v_min, r.vrms);
    v_max = std::max(v_max, r.vrms);
    i_sum += r.irms;
    s_sum += r.s_va;
    q_sum += r.q_var;
    pf_sum += r.pf;
    f_sum += r.freq_hz;
    if (r.time_ms < first_ms) {
      first_ms = r.time_ms;
      first_imp = r.e_import_wh;
      first_exp = r.e_export_wh;
    }
    if (r.time_ms >= last_ms) {
      last_ms = r.time_ms;
      last_imp = r.e_import_wh;
      last_exp = r.e_export_wh;
    }
    flags |= r.flags;
  }

  void merge(const RollupAccumulator& o) {
    if (o.n == 0) return;
    n += o.n;
    p_sum += o.p_sum;
    p_min = std::min(p_min, o.p_min);
    p_max = std::max(p_max, o.p_max);
    v_sum += o.v_sum;
    v_min = std::min(v_min, o.v_min);
    v_max = std::max(v_max, o.v_max);
    i_sum += o.i_sum;
    s_sum += o.s_sum;
    q_sum += o.q_sum;
    pf_sum += o.pf_sum;
    f_sum += o.f_sum;
    if (o.first_ms < first_ms) {
      first_ms = o.first_ms;
      first_imp = o.first_imp;
      first_exp = o.first_exp;
    }
    if (o.last_ms >= last_ms) {
      last_ms = o.last_ms;
      last_imp = o.last_imp;
      last_exp = o.last_exp;
    }
    flags |= o.flags;
  }

  // The point for this bucket; energy from the registers before it (prev_*), or from the bucket's
  // first reading when there is no earlier one (has_prev false).
  AggregatePoint to_point(int64_t t_ms, bool has_prev, double prev_imp, double prev_exp) const {
    AggregatePoint p;
    p.t_ms = t_ms;
    p.count = static_cast<uint32_t>(n);
    const double dn = n > 0 ? static_cast<double>(n) : 1.0;
    p.p_avg_w = p_sum / dn;
    p.p_min_w = n > 0 ? p_min : 0;
    p.p_max_w = n > 0 ? p_max : 0;
    p.vrms_avg = v_sum / dn;
    p.vrms_min = n > 0 ? v_min : 0;
    p.vrms_max = n > 0 ? v_max : 0;
    p.irms_avg = i_sum / dn;
    p.s_avg_va = s_sum / dn;
    p.q_avg_var = q_sum / dn;
    p.pf_avg = pf_sum / dn;
    p.freq_avg_hz = f_sum / dn;
    const double base_imp = has_prev ? prev_imp : first_imp;
    const double base_exp = has_prev ? prev_exp : first_exp;
    p.energy_import_wh = std::max(0.0, last_imp - base_imp);
    p.energy_export_wh = std::max(0.0, last_exp - base_exp);
    p.e_import_wh = last_imp;
    p.e_export_wh = last_exp;
    p.flags = flags;
    return p;
  }
};

}  // namespace wattguard::storage
