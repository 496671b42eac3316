// The forecast benchmark's figures as one JSON object and as a table for people.
#include <cmath>
#include <cstdio>
#include <string>

#include "wattguard/analytics/forecast_features.h"
#include "wattguard/evaluation/forecast_bench.h"

namespace wattguard::evaluation {
namespace {

// NaN (nothing scored) is null in JSON.
nlohmann::json number(double x) { return std::isnan(x) ? nlohmann::json() : nlohmann::json(x); }

nlohmann::json scores_to_json(const ForecastScores& s) {
  return {{"households", s.households},
          {"days", s.days},
          {"points", s.points},
          {"mae_kwh",
           {{"model", number(s.mae_model)},
            {"yesterday", number(s.mae_yesterday)},
            {"last_week", number(s.mae_last_week)},
            {"median_7d", number(s.mae_median_7d)}}},
          {"best_baseline", s.best_baseline},
          {"ratio_to_best_baseline", number(s.ratio_to_best_baseline)},
          {"daily_mape_pct",
           {{"model", number(s.mape_model)},
            {"yesterday", number(s.mape_yesterday)},
            {"last_week", number(s.mape_last_week)},
            {"median_7d", number(s.mape_median_7d)}}},
          {"mape_days_excluded", s.mape_days_excluded},
          {"coverage_p10_p90", number(s.coverage_p10_p90)},
          {"cycles", s.cycles},
          {"cycle_end_ape_pct_median", number(s.cycle_end_ape_median)},
          {"cycle_end_ape_pct_p90", number(s.cycle_end_ape_p90)},
          {"cycle_end_coverage", number(s.cycle_end_coverage)}};
}

std::string scores_line(const char* split, const ForecastScores& s) {
  char line[512];
  std::snprintf(line, sizeof line,
                "  %-9s %4d homes %6lld days  MAE model %.4f  yesterday %.4f  last week %.4f  median7 %.4f  "
                "ratio %.3f (vs %s)\n"
                "            daily MAPE %.1f %% (yesterday %.1f, last week %.1f, median7 %.1f; "
                "%lld days < %.0f kWh left out)  p10-p90 coverage %.3f\n"
                "            cycle end from the 15th: median APE %.1f %%, p90 %.1f %% over homes, interval "
                "coverage %.2f (%lld home-months)\n",
                split, s.households, static_cast<long long>(s.days), s.mae_model, s.mae_yesterday, s.mae_last_week,
                s.mae_median_7d, s.ratio_to_best_baseline, s.best_baseline.c_str(), s.mape_model, s.mape_yesterday,
                s.mape_last_week, s.mape_median_7d, static_cast<long long>(s.mape_days_excluded), kMapeMinDayKwh,
                s.coverage_p10_p90, s.cycle_end_ape_median, s.cycle_end_ape_p90, s.cycle_end_coverage,
                static_cast<long long>(s.cycles));
  return line;
}

}  // namespace

nlohmann::json forecast_bench_to_json(const ForecastBenchResult& result) {
  nlohmann::json sets = nlohmann::json::array();
  for (const auto& set : result.sets) {
    sets.push_back({{"name", set.name},
                    {"source", set.source},
                    {"held_out", scores_to_json(set.held_out)},
                    {"tuning", scores_to_json(set.tuning)}});
  }
  nlohmann::json weights = nlohmann::json::object();
  for (int i = 0; i < analytics::kForecastFeatureCount; ++i) {
    weights[std::string(analytics::forecast_feature_name(i))] = result.params.weights[static_cast<size_t>(i)];
  }
  return {{"reported", "held_out"},
          {"split", "tuning when FNV-1a 64 of the household id is even, else held out"},
          {"protocol",
           {{"forecast", "day-ahead, 48 half-hours from local midnight"},
            {"warmup_days", kForecastWarmupDays},
            {"cycle_forecast_day", 15},
            {"mape_min_day_kwh", kMapeMinDayKwh}}},
          {"sets", sets},
          {"params",
           {{"weights", weights},
            {"lower_quantile", result.params.lower_quantile},
            {"upper_quantile", result.params.upper_quantile},
            {"total_spread_scale", result.params.total_spread_scale}}},
          {"seconds", result.seconds}};
}

std::string forecast_bench_to_table(const ForecastBenchResult& result) {
  std::string out =
      "Day-ahead half-hourly forecasts from local midnight; held-out households are the result, tuning ones are "
      "where the parameters were chosen.\n";
  for (const auto& set : result.sets) {
    out += set.name + " (" + set.source + ")\n";
    out += scores_line("held-out", set.held_out);
    out += scores_line("tuning", set.tuning);
  }
  char tail[64];
  std::snprintf(tail, sizeof tail, "evaluated in %.1f s\n", result.seconds);
  return out + tail;
}

}  // namespace wattguard::evaluation
