// What a virtual meter measures: a household behind the meter's sensors, advanced in virtual time.
//
// Two implementations: SampleMeterModel (the sensor simulator's ADC samples fed to the real
// metrology core, sample by sample) and FastMeterModel (period values derived from the household
// profile's exact load with measurement noise, for fleets too large to simulate sample by sample).
// Both keep integer energy registers and report core::PeriodReading, so everything downstream
// (tamper detection, telemetry, store-and-forward) is the same for both.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wattguard/core/period_reading.h"
#include "wattguard/core/tamper_detector.h"
#include "wattguard/sim/load_profile.h"
#include "wattguard/sim/wiring.h"

namespace wattguard::fleet {

enum class Fidelity : uint8_t {
  kSamples,  // simulator ADC samples -> metrology core (the real signal chain)
  kFast,     // household truth -> period values with noise; no sample-level work
};
const char* fidelity_name(Fidelity fidelity);  // "samples", "fast"

// How someone has interfered with the meter's sensors (theft scenarios, see theft_plan.h).
struct SensorTampering {
  sim::Wiring wiring;             // fractions of the load current each clamp sees
  bool voltage_connected = true;  // false: voltage link removed
  core::DigitalInputs inputs;     // magnet (Hall sensor) and cover switch
};

// A completed report period, timed from the meter's boot.
struct ModelReading {
  core::PeriodReading reading;
  double t_end_s = 0.0;  // end of the period, seconds since the model started
};

// Thread safety: none; a model belongs to one shard thread.
class MeterModel {
 public:
  virtual ~MeterModel() = default;

  // Measures up to `t_s` seconds since the model started; appends every period completed on the way.
  virtual void advance_to(double t_s, std::vector<ModelReading>* out) = 0;
  // Seconds measured so far.
  virtual double time_s() const = 0;

  // The load relay: open means the house draws nothing (and the meter measures 0 A).
  virtual void set_relay_closed(bool closed) = 0;
  // A new report period; the period in progress restarts (registers are kept).
  virtual void set_period_ms(uint32_t period_ms) = 0;
  virtual void set_tampering(const SensorTampering& tampering) = 0;
  virtual const SensorTampering& tampering() const = 0;

  // Registers as persisted by the previous run, or as a thief rewrote them.
  virtual void restore_registers(uint64_t import_uwh, uint64_t export_uwh) = 0;
  virtual uint64_t import_uwh() const = 0;
  virtual uint64_t export_uwh() const = 0;

  // True energy the household drew (Wh) since the model started, whatever the meter measured:
  // what the grid delivered (for checking under-reporting and energy balance).
  virtual double true_import_wh() const = 0;
  virtual bool has_neutral_channel() const = 0;
  // True when the house may export (rooftop PV): its meter is bidirectional, so export is no tamper.
  virtual bool exports_allowed() const = 0;
  // One line describing the household, for logs.
  virtual std::string describe() const = 0;
};

// Everything a model needs to be built.
struct MeterModelConfig {
  Fidelity fidelity = Fidelity::kSamples;
  uint64_t seed = 1;               // the household and the meter's noise
  uint32_t sample_rate_hz = 4000;  // kSamples only
  uint32_t period_ms = 5000;
  // Local time of day (s since midnight) and day number (0 = a Monday) at model time 0, so the
  // household's morning and evening peaks fall at the right wall-clock times.
  double start_time_of_day_s = 0.0;
  int64_t start_day = 0;
  bool allow_solar = true;     // some houses have rooftop PV (export)
  double supply_vrms = 230.0;  // this meter's supply voltage (varies along a feeder)
  // The load behind the meter; null: a sim::HouseholdProfile from `seed` (tests pass their own).
  std::shared_ptr<const sim::LoadProfile> profile;
};

std::unique_ptr<MeterModel> make_meter_model(const MeterModelConfig& config);

}  // namespace wattguard::fleet
