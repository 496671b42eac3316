// ROC AUC of a score: the probability that a random positive scores above a random negative (ties count half).
#pragma once

#include <vector>

namespace wattguard::evaluation {

// NaN when either side is empty.
double roc_auc(const std::vector<double>& positives, const std::vector<double>& negatives);

}  // namespace wattguard::evaluation
