// The real signal chain for one virtual meter: simulator samples fed to the metrology core in blocks.
#include "sample_meter_model.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>

#include "wattguard/sim/ideal_calibration.h"

namespace wattguard::fleet {
namespace {

constexpr uint32_t kBlock = 2048;

sim::SimConfig sim_config_for(const MeterModelConfig& config) {
  sim::SimConfig sc;
  sc.sample_rate_hz = config.sample_rate_hz;
  sc.grid.vrms = config.supply_vrms;
  sc.seed = config.seed;
  // Only the recent past is ever asked for (the truth of the current position).
  sc.truth_history = 64;
  return sc;
}

}  // namespace

SampleMeterModel::SampleMeterModel(const MeterModelConfig& config, std::shared_ptr<const sim::LoadProfile> profile,
                                   bool exports_allowed, std::string description)
    : simulator_(sim_config_for(config), std::move(profile)),
      rate_(static_cast<double>(config.sample_rate_hz)),
      exports_allowed_(exports_allowed),
      description_(std::move(description)) {
  const sim::SimConfig& sc = simulator_.config();
  meter_config_.sample_rate_hz = sc.sample_rate_hz;
  meter_config_.adc_bits = static_cast<uint8_t>(sc.adc.bits);
  // Calibrated once at the factory, at Ib, like a real meter.
  meter_config_.cal = sim::ideal_calibration(sc, 5.0);
  meter_config_.report_period_ms = config.period_ms;
  meter_config_.nominal_frequency_hz = 50.0f;
  meter_config_.has_neutral_channel = true;
  // fleet::validate checked the configuration this was built from: a refusal here is a bug.
  [[maybe_unused]] const core::Status status = engine_.configure(meter_config_);
  assert(status == core::Status::kOk);
}

void SampleMeterModel::advance_to(double t_s, std::vector<ModelReading>* out) {
  // Per thread, not per meter: thousands of meters share one shard thread's buffers.
  thread_local std::array<uint16_t, kBlock> v, i, n;
  const auto target = static_cast<int64_t>(std::floor(t_s * rate_));
  while (fed_ < target) {
    const auto count = static_cast<uint32_t>(std::min<int64_t>(kBlock, target - fed_));
    simulator_.generate(v.data(), i.data(), n.data(), count);
    for (uint32_t offset = 0; offset < count;) {
      offset += engine_.add_samples(v.data() + offset, i.data() + offset, n.data() + offset, count - offset);
      if (engine_.period_completed()) {
        out->push_back(ModelReading{engine_.last_reading(), static_cast<double>(fed_ + offset) / rate_});
      }
    }
    fed_ += count;
  }
}

void SampleMeterModel::set_period_ms(uint32_t period_ms) {
  meter_config_.report_period_ms = period_ms;
  // The callers keep periods within 1..3600 s (the command's and the saved state's checks).
  [[maybe_unused]] const core::Status status = engine_.configure(meter_config_);
  assert(status == core::Status::kOk);
}

void SampleMeterModel::set_tampering(const SensorTampering& tampering) {
  simulator_.set_wiring(tampering.wiring);
  simulator_.set_voltage_connected(tampering.voltage_connected);
  tampering_ = tampering;
}

}  // namespace wattguard::fleet
