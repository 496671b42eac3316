#include "wattguard/core/tamper_detector.h"

#include <cmath>

namespace wattguard::core {
namespace {

void emit(TamperEvent* out, uint32_t max_events, uint32_t* count, const TamperEvent& e) {
  if (*count < max_events) out[(*count)++] = e;
}

// Wh by which the registers went backwards (0 when neither did).
double register_deficit_wh(uint64_t prev_import, uint64_t prev_export, uint64_t now_import, uint64_t now_export) {
  const uint64_t lost = (prev_import > now_import ? prev_import - now_import : 0) +
                        (prev_export > now_export ? prev_export - now_export : 0);
  return static_cast<double>(lost) * 1e-6;
}

}  // namespace

const char* tamper_kind_name(TamperKind kind) {
  switch (kind) {
    case TamperKind::kReverseFlow: return "reverse_flow";
    case TamperKind::kNeutralMismatch: return "neutral_mismatch";
    case TamperKind::kCurrentWithoutVoltage: return "current_without_voltage";
    case TamperKind::kMagneticInterference: return "magnetic";
    case TamperKind::kCoverOpen: return "cover_open";
    case TamperKind::kRegisterRollback: return "register_rollback";
    case TamperKind::kPowerUp: return "power_up";
  }
  return "unknown";
}

void TamperDetector::track(TamperKind kind, bool condition, float value, float ref_value, const PeriodReading& r,
                           TamperEvent* out, uint32_t max_events, uint32_t* count) {
  ConditionState& s = state_[static_cast<uint8_t>(kind)];
  const double start_s = r.t_end_s - r.duration_s;
  if (!s.active) {
    if (condition) {
      if (s.true_s == 0) s.since_s = start_s;
      s.true_s += r.duration_s;
      if (std::fabs(value) > std::fabs(s.peak_value)) {
        s.peak_value = value;
        s.ref_value = ref_value;
      }
      if (s.true_s >= thresholds_.min_duration_s) {
        s.active = true;
        s.false_s = 0;
        emit(out, max_events, count, TamperEvent{kind, true, s.since_s, s.peak_value, s.ref_value});
      }
    } else {
      s.true_s = 0;
      s.peak_value = 0;
    }
  } else {
    if (!condition) {
      if (s.false_s == 0) s.since_s = start_s;
      s.false_s += r.duration_s;
      if (s.false_s >= thresholds_.clear_duration_s) {
        s.active = false;
        s.true_s = 0;
        emit(out, max_events, count, TamperEvent{kind, false, s.since_s, s.peak_value, s.ref_value});
        s.peak_value = 0;
      }
    } else {
      s.false_s = 0;
      if (std::fabs(value) > std::fabs(s.peak_value)) s.peak_value = value;
    }
  }
}

uint32_t TamperDetector::update(const PeriodReading& r, const DigitalInputs& in, bool has_neutral, TamperEvent* out,
                                uint32_t max_events) {
  uint32_t count = 0;
  const TamperThresholds& t = thresholds_;
  const bool no_voltage = (r.flags & kFlagNoVoltage) != 0;

  const bool reverse = !t.bidirectional && !no_voltage && r.p_w < -t.reverse_power_w;
  track(TamperKind::kReverseFlow, reverse, -r.p_w, 0, r, out, max_events, &count);

  if (has_neutral) {
    const float diff = r.neutral_irms - r.irms;  // + neutral larger (phase clamp bypassed)
    const float larger = r.neutral_irms > r.irms ? r.neutral_irms : r.irms;
    const bool mismatch = std::fabs(diff) > t.mismatch_abs_a && std::fabs(diff) > t.mismatch_ratio * larger;
    track(TamperKind::kNeutralMismatch, mismatch, r.neutral_irms, r.irms, r, out, max_events, &count);
  }

  const bool current_no_voltage =
      no_voltage && (r.irms > t.no_voltage_current_a || (has_neutral && r.neutral_irms > t.no_voltage_current_a));
  const float seen_current = r.irms > r.neutral_irms ? r.irms : r.neutral_irms;
  track(TamperKind::kCurrentWithoutVoltage, current_no_voltage, seen_current, r.vrms, r, out, max_events, &count);

  // A magnet saturates the CT: the current channel clips although the current is far below
  // what would clip it honestly (an overload clips too, at a high Irms).
  const bool saturated = (r.flags & kFlagCurrentClipped) != 0 && r.irms < t.magnet_clip_max_a;
  track(TamperKind::kMagneticInterference, in.magnet || saturated, in.magnet ? 1.0f : 0.0f, r.irms, r, out, max_events,
        &count);

  // Digital inputs are debounced by one period only: a cover switch is not noisy.
  ConditionState& cover = state_[static_cast<uint8_t>(TamperKind::kCoverOpen)];
  if (in.cover_open != cover.active) {
    cover.active = in.cover_open;
    emit(out, max_events, &count,
         TamperEvent{TamperKind::kCoverOpen, in.cover_open, r.t_end_s - r.duration_s, 1.0f, 0.0f});
  }

  const double lost_wh = register_deficit_wh(last_import_uwh_, last_export_uwh_, r.import_uwh, r.export_uwh);
  if (seen_reading_ && lost_wh > 0) {
    emit(out, max_events, &count,
         TamperEvent{TamperKind::kRegisterRollback, true, r.t_end_s, static_cast<float>(lost_wh), 0.0f});
  }
  last_import_uwh_ = r.import_uwh;
  last_export_uwh_ = r.export_uwh;
  seen_reading_ = true;
  return count;
}

uint32_t TamperDetector::check_restored_registers(uint64_t prev_import, uint64_t prev_export, uint64_t restored_import,
                                                  uint64_t restored_export, double t_s, TamperEvent* out,
                                                  uint32_t max_events) {
  uint32_t count = 0;
  const double lost_wh = register_deficit_wh(prev_import, prev_export, restored_import, restored_export);
  if (lost_wh > 0) {
    emit(out, max_events, &count,
         TamperEvent{TamperKind::kRegisterRollback, true, t_s, static_cast<float>(lost_wh), 0.0f});
  }
  last_import_uwh_ = restored_import;
  last_export_uwh_ = restored_export;
  seen_reading_ = true;
  return count;
}

uint32_t TamperDetector::power_up(double outage_s, double t_s, TamperEvent* out, uint32_t max_events) {
  uint32_t count = 0;
  emit(out, max_events, &count, TamperEvent{TamperKind::kPowerUp, true, t_s, static_cast<float>(outage_s), 0.0f});
  return count;
}

}  // namespace wattguard::core
