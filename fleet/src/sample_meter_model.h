// MeterModel that runs the real signal chain: sensor simulator ADC samples -> metrology core.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "wattguard/core/metrology_engine.h"
#include "wattguard/fleet/meter_model.h"
#include "wattguard/sim/meter_simulator.h"

namespace wattguard::fleet {

class SampleMeterModel final : public MeterModel {
 public:
  SampleMeterModel(const MeterModelConfig& config, std::shared_ptr<const sim::LoadProfile> profile,
                   bool exports_allowed, std::string description);

  void advance_to(double t_s, std::vector<ModelReading>* out) override;
  double time_s() const override { return static_cast<double>(fed_) / rate_; }
  void set_relay_closed(bool closed) override { simulator_.set_relay_closed(closed); }
  void set_period_ms(uint32_t period_ms) override;
  void set_tampering(const SensorTampering& tampering) override;
  const SensorTampering& tampering() const override { return tampering_; }
  void restore_registers(uint64_t import_uwh, uint64_t export_uwh) override {
    engine_.restore_registers(import_uwh, export_uwh);
  }
  uint64_t import_uwh() const override { return engine_.import_register().uwh(); }
  uint64_t export_uwh() const override { return engine_.export_register().uwh(); }
  double true_import_wh() const override { return simulator_.truth().e_import_wh; }
  bool has_neutral_channel() const override { return true; }
  bool exports_allowed() const override { return exports_allowed_; }
  std::string describe() const override { return description_; }

 private:
  sim::MeterSimulator simulator_;
  core::MetrologyEngine engine_;
  core::MeterConfig meter_config_;
  SensorTampering tampering_;
  double rate_;
  int64_t fed_ = 0;  // samples given to the engine since the start
  bool exports_allowed_;
  std::string description_;
};

}  // namespace wattguard::fleet
