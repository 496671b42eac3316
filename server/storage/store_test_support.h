// Meters and readings the store tests append, on any backend. Test-only.
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/storage/reading_store.h"

namespace wattguard::storage::store_test {

using protocol::Reading;

constexpr int64_t kT0 = 1'750'032'000'000;  // 2025-06-16 00:00:00 UTC (a day boundary)
constexpr int64_t kMin = 60'000;

inline MeterInfo meter(const std::string& id) {
  MeterInfo m;
  m.id = id;
  return m;
}

inline EventQuery query(const std::string& meter_id = "", std::optional<protocol::EventKind> kind = std::nullopt,
                        int64_t from_ms = INT64_MIN, int64_t to_ms = INT64_MAX) {
  EventQuery q;
  q.meter_id = meter_id;
  q.kind = kind;
  q.from_ms = from_ms;
  q.to_ms = to_ms;
  return q;
}

inline Reading make(const std::string& meter, uint64_t seq, int64_t t, double p_w, double imp_wh, double exp_wh = 0) {
  Reading r;
  r.meter_id = meter;
  r.seq = seq;
  r.time_ms = t;
  r.vrms = 230;
  r.irms = std::fabs(p_w) / 230;
  r.p_w = p_w;
  r.s_va = std::fabs(p_w);
  r.q_var = 0;
  r.pf = 1;
  r.freq_hz = 50;
  r.e_import_wh = imp_wh;
  r.e_export_wh = exp_wh;
  return r;
}

// A meter drawing a constant 1200 W from kT0, one reading every 5 s, registers exact.
inline std::vector<Reading> steady(const std::string& meter, int count, uint64_t first_seq = 0, double p_w = 1200) {
  std::vector<Reading> out;
  for (int i = 0; i < count; ++i) {
    const uint64_t seq = first_seq + static_cast<uint64_t>(i);
    const int64_t t = kT0 + static_cast<int64_t>(seq) * 5000;
    out.push_back(make(meter, seq, t, p_w, p_w * static_cast<double>(seq) * 5.0 / 3600.0));
  }
  return out;
}

}  // namespace wattguard::storage::store_test
