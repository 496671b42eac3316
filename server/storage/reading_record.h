// Fixed-size binary record of one reading, as stored in raw chunks and staging batches (docs/storage.md).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#include "wattguard/protocol/messages.h"

namespace wattguard::storage {

static_assert(std::endian::native == std::endian::little, "records are stored little-endian");

// seq u64, time_ms i64, 9 x f64 (vrms irms p_w s_va q_var pf freq_hz e_import_wh e_export_wh),
// flags u32, received_ms i64: 100 bytes. Doubles are stored exactly, so a reading reads back equal.
inline constexpr std::size_t kRecordBytes = 100;
// A staged record is the meter's key (i64) followed by a record.
inline constexpr std::size_t kStagedRecordBytes = 8 + kRecordBytes;

namespace record_detail {
template <class T>
inline void put(uint8_t*& p, T v) {
  std::memcpy(p, &v, sizeof v);
  p += sizeof v;
}
template <class T>
inline T get(const uint8_t*& p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  p += sizeof v;
  return v;
}
}  // namespace record_detail

// REQUIRES: out has kRecordBytes.
inline void encode_record(const protocol::Reading& r, int64_t received_ms, uint8_t* out) {
  using record_detail::put;
  put<uint64_t>(out, r.seq);
  put<int64_t>(out, r.time_ms);
  for (double v : {r.vrms, r.irms, r.p_w, r.s_va, r.q_var, r.pf, r.freq_hz, r.e_import_wh, r.e_export_wh}) {
    put<double>(out, v);
  }
  put<uint32_t>(out, r.flags);
  put<int64_t>(out, received_ms);
}

// Fills everything but r->meter_id. REQUIRES: in has kRecordBytes.
inline void decode_record(const uint8_t* in, protocol::Reading* r, int64_t* received_ms) {
  using record_detail::get;
  r->seq = get<uint64_t>(in);
  r->time_ms = get<int64_t>(in);
  for (double* v :
       {&r->vrms, &r->irms, &r->p_w, &r->s_va, &r->q_var, &r->pf, &r->freq_hz, &r->e_import_wh, &r->e_export_wh}) {
    *v = get<double>(in);
  }
  r->flags = get<uint32_t>(in);
  const int64_t received = get<int64_t>(in);
  if (received_ms) *received_ms = received;
}

}  // namespace wattguard::storage
