// The current of one or more loads as complex RMS phasors per harmonic order.
//
// Several appliances on one supply sum as phasors, order by order. Phasors are relative to
// the supply voltage's fundamental (angle 0): harmonic h of the current is
// sqrt(2) |I_h| sin(h theta + arg I_h) where the voltage fundamental is sin(theta).
#pragma once

#include <array>
#include <complex>

#include "wattguard/sim/harmonic.h"
#include "wattguard/sim/load_state.h"

namespace wattguard::sim {

class LoadPhasors {
 public:
  LoadPhasors() = default;
  // Implicit on purpose: a LoadState can be used wherever a sum of loads is expected.
  LoadPhasors(const LoadState& state);  // NOLINT(google-explicit-constructor)

  // RMS phasor of harmonic `order` (1..kMaxHarmonicOrder), amperes.
  std::complex<double> at(int order) const { return current_a_[static_cast<size_t>(order)]; }
  void set(int order, std::complex<double> phasor) { current_a_[static_cast<size_t>(order)] = phasor; }

  LoadPhasors& operator+=(const LoadPhasors& other);
  friend LoadPhasors operator+(LoadPhasors a, const LoadPhasors& b) { return a += b; }
  LoadPhasors scaled(double factor) const;

  double irms() const;  // total RMS including harmonics
  double fundamental_rms() const { return std::abs(current_a_[1]); }
  bool is_zero() const;

 private:
  std::array<std::complex<double>, kMaxHarmonicOrder + 1> current_a_{};
};

}  // namespace wattguard::sim
