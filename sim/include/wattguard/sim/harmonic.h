// One harmonic component of a waveform: its order, size relative to the fundamental, and phase.
#pragma once

namespace wattguard::sim {

// Highest harmonic order the simulator models (voltage and current).
inline constexpr int kMaxHarmonicOrder = 15;

struct Harmonic {
  int order = 3;         // 2..kMaxHarmonicOrder
  double percent = 0.0;  // RMS of this harmonic as a percentage of the fundamental's RMS
  // Phase in degrees of this harmonic, in its own time scale, relative to the fundamental of
  // the same waveform: the component is sin(order * theta + phase) where the fundamental is
  // sin(theta). Keeping it relative to the waveform's own fundamental keeps the wave shape
  // when a load's displacement angle changes.
  double phase_deg = 0.0;
};

}  // namespace wattguard::sim
