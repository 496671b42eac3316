// Building a load state from the power it draws.
#include "wattguard/sim/load_state.h"

#include <utility>

namespace wattguard::sim {

LoadState load_for_power(double power_w, double pf, bool leading, std::vector<Harmonic> harmonics, double vrms) {
  LoadState state;
  const double magnitude_w = power_w < 0.0 ? -power_w : power_w;
  state.pf = pf;
  state.leading = leading;
  state.direction = power_w < 0.0 ? PowerDirection::kExport : PowerDirection::kImport;
  state.irms_a = (vrms > 0.0 && pf > 0.0) ? magnitude_w / (vrms * pf) : 0.0;
  state.harmonics = std::move(harmonics);
  return state;
}

}  // namespace wattguard::sim
