// The rolling day-ahead evaluation of the forecasts on real households, per data set and split.
#include "wattguard/evaluation/forecast_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>

#include "wattguard/analytics/input_error.h"
#include "wattguard/evaluation/long_households.h"

namespace wattguard::evaluation {
namespace {

namespace wa = wattguard::analytics;
using wa::kSlotsPerDay;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kDayS = 86400;
// The mid-cycle forecast is made at the start of this day of the month, for the month's end.
constexpr int kCycleForecastDay = 15;
// The baselines look back a week.
constexpr int kBaselineDays = 7;

double median_of(std::vector<double> v) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double quantile_of(std::vector<double> v, double q) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

// Running sums of one split.
struct Tally {
  int households = 0;
  int64_t days = 0, points = 0, covered = 0;
  double abs_model = 0, abs_yesterday = 0, abs_last_week = 0, abs_median = 0;
  double ape_model = 0, ape_yesterday = 0, ape_last_week = 0, ape_median = 0;
  int64_t ape_days = 0, ape_excluded = 0;
  int64_t cycles = 0, cycles_covered = 0;
  std::vector<double> household_cycle_ape;
  std::vector<double> standardised;
};

void score_day_ahead(const wa::HalfHourHistory& history, wa::ForecastSession& session, int64_t day, Tally& t) {
  const int64_t origin = day * kSlotsPerDay;
  auto forecast = session.intervals(origin, kSlotsPerDay);
  auto total = session.energy_until(origin, static_cast<double>(origin + kSlotsPerDay));
  if (!forecast.ok() || !total.ok()) return;
  const auto kwh = [&](int64_t i) { return history.kwh[static_cast<size_t>(i)]; };
  double actual_day = 0, yesterday_day = 0, last_week_day = 0, median_day = 0;
  std::vector<double> week(kBaselineDays);
  for (int64_t s = 0; s < kSlotsPerDay; ++s) {
    const int64_t i = origin + s;
    const double actual = kwh(i);
    for (int k = 1; k <= kBaselineDays; ++k) week[static_cast<size_t>(k - 1)] = kwh(i - k * kSlotsPerDay);
    const double median = median_of(week);
    const auto su = static_cast<size_t>(s);
    t.abs_model += std::abs(actual - forecast->p50[su]);
    t.abs_yesterday += std::abs(actual - week[0]);
    t.abs_last_week += std::abs(actual - week[kBaselineDays - 1]);
    t.abs_median += std::abs(actual - median);
    if (actual >= forecast->p10[su] && actual <= forecast->p90[su]) ++t.covered;
    actual_day += actual;
    yesterday_day += week[0];
    last_week_day += week[kBaselineDays - 1];
    median_day += median;
  }
  t.points += kSlotsPerDay;
  ++t.days;
  if (actual_day < kMapeMinDayKwh) {
    ++t.ape_excluded;
    return;
  }
  ++t.ape_days;
  t.ape_model += std::abs(total->p50 - actual_day) / actual_day;
  t.ape_yesterday += std::abs(yesterday_day - actual_day) / actual_day;
  t.ape_last_week += std::abs(last_week_day - actual_day) / actual_day;
  t.ape_median += std::abs(median_day - actual_day) / actual_day;
}

// Every calendar month of the household held complete: forecast on its 15th for its end.
void score_cycles(const wa::HalfHourHistory& history, wa::ForecastSession& session, const std::vector<bool>& complete,
                  int64_t first_day, Tally& t) {
  using std::chrono::sys_days;
  using std::chrono::year_month_day;
  const auto n_days = static_cast<int64_t>(complete.size());
  std::vector<double> apes;
  for (int64_t d = 0; d < n_days; ++d) {
    const year_month_day date{sys_days{std::chrono::days{first_day + d}}};
    if (date.day() != std::chrono::day{1}) continue;
    const year_month_day next = date + std::chrono::months{1};
    const int64_t end = sys_days{next}.time_since_epoch().count() - first_day;
    if (end > n_days || !std::all_of(complete.begin() + d, complete.begin() + end, [](bool c) { return c; })) {
      continue;
    }
    const int64_t origin = (d + kCycleForecastDay - 1) * kSlotsPerDay;
    auto rest = session.energy_until(origin, static_cast<double>(end * kSlotsPerDay));
    if (!rest.ok()) continue;
    double used = 0, actual = 0;
    for (int64_t i = d * kSlotsPerDay; i < end * kSlotsPerDay; ++i) {
      actual += history.kwh[static_cast<size_t>(i)];
      if (i < origin) used += history.kwh[static_cast<size_t>(i)];
    }
    if (actual <= 0) continue;
    apes.push_back(100.0 * std::abs(used + rest->p50 - actual) / actual);
    const double rest_actual = actual - used;
    if (rest_actual >= rest->p10 && rest_actual <= rest->p90) ++t.cycles_covered;
    const double half_width = 0.5 * (rest->p90 - rest->p10);
    if (half_width > 0) t.standardised.push_back(std::abs(rest_actual - rest->p50) / half_width);
    ++t.cycles;
  }
  if (!apes.empty()) t.household_cycle_ape.push_back(median_of(apes));
}

void score_household(const RealHousehold& household, const wa::ForecastParams& params, Tally& t) {
  const wa::HalfHourHistory history = household_history(household);
  wa::ForecastSession session(history, params);
  const auto n_days = static_cast<int64_t>(history.kwh.size()) / kSlotsPerDay;
  std::vector<bool> complete(static_cast<size_t>(n_days), false);
  for (const RealDay& day : household.days) complete[static_cast<size_t>(day.day - household.days.front().day)] = true;
  ++t.households;
  for (int64_t d = kForecastWarmupDays; d < n_days; ++d) {
    bool usable = complete[static_cast<size_t>(d)];
    for (int k = 1; k <= kBaselineDays && usable; ++k) usable = complete[static_cast<size_t>(d - k)];
    if (usable) score_day_ahead(history, session, d, t);
  }
  score_cycles(history, session, complete, household.days.front().day, t);
}

ForecastScores scores_of(const Tally& t) {
  ForecastScores s;
  s.households = t.households;
  s.days = t.days;
  s.points = t.points;
  const double n = t.points > 0 ? static_cast<double>(t.points) : kNaN;
  s.mae_model = t.abs_model / n;
  s.mae_yesterday = t.abs_yesterday / n;
  s.mae_last_week = t.abs_last_week / n;
  s.mae_median_7d = t.abs_median / n;
  s.best_baseline = "yesterday";
  double best = s.mae_yesterday;
  if (s.mae_last_week < best) best = s.mae_last_week, s.best_baseline = "last_week";
  if (s.mae_median_7d < best) best = s.mae_median_7d, s.best_baseline = "median_7d";
  s.ratio_to_best_baseline = s.mae_model / best;
  const double days = t.ape_days > 0 ? static_cast<double>(t.ape_days) : kNaN;
  s.mape_model = 100.0 * t.ape_model / days;
  s.mape_yesterday = 100.0 * t.ape_yesterday / days;
  s.mape_last_week = 100.0 * t.ape_last_week / days;
  s.mape_median_7d = 100.0 * t.ape_median / days;
  s.mape_days_excluded = t.ape_excluded;
  s.coverage_p10_p90 = static_cast<double>(t.covered) / n;
  s.cycles = t.cycles;
  s.cycle_end_ape_median = median_of(t.household_cycle_ape);
  s.cycle_end_ape_p90 = quantile_of(t.household_cycle_ape, 0.9);
  s.cycle_end_coverage = t.cycles > 0 ? static_cast<double>(t.cycles_covered) / static_cast<double>(t.cycles) : kNaN;
  s.cycle_standardised_errors = t.standardised;
  return s;
}

}  // namespace

wa::HalfHourHistory household_history(const RealHousehold& household) {
  wa::HalfHourHistory out;
  if (household.days.empty()) return out;
  const int64_t first = household.days.front().day;
  out.start_s = first * kDayS;
  out.kwh.assign(static_cast<size_t>(household.days.back().day - first + 1) * kSlotsPerDay, kNaN);
  for (const RealDay& day : household.days) {
    const auto base = static_cast<size_t>(day.day - first) * kSlotsPerDay;
    for (size_t s = 0; s < kSlotsPerDay; ++s) out.kwh[base + s] = day.kwh[s];
  }
  return out;
}

bool in_tuning_split(const std::string& household_id) {
  uint64_t hash = 14695981039346656037ULL;  // FNV-1a 64
  for (unsigned char c : household_id) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash % 2 == 0;
}

Expected<std::vector<ForecastDataSet>> load_forecast_data_sets(const std::string& data_dir, int max_households) {
  namespace fs = std::filesystem;
  std::vector<ForecastDataSet> sets;
  std::error_code ec;
  std::vector<fs::path> files;
  const fs::path real = fs::path(data_dir) / "households-real";
  if (fs::is_directory(real, ec)) {
    for (const auto& entry : fs::directory_iterator(real, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.size() > 7 && name.ends_with(".csv.gz")) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    auto households = load_long_households(file.string(), max_households);
    if (!households.ok()) return std::move(households).error();
    std::string name = file.filename().string();
    name = name.substr(0, name.find_first_of("_."));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
    sets.push_back({name, file.string(), std::move(households).value()});
  }
  const fs::path four = fs::path(data_dir) / "households";
  if (fs::is_directory(four, ec)) {
    auto households = load_real_households(four.string());
    if (!households.ok()) return std::move(households).error();
    auto list = std::move(households).value();
    if (max_households > 0 && list.size() > static_cast<size_t>(max_households)) {
      list.resize(static_cast<size_t>(max_households));
    }
    sets.push_back({"AU4", four.string(), std::move(list)});
  }
  if (sets.empty()) {
    return analytics::input_error(data_dir, 0, "--data", data_dir,
                                  "no households-real/*.csv.gz and no households/ directory with data");
  }
  return sets;
}

ForecastBenchResult run_forecast_bench(const std::vector<ForecastDataSet>& sets, const wa::ForecastParams& params,
                                       bool tuning_only, const ForecastProgress& progress) {
  const auto started = std::chrono::steady_clock::now();
  ForecastBenchResult result;
  result.params = params;
  size_t total = 0, done = 0;
  for (const auto& set : sets) total += set.households.size();
  for (const auto& set : sets) {
    Tally held_out, tuning;
    for (const RealHousehold& household : set.households) {
      const bool tune = in_tuning_split(household.name);
      if (tune || !tuning_only) score_household(household, params, tune ? tuning : held_out);
      ++done;
      if (progress) progress(static_cast<double>(done) / static_cast<double>(total), set.name);
    }
    result.sets.push_back({set.name, set.source, scores_of(held_out), scores_of(tuning)});
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace wattguard::evaluation
