// MeterModel for large fleets: period values computed from the household's exact load, with the
// meter's measurement errors, instead of simulating every ADC sample.
//
// Per load segment (the household's load is piecewise constant) the model computes what the clamps
// and the voltage sensor see (relay, wiring and voltage-link tampering applied), and integrates it
// over the period: mean-square voltage and currents, active and reactive energy. Energy goes into
// integer registers exactly as the core does (import and export separately, nothing below the
// starting current). Each meter has a fixed calibration error (gain, within class 1), and each
// reading gets random noise of the size the core shows on simulated samples.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "wattguard/core/energy_register.h"
#include "wattguard/fleet/meter_model.h"
#include "wattguard/sim/random.h"

namespace wattguard::fleet {

class FastMeterModel final : public MeterModel {
 public:
  FastMeterModel(const MeterModelConfig& config, std::shared_ptr<const sim::LoadProfile> profile, bool exports_allowed,
                 std::string description);

  void advance_to(double t_s, std::vector<ModelReading>* out) override;
  double time_s() const override { return t_s_; }
  void set_relay_closed(bool closed) override { relay_closed_ = closed; }
  void set_period_ms(uint32_t period_ms) override;
  void set_tampering(const SensorTampering& tampering) override { tampering_ = tampering; }
  const SensorTampering& tampering() const override { return tampering_; }
  void restore_registers(uint64_t import_uwh, uint64_t export_uwh) override;
  uint64_t import_uwh() const override { return import_.uwh(); }
  uint64_t export_uwh() const override { return export_.uwh(); }
  double true_import_wh() const override { return true_import_wh_; }
  bool has_neutral_channel() const override { return true; }
  bool exports_allowed() const override { return exports_allowed_; }
  std::string describe() const override { return description_; }

 private:
  // Sums over the period in progress (seconds-weighted).
  struct PeriodSums {
    double duration_s = 0;
    double v2 = 0, i2 = 0, n2 = 0;  // V^2 s, A^2 s
    double p = 0, q = 0;            // W s, var s
    double import_wh = 0, export_wh = 0;
    bool load_present = false;
  };

  void integrate(double from_s, double to_s);
  ModelReading finish_period();

  std::shared_ptr<const sim::LoadProfile> profile_;
  double vrms_;
  double period_s_;
  double t_s_ = 0.0;  // measured up to here
  double period_start_s_ = 0.0;
  uint32_t sequence_ = 0;
  bool relay_closed_ = true;
  SensorTampering tampering_;
  PeriodSums sums_;
  core::EnergyRegister import_, export_;
  double true_import_wh_ = 0.0;
  // Fixed per meter: calibration errors of the voltage and current channels.
  double v_gain_ = 1.0, i_gain_ = 1.0;
  sim::Rng rng_;
  bool exports_allowed_;
  std::string description_;
};

}  // namespace wattguard::fleet
