// Meter-side tamper detection: watches each period reading (and the meter's digital inputs)
// for the physical signs of theft, and emits onset and clear events with their times.
//
// Each condition must hold for a settable minimum duration before its onset event, and be
// absent for the same time before its clear event, so a motor start or an inverter's inrush
// does not raise anything. Evaluated once per report period: an event is raised within one
// period of the condition's minimum duration. No heap; events go to a caller-provided array.
#pragma once

#include <cstdint>

#include "wattguard/core/period_reading.h"

namespace wattguard::core {

enum class TamperKind : uint8_t {
  kReverseFlow = 0,        // energy flowing out of a consumer-only meter (CT reversed)
  kNeutralMismatch,        // phase and neutral currents differ (bypass or earth return)
  kCurrentWithoutVoltage,  // current measured with the voltage link removed
  kMagneticInterference,   // magnet sensor input active, or the CT saturating
  kCoverOpen,              // terminal cover switch open
  kRegisterRollback,       // an energy register went backwards or was reset
  kPowerUp,                // power returned after an outage (outage log entry)
};
inline constexpr uint8_t kTamperKindCount = 7;

// Stable lower_snake_case name, used in telemetry and the server ("reverse_flow", ...).
const char* tamper_kind_name(TamperKind kind);

struct TamperEvent {
  TamperKind kind = TamperKind::kReverseFlow;
  bool onset = true;    // true: condition began; false: condition cleared
  double t_s = 0;       // when the condition began (onset) or ended (clear), s from start
  float value = 0;      // the evidence: W exported, A of mismatch, A without voltage, s of outage...
  float ref_value = 0;  // a second figure where useful (neutral current vs phase current...)
};

struct DigitalInputs {
  bool magnet = false;      // Hall sensor
  bool cover_open = false;  // terminal cover switch
};

struct TamperThresholds {
  bool bidirectional = false;          // a meter allowed to export (solar): no reverse-flow tamper
  float reverse_power_w = 20.0f;       // export above this counts as reverse flow
  float mismatch_abs_a = 0.3f;         // |I_phase - I_neutral| above this ...
  float mismatch_ratio = 0.12f;        // ... and above this share of the larger current
  float no_voltage_current_a = 0.25f;  // current above this with no voltage
  float magnet_clip_max_a = 20.0f;     // CT clipping below this Irms is saturation by a magnet
  float min_duration_s = 30.0f;        // a condition must last this long to raise
  float clear_duration_s = 30.0f;      // and be absent this long to clear
};

class TamperDetector {
 public:
  TamperDetector() = default;
  explicit TamperDetector(const TamperThresholds& t) : thresholds_(t) {}

  void set_thresholds(const TamperThresholds& t) { thresholds_ = t; }
  const TamperThresholds& thresholds() const { return thresholds_; }

  // Evaluates one period. Writes at most `max_events` events to `out`; returns how many.
  // `has_neutral` says whether the meter has the second clamp.
  uint32_t update(const PeriodReading& reading, const DigitalInputs& inputs, bool has_neutral, TamperEvent* out,
                  uint32_t max_events);

  // Registers as restored at boot compared with the last ones seen: a decrease is a rollback.
  // Writes at most one event; returns how many.
  uint32_t check_restored_registers(uint64_t previous_import_uwh, uint64_t previous_export_uwh,
                                    uint64_t restored_import_uwh, uint64_t restored_export_uwh, double t_s,
                                    TamperEvent* out, uint32_t max_events);

  // Records a power-up after an outage of `outage_s` seconds (from the persisted last-alive time).
  uint32_t power_up(double outage_s, double t_s, TamperEvent* out, uint32_t max_events);

  bool active(TamperKind kind) const { return state_[static_cast<uint8_t>(kind)].active; }

 private:
  struct ConditionState {
    bool active = false;
    double true_s = 0;    // how long the condition has held (while inactive)
    double false_s = 0;   // how long it has been absent (while active)
    double since_s = -1;  // when the current run of true (or false) periods began
    float peak_value = 0;
    float ref_value = 0;
  };

  // Advances one condition by one period; appends an event when it changes state.
  void track(TamperKind kind, bool condition, float value, float ref_value, const PeriodReading& r, TamperEvent* out,
             uint32_t max_events, uint32_t* count);

  TamperThresholds thresholds_;
  ConditionState state_[kTamperKindCount];
  uint64_t last_import_uwh_ = 0, last_export_uwh_ = 0;
  bool seen_reading_ = false;
};

}  // namespace wattguard::core
