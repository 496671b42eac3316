// Non-negative least squares in normal-equation form: minimise 0.5 c'Gc - b'c subject to c >= 0 (optionally
// leaving some coefficients free). Small dense problems (a few hundred unknowns); warm starts make repeated
// solves over a sliding window cheap.
#pragma once

#include <cstddef>
#include <vector>

namespace wattguard::analytics {

struct NnlsOptions {
  int max_sweeps = 400;
  double tolerance = 1e-9;    // stop when no coefficient moves by more than this (relative)
  std::vector<bool> free;     // coefficients without the sign constraint (empty: all constrained)
  std::vector<double> upper;  // upper bounds (empty: none); a box-constrained least squares
};

// G is p x p, row-major, symmetric positive semi-definite; b has p entries; c is the start (resized to p
// if it has the wrong size) and receives the solution. Returns the number of sweeps used.
int solve_nnls_gram(const std::vector<double>& gram, const std::vector<double>& b, std::vector<double>* c,
                    const NnlsOptions& options = {});

}  // namespace wattguard::analytics
