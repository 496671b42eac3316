// The metrology engine: raw ADC sample sets in, period readings and energy registers out.
//
// Every sample is accumulated (no gaps between periods). Work per sample is integer-only:
// offset subtraction, a fractional-sample delay for phase correction, a quarter-cycle
// delayed voltage for reactive power, and six multiply-accumulates. Floating point runs
// once per mains cycle. No heap, no exceptions: the object is a plain value of fixed size.
//
// Thread safety: none; one engine per sampling task.
#pragma once

#include <cstdint>

#include "wattguard/core/energy_register.h"
#include "wattguard/core/meter_config.h"
#include "wattguard/core/period_reading.h"
#include "wattguard/core/status.h"

namespace wattguard::core {

class MetrologyEngine {
 public:
  // Longest delay line: a quarter cycle at 45 Hz and 20 kHz (111 samples) plus the phase
  // correction (20 degrees) and interpolation margin.
  static constexpr uint32_t kDelayLineLength = 256;

  MetrologyEngine();

  // Applies a configuration and restarts measurement (registers are kept).
  // Returns the first problem with the configuration; the engine keeps the old one then.
  Status configure(const MeterConfig& config);
  const MeterConfig& config() const { return config_; }

  // Changes calibration in place without restarting (registers and period continue).
  Status set_calibration(const Calibration& cal);

  // Feeds one simultaneous sample set in raw ADC counts (0 .. 2^bits - 1).
  // Returns true when this sample completed a report period; last_reading() then holds it.
  bool add_sample(int32_t v, int32_t i, int32_t n = 0);

  const PeriodReading& last_reading() const { return last_; }

  // Registers as persisted (for instance across a reboot of the meter).
  void restore_registers(uint64_t import_uwh, uint64_t export_uwh);
  const EnergyRegister& import_register() const { return import_; }
  const EnergyRegister& export_register() const { return export_; }

  // Total samples consumed since configure().
  uint64_t samples() const { return sample_index_; }

 private:
  struct CycleSums {
    int64_t n = 0;
    int64_t v = 0, i = 0, nn = 0;        // sums of offset-corrected samples
    int64_t vv = 0, ii = 0, nsq = 0;     // sums of squares
    int64_t vi = 0;                      // sum of delayed-v (Q8) x delayed-i (Q8) >> 8
    int64_t v90i = 0;                    // sum of quarter-cycle-delayed v (Q8) x i (Q8) >> 8
    int64_t vd = 0, id = 0, v90 = 0;     // sums of the delayed channels (Q8), for DC removal
    bool v_clip = false, i_clip = false;
  };
  struct PeriodSums {
    double vv = 0, ii = 0, nsq = 0;      // sum over cycles of n * variance (counts^2)
    double p = 0, q = 0;                 // sum over cycles of n * covariance (counts^2)
    double samples = 0;
    double first_crossing = -1, last_crossing = -1;  // sample positions (fractional)
    uint32_t crossings = 0;
    uint32_t cycles = 0;
    double import_uwh = 0, export_uwh = 0;            // energy of the period's cycles
    uint32_t flags = 0;
  };

  void reset_measurement();
  void update_delays();
  void finish_cycle(double crossing_position, bool whole_cycle);
  void finish_period();
  void commit_pending_energy(bool load_present);

  MeterConfig config_;
  // Derived from the configuration.
  int32_t adc_max_ = 0;
  uint32_t samples_per_period_ = 0;
  uint32_t max_cycle_samples_ = 0;      // longer than this without a crossing: time-based block
  uint32_t min_cycle_samples_ = 0;      // crossings closer than this are glitches
  double uwh_per_count2_sample_ = 0;    // energy of one count x count for one sample, in uWh
  double p_start_counts2_ = 0;          // starting power threshold, counts^2 (half of it for creep)
  double i_noise_counts2_ = 0;

  // Delay lines (ring buffers of offset-corrected samples).
  int32_t v_hist_[kDelayLineLength];
  int32_t i_hist_[kDelayLineLength];
  uint32_t head_ = 0;
  // Delays in samples, integer part and Q8 fraction, for each delayed channel.
  uint32_t v_delay_int_ = 0, v_delay_frac_ = 0;
  uint32_t i_delay_int_ = 0, i_delay_frac_ = 0;
  uint32_t v90_delay_int_ = 0, v90_delay_frac_ = 0;
  float interp_gain_ = 1.0f;            // amplitude loss of the interpolation at the fundamental

  // Offsets (mid-scale estimate), updated once per cycle.
  int32_t v_offset_ = 0, i_offset_ = 0, n_offset_ = 0;
  uint32_t settle_cycles_ = 0;

  // Zero-crossing detector.
  int32_t prev_v_ = 0;
  bool armed_ = false;
  int32_t hysteresis_counts_ = 0;
  int32_t v_peak_ = 0;                  // peak |v| of the cycle in progress
  double last_crossing_pos_ = -1;
  float freq_estimate_hz_ = 0;

  CycleSums cycle_;
  PeriodSums period_;
  uint64_t sample_index_ = 0;
  uint64_t period_start_sample_ = 0;
  uint32_t period_sample_count_ = 0;
  uint32_t sequence_ = 0;

  // No-load rule: energy waits here until a decision window shows a load.
  double pending_import_uwh_ = 0, pending_export_uwh_ = 0;
  double window_p_ = 0, window_q_ = 0, window_ii_excess_ = 0, window_samples_ = 0;
  bool load_present_ = false;

  EnergyRegister import_;
  EnergyRegister export_;
  PeriodReading last_;
};

}  // namespace wattguard::core
