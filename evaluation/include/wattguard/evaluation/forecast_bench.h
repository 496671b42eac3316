// The forecast benchmark (`wattguard bench forecast`, docs/forecasting.md): half-hourly day-ahead forecasts made
// at every local midnight after a warm-up, on each real data set, scored against three baselines, with the
// households split once and for all into a tuning part and a held-out part.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wattguard/analytics/forecast_session.h"
#include "wattguard/base/expected.h"
#include "wattguard/evaluation/real_households.h"

namespace wattguard::evaluation {

// The fixed split: a household is in the tuning part when the FNV-1a 64-bit hash of its id is even, else
// held out. Parameters are chosen on the tuning part only; the figures that count are the held-out ones.
bool in_tuning_split(const std::string& household_id);

struct ForecastDataSet {
  std::string name;  // "EDRP", "SGSC", "AU4"
  std::string source;
  std::vector<RealHousehold> households;
};

// Every households-real/*.csv.gz under `data_dir` (a data set named by the file name's first word, upper case)
// and households/ (the four Australian exports, "AU4"), each cut to `max_households` (0: all). An Error when
// there is none.
Expected<std::vector<ForecastDataSet>> load_forecast_data_sets(const std::string& data_dir, int max_households = 0);

// A household's days on one half-hourly history from its first day (missing days NaN); the local labels are
// read as UTC (offset 0), so local midnights are UTC midnights.
analytics::HalfHourHistory household_history(const RealHousehold& household);

// Forecasts start after this many days of a household's data, so that every feature and the residual window
// are full. A day-ahead forecast is scored when the day and the seven before it are complete.
inline constexpr int kForecastWarmupDays = 28;
// Days using less than this are left out of the daily-total MAPE (a percentage of almost nothing; counted).
inline constexpr double kMapeMinDayKwh = 1.0;

// The scores of one split of one data set. MAEs are kWh per half-hour, pooled over every scored slot.
struct ForecastScores {
  int households = 0;
  int64_t days = 0;    // scored day-ahead forecasts
  int64_t points = 0;  // scored half-hours
  double mae_model = 0, mae_yesterday = 0, mae_last_week = 0, mae_median_7d = 0;
  double ratio_to_best_baseline = 0;  // mae_model / min(baseline MAEs)
  std::string best_baseline;
  double mape_model = 0, mape_yesterday = 0, mape_last_week = 0, mape_median_7d = 0;  // daily totals, percent
  int64_t mape_days_excluded = 0;                                                     // under kMapeMinDayKwh
  double coverage_p10_p90 = 0;      // share of actual half-hours within [p10, p90]
  int64_t cycles = 0;               // household-months scored from the 15th
  double cycle_end_ape_median = 0;  // median over households of each one's median absolute % error
  double cycle_end_ape_p90 = 0;     // 90th percentile over households
  double cycle_end_coverage = 0;    // share of household-months whose total fell in the 80 % interval
  // For calibration: per household-month, |actual - p50| of the forecast rest of the month over the
  // interval's half-width (<= 1 means inside).
  std::vector<double> cycle_standardised_errors;
};

struct ForecastDataSetResult {
  std::string name;
  std::string source;
  ForecastScores held_out;
  ForecastScores tuning;
};

struct ForecastBenchResult {
  std::vector<ForecastDataSetResult> sets;
  analytics::ForecastParams params;
  double seconds = 0;  // wall time of the evaluation (loading excluded)
};

// Called with the share done (0..1) and the data set being scored.
using ForecastProgress = std::function<void(double, const std::string&)>;

// Scores every household of every data set. `tuning_only` skips the held-out households (for --tune).
ForecastBenchResult run_forecast_bench(const std::vector<ForecastDataSet>& sets,
                                       const analytics::ForecastParams& params, bool tuning_only = false,
                                       const ForecastProgress& progress = {});

nlohmann::json forecast_bench_to_json(const ForecastBenchResult& result);
std::string forecast_bench_to_table(const ForecastBenchResult& result);

}  // namespace wattguard::evaluation
