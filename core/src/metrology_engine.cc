// Metrology engine. The signal path, per sample:
//   raw counts -> minus DC offset -> delay lines -> phase-corrected v and i (Q8 linear
//   interpolation) and a quarter-cycle delayed v -> integer sums for the cycle in progress.
// At each positive-going voltage zero crossing the cycle is closed: its sums become
// covariances (which removes any DC left over exactly, over whole cycles), its energy goes to
// the period's pending import/export, and the offsets move to the cycle's mean. At the end of
// the report period a no-load rule decides whether the pending energy is real.
#include "wattguard/core/metrology_engine.h"

#include <cmath>

namespace wattguard::core {
namespace {

constexpr uint32_t kMask = MetrologyEngine::kDelayLineLength - 1;
constexpr double kPi = 3.14159265358979323846;
constexpr double kQ16 = 65536.0;
static_assert((MetrologyEngine::kDelayLineLength & kMask) == 0, "delay line must be a power of two");

// Splits a delay in samples into an integer part and a Q8 fraction.
void split_delay(double samples, uint32_t* whole, uint32_t* frac_q8) {
  if (samples < 0) samples = 0;
  const double limit = static_cast<double>(MetrologyEngine::kDelayLineLength - 2);
  if (samples > limit) samples = limit;
  auto w = static_cast<uint32_t>(samples);
  auto f = static_cast<uint32_t>(std::lround((samples - w) * 256.0));
  if (f == 256) {
    ++w;
    f = 0;
  }
  *whole = w;
  *frac_q8 = f;
}

// Amplitude that linear interpolation with fraction `frac_q8` keeps at `theta` rad/sample.
double interpolation_gain(uint32_t frac_q8, double theta) {
  const double a = frac_q8 / 256.0;
  return std::sqrt(1.0 - 2.0 * a * (1.0 - a) * (1.0 - std::cos(theta)));
}

inline int32_t delayed_q8(const int32_t* hist, uint32_t head, uint32_t whole, uint32_t frac) {
  const int32_t a = hist[(head - whole) & kMask];
  const int32_t b = hist[(head - whole - 1) & kMask];
  return a * static_cast<int32_t>(256 - frac) + b * static_cast<int32_t>(frac);
}

inline double as_double(int64_t x) { return static_cast<double>(x); }

}  // namespace

MetrologyEngine::MetrologyEngine() {
  MeterConfig c;
  c.cal = default_calibration(c.adc_bits);
  configure(c);
}

Status MetrologyEngine::configure(const MeterConfig& config) {
  const Status s = validate(config);
  if (s != Status::kOk) return s;
  config_ = config;
  if (config_.cal.n_per_count == 0.0f) config_.cal.n_per_count = config_.cal.i_per_count;
  const uint32_t fs = config_.sample_rate_hz;
  adc_max_ = (1 << config_.adc_bits) - 1;
  samples_per_period_ = static_cast<uint32_t>((static_cast<uint64_t>(config_.report_period_ms) * fs + 500) / 1000);
  if (samples_per_period_ == 0) samples_per_period_ = 1;
  min_cycle_samples_ = static_cast<int32_t>(fs / 70);
  // Without crossings for 0.2 s the voltage is gone: current is then measured in 0.2 s
  // blocks (long enough that a block's mean barely depends on where the waveform stands).
  max_cycle_samples_ = static_cast<int32_t>(fs / 5);
  arm_samples_ = static_cast<int32_t>(fs / 2000) < 2 ? 2 : static_cast<int32_t>(fs / 2000);
  derive_scales();
  reset_measurement();
  return Status::kOk;
}

Status MetrologyEngine::set_calibration(const Calibration& cal) {
  MeterConfig c = config_;
  c.cal = cal;
  const Status s = validate(c);
  if (s != Status::kOk) return s;
  config_.cal = cal;
  if (config_.cal.n_per_count == 0.0f) config_.cal.n_per_count = config_.cal.i_per_count;
  derive_scales();
  update_delays();
  return Status::kOk;
}

void MetrologyEngine::derive_scales() {
  const double vpc = config_.cal.v_per_count;
  const double ipc = config_.cal.i_per_count;
  uwh_per_count2_sample_ = vpc * ipc / config_.sample_rate_hz / 3600.0 * 1e6;
  const double i_start_a = static_cast<double>(config_.basic_current_a) * config_.starting_current_ratio;
  p_start_counts2_ = config_.nominal_voltage_v * i_start_a / (vpc * ipc);
  i_start_counts2_ = (i_start_a / ipc) * (i_start_a / ipc);
  i_noise_counts2_ = static_cast<double>(config_.cal.i_noise_counts) * config_.cal.i_noise_counts;
  // 5 % of the nominal peak: far above ADC noise, far below any usable mains voltage.
  const double h = 0.05 * config_.nominal_voltage_v * 1.41421356 / vpc;
  hysteresis_counts_ = h < 2.0 ? 2 : static_cast<int32_t>(h);
}

void MetrologyEngine::reset_measurement() {
  for (uint32_t k = 0; k < kDelayLineLength; ++k) v_hist_[k] = i_hist_[k] = 0;
  head_ = 0;
  const int32_t mid = 1 << (config_.adc_bits - 1);
  v_offset_ = i_offset_ = n_offset_ = mid;
  prev_v_ = 0;
  armed_ = false;
  candidate_ = false;
  candidate_pos_ = 0.0;
  below_ = 0;
  last_crossing_pos_ = -1.0;
  freq_estimate_hz_ = config_.nominal_frequency_hz;
  cycle_ = CycleSums{};
  period_ = PeriodSums{};
  sample_index_ = 0;
  period_sample_count_ = 0;
  sequence_ = 0;
  last_ = PeriodReading{};
  update_delays();
}

void MetrologyEngine::update_delays() {
  const double fs = config_.sample_rate_hz;
  double f = freq_estimate_hz_;
  if (!(f >= 40.0 && f <= 70.0)) f = config_.nominal_frequency_hz;
  const double samples_per_cycle = fs / f;
  const double phase_samples = std::fabs(config_.cal.phase_deg) / 360.0 * samples_per_cycle;
  // The channel that leads is delayed; the other passes straight through.
  const double v_delay = config_.cal.phase_deg < 0 ? phase_samples : 0.0;
  const double i_delay = config_.cal.phase_deg > 0 ? phase_samples : 0.0;
  split_delay(v_delay, &v_delay_int_, &v_delay_frac_);
  split_delay(i_delay, &i_delay_int_, &i_delay_frac_);
  split_delay(v_delay + samples_per_cycle / 4.0, &v90_delay_int_, &v90_delay_frac_);
  const double theta = 2.0 * kPi * f / fs;
  const double gi = interpolation_gain(i_delay_frac_, theta);
  gain_p_ = interpolation_gain(v_delay_frac_, theta) * gi;
  gain_q_ = interpolation_gain(v90_delay_frac_, theta) * gi;
}

// The hot loop. State lives in locals (registers) and is written back only when a cycle or a
// period ends, which is what keeps it near 10 ns per sample set on a desktop core.
template <bool kNeutral>
uint32_t MetrologyEngine::run(const uint16_t* v_in, const uint16_t* i_in, const uint16_t* n_in, uint32_t count) {
  CycleSums c = cycle_;
  int32_t v_off = v_offset_, i_off = i_offset_, n_off = n_offset_;
  uint32_t head = head_;
  int32_t prev_v = prev_v_;
  bool armed = armed_;
  bool candidate = candidate_;
  double candidate_pos = candidate_pos_;
  int32_t below = below_;
  const int32_t hysteresis = hysteresis_counts_, adc_max = adc_max_, arm_samples = arm_samples_;
  int32_t min_cycle = min_cycle_samples_;
  const int32_t max_cycle = max_cycle_samples_;
  uint32_t vdi = v_delay_int_, vdf = v_delay_frac_, idi = i_delay_int_, idf = i_delay_frac_;
  uint32_t v9i = v90_delay_int_, v9f = v90_delay_frac_;
  int32_t* const vh = v_hist_;
  int32_t* const ih = i_hist_;

  // Writes the locals back, lets the member functions close the cycle, reloads what changed.
  auto close_cycle = [&](double position, bool whole) {
    cycle_ = c;
    finish_cycle(position, whole);
    c = cycle_;
    min_cycle = min_cycle_samples_;
    v_off = v_offset_;
    i_off = i_offset_;
    n_off = n_offset_;
    vdi = v_delay_int_;
    vdf = v_delay_frac_;
    idi = i_delay_int_;
    idf = i_delay_frac_;
    v9i = v90_delay_int_;
    v9f = v90_delay_frac_;
  };

  uint32_t k = 0;
  bool period_done = false;
  while (k < count) {
    const int32_t v = v_in[k];
    const int32_t i = i_in[k];
    const int32_t xv = v - v_off;
    const int32_t xi = i - i_off;
    if (v <= 0 || v >= adc_max) c.v_clip = true;
    if (i <= 0 || i >= adc_max) c.i_clip = true;

    // Positive-going zero crossing. Arms once the voltage has stayed below -h for a few
    // samples (a one-sample spike cannot arm it); fires when two samples in a row are >= 0
    // (a one-sample spike cannot fire it), at the instant interpolated before the first.
    if (armed) {
      if (xv >= 0) {
        if (candidate) {
          armed = false;
          candidate = false;
          below = 0;
          // Sooner than 80 % of the expected cycle (or than a 70 Hz cycle): a glitch.
          if (c.n >= min_cycle) {
            close_cycle(candidate_pos, true);
            continue;  // re-run this sample against the new offsets
          }
        } else {
          candidate = true;
          const double frac = static_cast<double>(-prev_v) / static_cast<double>(xv - prev_v);
          candidate_pos = static_cast<double>(sample_index_ + k) - 1.0 + frac;
        }
      } else {
        candidate = false;
      }
    } else if (xv < -hysteresis) {
      if (++below >= arm_samples) armed = true;
    } else {
      below = 0;
    }
    if (c.n >= max_cycle) {
      close_cycle(static_cast<double>(sample_index_ + k), false);
      continue;
    }
    prev_v = xv;

    head = (head + 1) & kMask;
    vh[head] = xv;
    ih[head] = xi;
    const int64_t vd = delayed_q8(vh, head, vdi, vdf);
    const int64_t id = delayed_q8(ih, head, idi, idf);
    const int64_t v90 = delayed_q8(vh, head, v9i, v9f);
    ++c.n;
    c.v += xv;
    c.i += xi;
    c.vv += static_cast<int64_t>(xv) * xv;
    c.ii += static_cast<int64_t>(xi) * xi;
    c.vd += vd;
    c.id += id;
    c.v90 += v90;
    c.vdid += vd * id;
    c.v90id += v90 * id;
    if (kNeutral) {
      const int32_t xn = static_cast<int32_t>(n_in[k]) - n_off;
      c.nn += xn;
      c.nsq += static_cast<int64_t>(xn) * xn;
    }
    ++k;
    if (++period_sample_count_ >= samples_per_period_) {
      period_done = true;
      break;
    }
  }
  cycle_ = c;
  head_ = head;
  prev_v_ = prev_v;
  armed_ = armed;
  candidate_ = candidate;
  candidate_pos_ = candidate_pos;
  below_ = below;
  sample_index_ += k;
  if (period_done) finish_period();
  last_period_done_ = period_done;
  return k;
}

bool MetrologyEngine::add_sample(int32_t v, int32_t i, int32_t n) {
  // Counts outside the ADC's range cannot come from the ADC; clamp rather than overflow.
  auto clamp = [this](int32_t x) { return static_cast<uint16_t>(x < 0 ? 0 : (x > adc_max_ ? adc_max_ : x)); };
  const uint16_t vs = clamp(v), is = clamp(i), ns = clamp(n);
  if (config_.has_neutral_channel) {
    run<true>(&vs, &is, &ns, 1);
  } else {
    run<false>(&vs, &is, nullptr, 1);
  }
  return last_period_done_;
}

uint32_t MetrologyEngine::add_samples(const uint16_t* v, const uint16_t* i, const uint16_t* n, uint32_t count) {
  if (config_.has_neutral_channel && n != nullptr) return run<true>(v, i, n, count);
  return run<false>(v, i, nullptr, count);
}

void MetrologyEngine::finish_cycle(double crossing_position, bool whole_cycle) {
  const CycleSums& c = cycle_;
  if (c.n == 0) return;
  const double n = c.n;
  const double mv = as_double(c.v) / n;
  const double mi = as_double(c.i) / n;
  const double var_v = static_cast<double>(c.vv) / n - mv * mv;
  const double var_i = static_cast<double>(c.ii) / n - mi * mi;
  // Covariances over the cycle: the mean products minus the product of means, so whatever
  // DC the offset tracker has not removed yet contributes nothing.
  const double md = as_double(c.id) / n;
  const double p = (static_cast<double>(c.vdid) / n - (as_double(c.vd) / n) * md) / kQ16 / gain_p_;
  const double q = (static_cast<double>(c.v90id) / n - (as_double(c.v90) / n) * md) / kQ16 / gain_q_;

  PeriodSums& ps = period_;
  ps.samples += n;
  ps.vv += var_v * n;
  ps.ii += var_i * n;
  ps.p += p * n;
  ps.q += q * n;
  ps.v_clip = ps.v_clip || c.v_clip;
  ps.i_clip = ps.i_clip || c.i_clip;
  if (config_.has_neutral_channel) {
    const double mn = as_double(c.nn) / n;
    ps.nsq += (static_cast<double>(c.nsq) / n - mn * mn) * n;
  }

  if (whole_cycle) {
    ++ps.cycles;
    // Energy counts only while there is voltage: without it the product is noise.
    // Direction is decided on the net energy of ~1 s windows, not per cycle: at the starting
    // current one cycle's noise can exceed its power, and splitting noise by sign would
    // book it as both import and export.
    ps.window_uwh += p * n * uwh_per_count2_sample_;
    ps.window_samples += static_cast<uint32_t>(c.n);
    if (ps.window_samples >= config_.sample_rate_hz) settle_direction_window();
    if (last_crossing_pos_ >= 0) {
      const double length = crossing_position - last_crossing_pos_;
      ps.freq_cycles += 1;
      ps.freq_samples += length;
      const double f = config_.sample_rate_hz / length;
      freq_estimate_hz_ += 0.2 * (f - freq_estimate_hz_);
      update_delays();
      // Locked: a crossing sooner than 80 % of the expected cycle is a glitch.
      const uint32_t fs = config_.sample_rate_hz;
      const auto expected = static_cast<int32_t>(0.8 * fs / freq_estimate_hz_);
      const auto floor = static_cast<int32_t>(fs / 70);
      min_cycle_samples_ = expected > floor ? expected : floor;
    }
    last_crossing_pos_ = crossing_position;
  } else {
    last_crossing_pos_ = -1.0;  // the chain of crossings is broken
    min_cycle_samples_ = static_cast<int32_t>(config_.sample_rate_hz / 70);
  }

  // Follow the DC offsets. Over a whole cycle the mean is exactly the offset; over a
  // time-based block it is only an estimate, so move half of the way.
  const double step_share = whole_cycle ? 1.0 : 0.5;
  v_offset_ += static_cast<int32_t>(std::lround(mv * step_share));
  i_offset_ += static_cast<int32_t>(std::lround(mi * step_share));
  if (config_.has_neutral_channel) {
    n_offset_ += static_cast<int32_t>(std::lround(as_double(c.nn) / n * step_share));
  }
  cycle_ = CycleSums{};
}

void MetrologyEngine::settle_direction_window() {
  PeriodSums& ps = period_;
  if (ps.window_uwh >= 0) {
    ps.pending_import_uwh += ps.window_uwh;
  } else {
    ps.pending_export_uwh -= ps.window_uwh;
  }
  ps.window_uwh = 0;
  ps.window_samples = 0;
}

void MetrologyEngine::finish_period() {
  const double fs = config_.sample_rate_hz;
  const double vpc = config_.cal.v_per_count;
  const double ipc = config_.cal.i_per_count;
  settle_direction_window();
  PeriodSums& ps = period_;
  PeriodReading r;
  r.sequence = sequence_++;
  r.end_sample = sample_index_;
  r.t_end_s = static_cast<double>(sample_index_) / fs;
  r.duration_s = period_sample_count_ / fs;
  r.cycles = ps.cycles;
  const bool has_voltage = ps.cycles > 0;
  if (!has_voltage) r.flags |= kFlagNoVoltage;
  if (ps.v_clip) r.flags |= kFlagVoltageClipped;
  if (ps.i_clip) r.flags |= kFlagCurrentClipped;
  if (sample_index_ - period_sample_count_ < config_.sample_rate_hz) r.flags |= kFlagSettling;

  bool load = false;
  if (ps.samples > 0) {
    const double n = ps.samples;
    const double var_v = ps.vv / n;
    const double var_i = ps.ii / n;
    const double p = ps.p / n;
    const double q = ps.q / n;
    r.vrms = static_cast<float>(std::sqrt(var_v > 0 ? var_v : 0) * vpc);
    // No-load rule. Current-channel noise is uncorrelated with the voltage, so it averages out
    // of P and Q but adds its power to Irms^2. A load is present when the coherent power
    // clearly exceeds half the starting power (and five standard deviations of what the
    // configured noise could produce), or when the current's power exceeds the noise power by
    // five times the starting current's (a load with no voltage, or pure harmonics).
    const double sigma_pq = std::sqrt(var_v * i_noise_counts2_ / n);
    const double coherent = std::sqrt(p * p + q * q);
    const double excess_i2 = var_i - i_noise_counts2_;
    const double excess_floor = 25.0 * i_start_counts2_ + 5.0 * i_noise_counts2_ * std::sqrt(2.0 / n);
    const bool coherent_load = has_voltage && coherent >= 0.5 * p_start_counts2_ && coherent >= 5.0 * sigma_pq;
    load = coherent_load || excess_i2 >= excess_floor;
    if (load) {
      double irms2 = excess_i2 > 0 ? excess_i2 : 0;
      // The current coherent with the voltage is measured free of noise. Whatever Irms^2 holds
      // beyond it (harmonics, incoherent current) counts only where it stands clear of the
      // uncertainty of the noise-power estimate; otherwise small loads read noisy.
      if (has_voltage && var_v > 0) {
        const double fundamental2 = coherent * coherent / var_v;
        const double rest2 = excess_i2 - fundamental2;
        const double noise_uncertainty2 = 3.0 * i_noise_counts2_ * std::sqrt(2.0 / n);
        irms2 = fundamental2 + (rest2 > noise_uncertainty2 ? rest2 : 0.0);
      }
      const double irms_counts = std::sqrt(irms2);
      r.irms = static_cast<float>(irms_counts * ipc);
      if (has_voltage) {
        r.p_w = static_cast<float>(p * vpc * ipc);
        r.q_var = static_cast<float>(q * vpc * ipc);
      }
      r.s_va = r.vrms * r.irms;
      if (r.s_va > 0) {
        float pf = std::fabs(r.p_w) / r.s_va;
        if (pf > 1.0f) pf = 1.0f;
        // Leading only when it shows: a unity PF must not flicker between +1 and -1.
        r.pf = (r.q_var < 0 && pf < 0.9995f) ? -pf : pf;
      }
      r.flags |= kFlagLoadPresent;
    }
    if (config_.has_neutral_channel) {
      const double npc = config_.cal.n_per_count;
      const double excess_n2 = ps.nsq / n - i_noise_counts2_ * (ipc / npc) * (ipc / npc);
      const double floor_n2 = 25.0 * i_start_counts2_ * (ipc / npc) * (ipc / npc);
      if (excess_n2 >= floor_n2) r.neutral_irms = static_cast<float>(std::sqrt(excess_n2) * npc);
    }
  }
  if (ps.freq_cycles > 0 && ps.freq_samples > 0) {
    r.freq_hz = static_cast<float>(ps.freq_cycles * fs / ps.freq_samples);
  }
  if (load && has_voltage) {
    import_.add_uwh(ps.pending_import_uwh);
    export_.add_uwh(ps.pending_export_uwh);
    r.period_import_wh = ps.pending_import_uwh * 1e-6;
    r.period_export_wh = ps.pending_export_uwh * 1e-6;
  }
  r.import_uwh = import_.uwh();
  r.export_uwh = export_.uwh();
  last_ = r;
  period_ = PeriodSums{};
  period_sample_count_ = 0;
}

void MetrologyEngine::restore_registers(uint64_t import_uwh, uint64_t export_uwh) {
  import_.restore(import_uwh);
  export_.restore(export_uwh);
}

}  // namespace wattguard::core
