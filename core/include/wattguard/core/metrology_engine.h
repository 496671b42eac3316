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

  // Feeds a block of simultaneous samples (as a DMA buffer delivers them). `n` may be null
  // when there is no neutral channel. Stops right after a sample that completes a report
  // period, so the caller can take last_reading() and call again with the rest.
  // Returns the number of sample sets consumed.
  uint32_t add_samples(const uint16_t* v, const uint16_t* i, const uint16_t* n, uint32_t count);

  const PeriodReading& last_reading() const { return last_; }
  // True when the last add_sample()/add_samples() call ended with a completed period.
  bool period_completed() const { return last_period_done_; }

  // Registers as persisted (for instance across a reboot of the meter).
  void restore_registers(uint64_t import_uwh, uint64_t export_uwh);
  const EnergyRegister& import_register() const { return import_; }
  const EnergyRegister& export_register() const { return export_; }

  // Total samples consumed since configure().
  uint64_t samples() const { return sample_index_; }

 private:
  // Integer sums over one mains cycle (or one time-based block when there is no voltage).
  // Sizes: 16-bit samples, Q8 delayed channels and at most ~1,100 samples per cycle keep
  // every sum far inside int64.
  struct CycleSums {
    int32_t n = 0;
    int64_t v = 0, i = 0, nn = 0;     // offset-corrected samples
    int64_t vv = 0, ii = 0, nsq = 0;  // their squares
    int64_t vd = 0, id = 0, v90 = 0;  // delayed channels (Q8)
    int64_t vdid = 0;                 // delayed v x delayed i (Q16): real power
    int64_t v90id = 0;                // quarter-cycle delayed v x delayed i (Q16): reactive power
    bool v_clip = false, i_clip = false;
  };
  // Per-cycle results summed over a report period, weighted by samples (counts^2 x samples).
  struct PeriodSums {
    double samples = 0;
    double vv = 0, ii = 0, nsq = 0;
    double p = 0, q = 0;
    uint32_t cycles = 0;       // whole cycles (between two voltage zero crossings)
    uint32_t freq_cycles = 0;  // cycles whose start crossing is known
    double freq_samples = 0;   // their total length in samples
    double window_uwh = 0;     // net energy of the direction window in progress
    uint32_t window_samples = 0;
    double pending_import_uwh = 0;  // energy waiting for the period's no-load decision
    double pending_export_uwh = 0;
    bool v_clip = false, i_clip = false;
  };

  template <bool kNeutral>
  uint32_t run(const uint16_t* v, const uint16_t* i, const uint16_t* n, uint32_t count);
  void derive_scales();
  void reset_measurement();
  void update_delays();
  void finish_cycle(double crossing_position, bool whole_cycle);
  void settle_direction_window();
  void finish_period();

  MeterConfig config_;
  // Derived from the configuration.
  int32_t adc_max_ = 0;
  uint32_t samples_per_period_ = 0;
  int32_t min_cycle_samples_ = 0;     // shorter cycles are glitches (70 Hz; 80 % of the cycle when locked)
  int32_t max_cycle_samples_ = 0;     // no crossing for this long: close a time-based block
  int32_t arm_samples_ = 0;           // samples below -h needed to arm the detector
  int32_t hysteresis_counts_ = 0;     // voltage must go this far below zero to arm a crossing
  double uwh_per_count2_sample_ = 0;  // energy of 1 count x 1 count held for one sample, uWh
  double p_start_counts2_ = 0;        // power at the starting current and nominal voltage
  double i_start_counts2_ = 0;        // starting current squared
  double i_noise_counts2_ = 0;        // current-channel noise power

  // Delay lines of offset-corrected samples.
  int32_t v_hist_[kDelayLineLength];
  int32_t i_hist_[kDelayLineLength];
  uint32_t head_ = 0;
  // Delays in samples: integer part and Q8 fraction.
  uint32_t v_delay_int_ = 0, v_delay_frac_ = 0;
  uint32_t i_delay_int_ = 0, i_delay_frac_ = 0;
  uint32_t v90_delay_int_ = 0, v90_delay_frac_ = 0;
  // Amplitude kept by linear interpolation at the fundamental, for P and for Q.
  double gain_p_ = 1.0, gain_q_ = 1.0;

  // DC offsets in counts, updated once per cycle.
  int32_t v_offset_ = 0, i_offset_ = 0, n_offset_ = 0;

  // Zero-crossing detector.
  int32_t prev_v_ = 0;
  bool armed_ = false;
  bool candidate_ = false;  // one sample >= 0 seen; a second one confirms
  double candidate_pos_ = 0.0;
  int32_t below_ = 0;                // consecutive samples below -h
  double last_crossing_pos_ = -1.0;  // sample position of the last accepted crossing
  double freq_estimate_hz_ = 50.0;   // smoothed, drives the delays

  CycleSums cycle_;
  PeriodSums period_;
  uint64_t sample_index_ = 0;
  uint32_t period_sample_count_ = 0;
  uint32_t sequence_ = 0;
  bool last_period_done_ = false;  // the last run() ended a period

  EnergyRegister import_;
  EnergyRegister export_;
  PeriodReading last_;
};

}  // namespace wattguard::core
