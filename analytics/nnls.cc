// Projected coordinate descent for NNLS on the Gram matrix: simple, exact at convergence, and warm-startable.
#include "analytics/nnls.h"

#include <algorithm>
#include <cmath>

namespace wattguard::analytics {

int solve_nnls_gram(const std::vector<double>& gram, const std::vector<double>& b, std::vector<double>* c,
                    const NnlsOptions& options) {
  const size_t p = b.size();
  if (c->size() != p) c->assign(p, 0.0);
  std::vector<double>& x = *c;
  // gradient g = G x - b, kept up to date as coordinates move
  std::vector<double> g(p, 0.0);
  for (size_t i = 0; i < p; ++i) {
    double s = -b[i];
    for (size_t j = 0; j < p; ++j) s += gram[i * p + j] * x[j];
    g[i] = s;
  }
  double scale = 0;
  for (size_t i = 0; i < p; ++i) scale = std::max(scale, std::abs(x[i]));
  int sweep = 0;
  for (; sweep < options.max_sweeps; ++sweep) {
    double biggest_move = 0;
    for (size_t j = 0; j < p; ++j) {
      const double gjj = gram[j * p + j];
      if (gjj <= 0) continue;
      double next = x[j] - g[j] / gjj;
      const bool is_free = j < options.free.size() && options.free[j];
      if (!is_free) next = std::max(0.0, next);
      if (j < options.upper.size()) next = std::min(next, options.upper[j]);
      const double delta = next - x[j];
      if (delta == 0) continue;
      x[j] = next;
      const double* row = &gram[j * p];  // symmetric: column j equals row j
      for (size_t i = 0; i < p; ++i) g[i] += row[i] * delta;
      biggest_move = std::max(biggest_move, std::abs(delta));
      scale = std::max(scale, std::abs(next));
    }
    if (biggest_move <= options.tolerance * std::max(1.0, scale)) break;
  }
  return sweep;
}

}  // namespace wattguard::analytics
