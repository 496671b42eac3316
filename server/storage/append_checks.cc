// Validating appended readings, and the register_rollback check with the wording of its event.
#include "server/storage/append_checks.h"

#include <cstdio>

#include "wattguard/protocol/codec.h"

namespace wattguard::storage {
namespace {

// Registers are decimal Wh from integer micro-Wh on the meter; smaller steps back are float noise.
constexpr double kRollbackToleranceWh = 0.001;

std::string fmt_wh(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

}  // namespace

std::optional<protocol::MeterEvent> register_rollback(uint64_t prev_seq, double prev_imp, double prev_exp,
                                                      uint64_t next_seq, double next_imp, double next_exp,
                                                      int64_t time_ms, const std::string& meter_id) {
  std::string details;
  if (next_imp < prev_imp - kRollbackToleranceWh) {
    details += "e_import_wh went backwards from " + fmt_wh(prev_imp) + " Wh (seq " + std::to_string(prev_seq) +
               ") to " + fmt_wh(next_imp) + " Wh (seq " + std::to_string(next_seq) + ")";
  }
  if (next_exp < prev_exp - kRollbackToleranceWh) {
    if (!details.empty()) details += "; ";
    details += "e_export_wh went backwards from " + fmt_wh(prev_exp) + " Wh (seq " + std::to_string(prev_seq) +
               ") to " + fmt_wh(next_exp) + " Wh (seq " + std::to_string(next_seq) + ")";
  }
  if (details.empty()) return std::nullopt;
  return protocol::MeterEvent{meter_id, protocol::EventKind::kRegisterRollback, protocol::EventEdge::kInstant, time_ms,
                              details};
}

std::vector<uint32_t> valid_indices(std::span<const protocol::Reading> readings, AppendResult* result) {
  std::vector<uint32_t> order;
  order.reserve(readings.size());
  const protocol::DecodeContext no_clock{};
  for (std::size_t i = 0; i < readings.size(); ++i) {
    if (auto v = protocol::validate(readings[i], no_clock); !v.ok()) {
      result->refused.push_back({i, protocol::rejection_of(v.error()), protocol::describe(v.error())});
    } else {
      order.push_back(static_cast<uint32_t>(i));
    }
  }
  return order;
}

}  // namespace wattguard::storage
