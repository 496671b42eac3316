// Printing period readings for people (a table) and for programs (one JSON object per line).
#pragma once

#include <cstdio>
#include <optional>

#include "wattguard/core/period_reading.h"
#include "wattguard/sim/truth.h"

namespace wattguard::cli {

struct ReportOptions {
  bool json = false;
  bool show_truth = false;  // simulate: print true values and % errors
};

class MeterReport {
 public:
  MeterReport(std::FILE* out, ReportOptions options) : out_(out), options_(options) {}

  // One period. `truth` (simulate only) is the true state at the period's end and
  // `truth_start` at its start (for the period's true energy).
  void reading(const core::PeriodReading& r, const std::optional<sim::Truth>& truth = std::nullopt);

  // Closing lines (text mode only): energy measured against truth over the whole run.
  void summary(const core::PeriodReading& first, const core::PeriodReading& last,
               const std::optional<sim::Truth>& truth_first, const std::optional<sim::Truth>& truth_last);

 private:
  void header();

  std::FILE* out_;
  ReportOptions options_;
  bool header_done_ = false;
};

// Percentage error of `measured` against `truth`; 0 when both are 0, NaN when only truth is 0.
double percent_error(double measured, double truth);

}  // namespace wattguard::cli
