// `wattguard forecast`: per meter of a readings file, half-hourly p10/p50/p90 forecasts from a moment on and the
// billing cycle's total at its end, from the readings before that moment only (docs/forecasting.md).
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command_registry.h"
#include "cli/tariff_choice.h"
#include "wattguard/analytics/csv_fields.h"
#include "wattguard/analytics/forecast.h"
#include "wattguard/analytics/forecast_history.h"
#include "wattguard/analytics/readings_csv.h"
#include "wattguard/base/floor_division.h"
#include "wattguard/billing/cycle.h"
#include "wattguard/billing/tariff_toml.h"

namespace wattguard::cli {
namespace {

namespace wa = wattguard::analytics;
namespace wb = wattguard::billing;

constexpr int64_t kSlotS = 1800;
// Printed kWh are rounded to 0.1 Wh: finer digits are noise.
constexpr double kKwhResolution = 1e4;

struct ForecastArgs {
  std::string readings;
  std::string at;
  int horizon_hours = 24;
  std::string tariff;
  std::string tariff_id;
  bool json = false;
};

double rounded(double kwh) { return std::round(kwh * kKwhResolution) / kKwhResolution; }

nlohmann::ordered_json rounded_all(const std::vector<double>& v) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (double x : v) out.push_back(rounded(x));
  return out;
}

// The cycle holding `at`: the tariff's when one is given, else the calendar month in the readings' offset.
Expected<wb::Cycle> cycle_for(const ForecastArgs& args, int64_t at_s, int32_t readings_offset_s) {
  if (args.tariff.empty()) {
    if (!args.tariff_id.empty()) return Error::invalid("--tariff-id", args.tariff_id, "needs --tariff");
    return wb::cycle_containing(at_s, wb::CycleKind::kMonthly, readings_offset_s);
  }
  auto book = wb::read_tariff_file(args.tariff);
  if (!book.ok()) return std::move(book).error();
  auto id = choose_tariff(book.value(), args.tariff_id);
  if (!id.ok()) return std::move(id).error();
  const wb::Tariff& tariff = any_version(book.value(), id.value());
  return wb::cycle_containing(at_s, tariff.cycle, tariff.utc_offset_s);
}

// Energy measured in [from_s, to_s); `missing` counts the half-hours with no reading (counted as 0).
double used_between(const wa::HalfHourHistory& h, int64_t from_s, int64_t to_s, int64_t& missing) {
  double sum = 0;
  missing = 0;
  for (int64_t t = floor_div(from_s, kSlotS) * kSlotS; t < to_s; t += kSlotS) {
    const int64_t i = (t - h.start_s) / kSlotS;
    if (i < 0 || i >= static_cast<int64_t>(h.kwh.size()) || std::isnan(h.kwh[static_cast<size_t>(i)])) {
      ++missing;
    } else {
      sum += h.kwh[static_cast<size_t>(i)];
    }
  }
  return sum;
}

std::string table_of(const std::string& meter, const wa::IntervalForecast& f, const wb::Cycle& cycle,
                     const wa::QuantileTotal& cycle_end, int32_t offset_s) {
  std::string out = "meter " + meter + ", forecast from " + wa::format_time(f.at_s, offset_s) + "\n";
  char line[160];
  std::snprintf(line, sizeof line, "  cycle %s ends %s: %.2f kWh (80 %%: %.2f to %.2f)\n", cycle.label().c_str(),
                wa::format_time(cycle.end_s, offset_s).c_str(), cycle_end.p50, cycle_end.p10, cycle_end.p90);
  out += line;
  out += "  half-hour from              p10 kWh   p50 kWh   p90 kWh\n";
  for (size_t i = 0; i < f.p50.size(); ++i) {
    std::snprintf(line, sizeof line, "  %-26s %9.3f %9.3f %9.3f\n",
                  wa::format_time(f.at_s + static_cast<int64_t>(i) * f.step_s, offset_s).c_str(), f.p10[i], f.p50[i],
                  f.p90[i]);
    out += line;
  }
  return out;
}

// Bad options and files end the command (exit 2); a meter that cannot be forecast is reported and skipped.
Expected<int> run_forecast(const ForecastArgs& args) {
  auto at = wa::parse_time(args.at);
  if (!at.ok()) {
    Error e = Error::invalid("--at", args.at, "want ISO 8601 with an offset or Unix seconds: " + at.error().message);
    return as_bad_input(e, e.to_string());
  }
  auto readings = wa::read_readings_csv(args.readings);
  if (!readings.ok()) return as_bad_input(readings.error(), readings.error().to_string());
  const int32_t offset_s = at->had_offset ? at->utc_offset_s : readings->utc_offset_s;
  const int64_t at_s = floor_div(at->unix_s, kSlotS) * kSlotS;
  auto cycle = cycle_for(args, at_s, readings->utc_offset_s);
  if (!cycle.ok()) return as_bad_input(cycle.error(), cycle.error().to_string());
  const int32_t steps = args.horizon_hours * 2;
  std::string out;
  for (const wa::MeterSeries& meter : readings->meters) {
    const wa::HalfHourHistory history = wa::half_hour_history(readings.value(), meter);
    auto forecast = wa::forecast_intervals(history, at_s, steps);
    auto rest = forecast.ok() ? wa::forecast_energy_until(history, at_s, cycle->end_s)
                              : Expected<wa::QuantileTotal>(forecast.error());
    if (!forecast.ok() || !rest.ok()) {
      const std::string why = forecast.ok() ? rest.error().message : forecast.error().message;
      std::fprintf(stderr, "wattguard: meter %s: no forecast: %s\n", meter.id.c_str(), why.c_str());
      if (args.json) out += nlohmann::ordered_json{{"meter", meter.id}, {"error", why}}.dump() + "\n";
      continue;
    }
    int64_t missing = 0;
    const double used = used_between(history, cycle->start_s, at_s, missing);
    if (missing > 0) {
      std::fprintf(stderr,
                   "wattguard: meter %s: note: %lld half-hours of cycle %s before --at have no reading and "
                   "count as 0 in cycle_end_kwh\n",
                   meter.id.c_str(), static_cast<long long>(missing), cycle->label().c_str());
    }
    const wa::QuantileTotal cycle_end{used + rest->p10, used + rest->p50, used + rest->p90};
    if (args.json) {
      // Ordered: the keys in the documented order.
      nlohmann::ordered_json line = {
          {"meter", meter.id},
          {"at", wa::format_time(at_s, offset_s)},
          {"step_s", forecast->step_s},
          {"p10", rounded_all(forecast->p10)},
          {"p50", rounded_all(forecast->p50)},
          {"p90", rounded_all(forecast->p90)},
          {"cycle_end_kwh",
           {{"p10", rounded(cycle_end.p10)}, {"p50", rounded(cycle_end.p50)}, {"p90", rounded(cycle_end.p90)}}}};
      out += line.dump() + "\n";
    } else {
      out += table_of(meter.id, forecast.value(), cycle.value(), cycle_end, offset_s);
    }
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

void add_forecast_command(CLI::App& app) {
  auto args = std::make_shared<ForecastArgs>();
  auto* forecast = app.add_subcommand(
      "forecast",
      "Forecast each meter's half-hourly use (p10, p50, p90) from --at on, and its billing cycle's total at the "
      "cycle's end, from the readings before --at only (method and accuracy: docs/forecasting.md)");
  forecast->add_option("--readings", args->readings, "Readings CSV: meter,time,kwh[,register_kwh]")->required();
  forecast
      ->add_option("--at", args->at,
                   "Forecast from this moment (rounded down to a half-hour): ISO 8601 with an offset as in the "
                   "readings, 2024-03-15T00:00:00+10:00 or ...Z, or Unix seconds")
      ->required();
  forecast->add_option("--horizon-hours", args->horizon_hours, "Hours to forecast, 1 to 744")
      ->check(CLI::Range(1, wa::kMaxForecastSteps / 2))
      ->capture_default_str();
  forecast->add_option("--tariff", args->tariff,
                       "Tariff TOML file whose cycle and zone define the billing cycle (default: calendar months in "
                       "the readings' offset)");
  forecast->add_option("--tariff-id", args->tariff_id, "Tariff of --tariff, when the file has several");
  forecast->add_flag("--json", args->json,
                     "One JSON object per meter (JSON Lines): meter, at, step_s, p10, p50, p90, cycle_end_kwh; "
                     "or meter and error");
  forecast->callback([args] { finish(run_forecast(*args)); });
}

const bool kRegistered = register_commands("forecast", &add_forecast_command);

}  // namespace
}  // namespace wattguard::cli
