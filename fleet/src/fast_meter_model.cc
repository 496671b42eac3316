// Period readings from the household's exact load plus the meter's measurement errors.
#include "fast_meter_model.h"

#include <algorithm>
#include <cmath>
#include <complex>

namespace wattguard::fleet {
namespace {

// The core's starting current: 0.004 Ib with Ib = 5 A (IEC 62053-21 class 1).
constexpr double kStartingCurrentA = 0.02;
// Noise of one 5 s reading as the core shows it on simulated samples: about 0.03 % on Vrms,
// 0.1 % on Irms plus a few mA of ADC noise, and 10 mHz on the frequency.
constexpr double kVrmsNoiseRel = 3e-4;
constexpr double kIrmsNoiseRel = 1e-3;
constexpr double kIrmsNoiseA = 0.003;
constexpr double kFreqNoiseHz = 0.01;
// What the voltage channel shows with the voltage link removed (ADC noise only).
constexpr double kNoVoltageVrms = 0.4;

}  // namespace

FastMeterModel::FastMeterModel(const MeterModelConfig& config, std::shared_ptr<const sim::LoadProfile> profile,
                               bool exports_allowed, std::string description)
    : profile_(std::move(profile)),
      vrms_(config.supply_vrms),
      period_s_(config.period_ms / 1000.0),
      rng_(sim::mix_seed(config.seed, 0xFA57)),
      exports_allowed_(exports_allowed),
      description_(std::move(description)) {
  // Calibration left each meter within a fraction of class 1's 1 % limit.
  v_gain_ = 1.0 + rng_.normal(0.0, 0.001);
  i_gain_ = 1.0 + rng_.normal(0.0, 0.002);
}

void FastMeterModel::set_period_ms(uint32_t period_ms) {
  // Like the core: the period in progress restarts, its energy stays in the registers.
  period_s_ = period_ms / 1000.0;
  sums_ = PeriodSums{};
  period_start_s_ = t_s_;
}

void FastMeterModel::restore_registers(uint64_t import_uwh, uint64_t export_uwh) {
  import_.restore(import_uwh);
  export_.restore(export_uwh);
}

void FastMeterModel::integrate(double from_s, double to_s) {
  double t = from_s;
  while (t < to_s) {
    const sim::LoadSegment seg = profile_->segment_at(t);
    const double end = std::min(seg.end_s, to_s);
    const double dt = end - t;
    sim::LoadPhasors load = relay_closed_ ? seg.load : sim::LoadPhasors{};
    // The supply is a clean sinusoid here, so only the fundamental carries power.
    const std::complex<double> s1 = vrms_ * std::conj(load.at(1));
    const double p_true = s1.real();
    const double q_true = s1.imag();
    const double i_true = load.irms();
    if (p_true > 0) true_import_wh_ += p_true * dt / 3600.0;

    const double fp = tampering_.wiring.phase_clamp_fraction;
    const double fn = tampering_.wiring.neutral_clamp_fraction;
    const bool volts = tampering_.voltage_connected;
    const double v = volts ? vrms_ * v_gain_ : kNoVoltageVrms;
    const double i_phase = std::abs(fp) * i_true * i_gain_;
    const double i_neutral = std::abs(fn) * i_true * i_gain_;
    // A clamp fitted the wrong way round reverses the sign of power; no voltage, no power.
    double p = volts ? fp * p_true * v_gain_ * i_gain_ : 0.0;
    double q = volts ? fp * q_true * v_gain_ * i_gain_ : 0.0;
    if (i_phase < kStartingCurrentA) p = q = 0.0;  // the no-load rule
    sums_.duration_s += dt;
    sums_.v2 += v * v * dt;
    sums_.i2 += i_phase * i_phase * dt;
    sums_.n2 += i_neutral * i_neutral * dt;
    sums_.p += p * dt;
    sums_.q += q * dt;
    const double e_wh = p * dt / 3600.0;
    if (e_wh > 0) {
      sums_.import_wh += e_wh;
      import_.add_uwh(e_wh * 1e6);
      sums_.load_present = true;
    } else if (e_wh < 0) {
      sums_.export_wh -= e_wh;
      export_.add_uwh(-e_wh * 1e6);
      sums_.load_present = true;
    }
    t = end;
  }
}

ModelReading FastMeterModel::finish_period() {
  const double d = std::max(sums_.duration_s, 1e-9);
  core::PeriodReading r;
  r.sequence = sequence_++;
  r.duration_s = sums_.duration_s;
  r.t_end_s = period_start_s_ + sums_.duration_s;
  const bool volts = tampering_.voltage_connected;
  const double vrms = std::sqrt(sums_.v2 / d) * (1.0 + rng_.normal(0.0, kVrmsNoiseRel));
  double irms = std::sqrt(sums_.i2 / d);
  double nrms = std::sqrt(sums_.n2 / d);
  // ADC noise shows only above the core's noise floor; at zero current it reads 0.
  if (irms > kStartingCurrentA)
    irms = std::max(0.0, irms * (1.0 + rng_.normal(0.0, kIrmsNoiseRel)) + rng_.normal(0.0, kIrmsNoiseA));
  else irms = 0.0;
  if (nrms > kStartingCurrentA)
    nrms = std::max(0.0, nrms * (1.0 + rng_.normal(0.0, kIrmsNoiseRel)) + rng_.normal(0.0, kIrmsNoiseA));
  else nrms = 0.0;
  r.vrms = static_cast<float>(vrms);
  r.irms = static_cast<float>(irms);
  r.neutral_irms = static_cast<float>(nrms);
  // Power is the period's energy over its duration, so it agrees with the registers exactly.
  r.p_w = static_cast<float>(sums_.p / d);
  r.q_var = static_cast<float>(sums_.q / d);
  r.s_va = volts ? static_cast<float>(vrms * irms) : 0.0f;
  if (r.s_va > 0.0f) {
    const float pf = std::min(1.0f, std::fabs(r.p_w) / r.s_va);
    r.pf = r.q_var < 0.0f ? -pf : pf;
  } else {
    r.pf = 1.0f;
  }
  r.freq_hz = volts ? static_cast<float>(50.0 + rng_.normal(0.0, kFreqNoiseHz)) : 0.0f;
  r.cycles = volts ? static_cast<uint32_t>(std::lround(sums_.duration_s * 50.0)) : 0;
  r.import_uwh = import_.uwh();
  r.export_uwh = export_.uwh();
  r.period_import_wh = sums_.import_wh;
  r.period_export_wh = sums_.export_wh;
  r.flags = 0;
  if (!volts) r.flags |= core::kFlagNoVoltage;
  if (sums_.load_present) r.flags |= core::kFlagLoadPresent;
  ModelReading out{r, r.t_end_s};
  period_start_s_ += sums_.duration_s;
  sums_ = PeriodSums{};
  return out;
}

void FastMeterModel::advance_to(double t_s, std::vector<ModelReading>* out) {
  while (t_s > t_s_) {
    const double period_end = period_start_s_ + period_s_;
    const double to = std::min(t_s, period_end);
    integrate(t_s_, to);
    t_s_ = to;
    if (to >= period_end) out->push_back(finish_period());
  }
}

}  // namespace wattguard::fleet
