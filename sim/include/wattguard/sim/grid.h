// The mains supply: voltage, frequency (steps and drift) and voltage harmonics.
#pragma once

#include <complex>
#include <vector>

#include "wattguard/sim/harmonic.h"

namespace wattguard::sim {

// From t_s on, the frequency is frequency_hz + drift_hz_per_s * (t - t_s).
struct FrequencyStep {
  double t_s = 0.0;
  double frequency_hz = 50.0;
  double drift_hz_per_s = 0.0;
};

struct GridConfig {
  double vrms = 230.0;                  // RMS of the fundamental, volts
  double frequency_hz = 50.0;           // at t = 0
  double drift_hz_per_s = 0.0;          // linear drift from t = 0 until the first schedule step
  std::vector<FrequencyStep> schedule;  // sorted by t_s, each t_s > 0
  std::vector<Harmonic> harmonics;      // orders 2..15, percent of the fundamental
  // false: a supply outage. No voltage, and no load current can flow (truth is all zero).
  // (A meter whose voltage link was removed while the supply is on is a sensor matter:
  // VoltageSensorConfig::connected.)
  bool present = true;
};

// Phase and frequency of the supply as functions of time, exact for the piecewise-linear
// frequency law above. Thread-safe (immutable after construction).
class GridClock {
 public:
  explicit GridClock(const GridConfig& config);

  double frequency_at(double t_s) const;
  // Phase of the fundamental at t_s in cycles, reduced to [0, 1). Zero at t = 0.
  double cycles_at(double t_s) const;
  // Cycles elapsed from t0_s to t1_s (t1_s >= t0_s), not reduced.
  double cycles_between(double t0_s, double t1_s) const;
  // First schedule step after t_s, or +infinity.
  double next_step_after(double t_s) const;
  // True when the frequency never changes (no drift, no schedule).
  bool constant() const { return constant_; }

 private:
  struct Piece {
    double t_s;
    double f_hz;
    double drift_hz_per_s;
    double start_cycles;  // reduced to [0, 1)
  };
  const Piece& piece_at(double t_s) const;
  std::vector<Piece> pieces_;
  bool constant_ = true;
};

// RMS voltage phasors per harmonic order (index 0 unused), the fundamental at angle 0.
// All zero when the supply is absent.
std::vector<std::complex<double>> voltage_phasors(const GridConfig& config);

// Total RMS of the voltage including harmonics (0 when absent).
double total_vrms(const GridConfig& config);

}  // namespace wattguard::sim
