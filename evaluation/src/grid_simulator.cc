// Grid simulator: households, honest anomalies, thefts, meters, outages and technical losses.
#include "wattguard/evaluation/grid_simulator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <random>

#include "wattguard/analytics/csv_fields.h"
#include "wattguard/evaluation/synthetic_household.h"

namespace wattguard::evaluation {
namespace {

using analytics::days_from_civil;
using analytics::format_time;

constexpr int kSlots = 96;
constexpr double kPi = 3.14159265358979323846;

const Scenario kTheftScenarios[] = {Scenario::kBypassFraction,
                                    Scenario::kBypassLarge,
                                    Scenario::kZeroReporting,
                                    Scenario::kFlatReporting,
                                    Scenario::kH1,
                                    Scenario::kH2,
                                    Scenario::kH3,
                                    Scenario::kH4,
                                    Scenario::kH5,
                                    Scenario::kH6,
                                    Scenario::kNightIntermittent,
                                    Scenario::kRamp,
                                    Scenario::kOffline};

uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9E3779B97F4A7C15ULL + b + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Honest true use of one consumer built from a real household: a common calendar window for the whole grid
// (peers share the season), a per-consumer day jitter, scale and time shift, half-hours split into quarters.
// One consumer's honest use from a real household: `days` days starting at `start_day` of the household's own
// calendar (the caller gives each consumer of a household its own window), with a scale and a small time shift.
std::vector<float> real_series(const RealHousehold& h, int64_t start_day, int days, std::mt19937_64& rng,
                               bool as_is = false) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> n01(0.0, 1.0);
  std::map<int64_t, size_t> by_day;
  for (size_t i = 0; i < h.days.size(); ++i) by_day[h.days[i].day] = i;
  const int shift = as_is ? 0 : static_cast<int>(u(rng) * 5) - 2;  // quarter-hours
  const double scale = as_is ? 1.0 : std::exp(0.3 * n01(rng));
  std::vector<float> q;
  q.reserve(static_cast<size_t>(days + 2) * kSlots);
  for (int d = -1; d <= days; ++d) {
    const int64_t want = start_day + d;
    auto it = by_day.lower_bound(want);
    if (it == by_day.end()) it = std::prev(by_day.end());
    const RealDay& rd = h.days[it->second];
    for (int k = 0; k < 48; ++k) {
      const double a = 0.5 + 0.3 * (u(rng) - 0.5);
      q.push_back(static_cast<float>(rd.kwh[static_cast<size_t>(k)] * a * scale));
      q.push_back(static_cast<float>(rd.kwh[static_cast<size_t>(k)] * (1 - a) * scale));
    }
  }
  std::vector<float> out(static_cast<size_t>(days) * kSlots);
  for (size_t k = 0; k < out.size(); ++k) out[k] = q[static_cast<size_t>(static_cast<int64_t>(k) + kSlots + shift)];
  return out;
}

}  // namespace

const char* scenario_name(Scenario s) {
  switch (s) {
    case Scenario::kNormal: return "normal";
    case Scenario::kHoliday: return "holiday";
    case Scenario::kNewAppliance: return "new_appliance";
    case Scenario::kMeterOutage: return "meter_outage";
    case Scenario::kBypassFraction: return "bypass_fraction";
    case Scenario::kBypassLarge: return "bypass_large";
    case Scenario::kZeroReporting: return "zero_reporting";
    case Scenario::kFlatReporting: return "flat_reporting";
    case Scenario::kH1: return "h1_scaled";
    case Scenario::kH2: return "h2_off_window";
    case Scenario::kH3: return "h3_random_scale";
    case Scenario::kH4: return "h4_random_mean";
    case Scenario::kH5: return "h5_flattened";
    case Scenario::kH6: return "h6_reversed";
    case Scenario::kNightIntermittent: return "night_intermittent";
    case Scenario::kRamp: return "ramp";
    case Scenario::kOffline: return "offline";
    case Scenario::kCount: break;
  }
  return "?";
}

bool is_theft(Scenario s) { return static_cast<int>(s) >= static_cast<int>(Scenario::kBypassFraction); }
bool takes_energy(Scenario s) { return is_theft(s) && s != Scenario::kH5 && s != Scenario::kH6; }

SimulatedGrid simulate_grid(const GridSimConfig& config) {
  std::mt19937_64 rng(mix(config.seed, 1));
  std::normal_distribution<double> n01(0.0, 1.0);
  const int days = std::max(2, config.days);
  const int64_t count = static_cast<int64_t>(days) * kSlots;
  SimulatedGrid grid;
  grid.count = count;
  grid.utc_offset_s = config.utc_offset_s;
  // Local midnight 2024-04-01 (autumn in the southern hemisphere: the weather cools through the run).
  const int64_t start_day_epoch = days_from_civil(2024, 4, 1);
  const int start_doy = 91;
  grid.first_end_s = start_day_epoch * 86400 - config.utc_offset_s + 900;
  const int start_weekday = static_cast<int>((start_day_epoch + 3) % 7);  // 1970-01-01 was a Thursday

  // Daily mean temperature: a seasonal slide of about 10 C over 60 days plus persistent weather.
  std::vector<double> temp(static_cast<size_t>(days));
  {
    const double t0 = 21.0 + 2.0 * n01(rng);
    double w = 0;
    for (int d = 0; d < days; ++d) {
      w = 0.7 * w + 1.8 * n01(rng);
      temp[static_cast<size_t>(d)] = t0 - 10.0 * d / 60.0 + w;
    }
  }

  const int n_t = std::max(1, config.transformers);
  const int n_c = std::max(1, config.consumers);
  const int total = n_t * n_c;
  // Scenario labels: thieves first (spread round-robin over every theft scenario), then honest anomalies.
  std::vector<Scenario> labels(static_cast<size_t>(total), Scenario::kNormal);
  {
    std::vector<int> order(static_cast<size_t>(total));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    const int thieves =
        config.thief_share > 0 ? std::max(1, static_cast<int>(std::lround(config.thief_share * total))) : 0;
    std::vector<Scenario> kinds(std::begin(kTheftScenarios), std::end(kTheftScenarios));
    std::shuffle(kinds.begin(), kinds.end(), rng);
    size_t pos = 0;
    for (int k = 0; k < thieves && pos < order.size(); ++k)
      labels[static_cast<size_t>(order[pos++])] = kinds[static_cast<size_t>(k) % kinds.size()];
    auto take = [&](double share, Scenario s) {
      const int n = static_cast<int>(std::lround(share * total));
      for (int k = 0; k < n && pos < order.size(); ++k) labels[static_cast<size_t>(order[pos++])] = s;
    };
    take(config.holiday_share, Scenario::kHoliday);
    take(config.new_appliance_share, Scenario::kNewAppliance);
    take(config.outage_share, Scenario::kMeterOutage);
  }

  // Real households: only a few real profiles exist, each a few years long, while a transformer has ~50 distinct
  // homes. Consumers drawn from the same household get their own day windows: per transformer and household the
  // household's span is cut into non-overlapping windows of `days + 2` days, dealt out in shuffled order (sampling
  // without replacement, each window placed at a random position inside its slot); only when a household has more
  // consumers on one transformer than windows does dealing restart with a fresh shuffle (windows may then overlap).
  // The season is deliberately NOT shared: keeping neighbours in the same season would leave only 2-3 windows per
  // household (one per year) and make most consumers near-identical copies, which real neighbours are not. The
  // price is that neighbours' seasonal trends differ more than real neighbours' would; the check meter still sums
  // exactly what the consumers used, so the energy balance is unaffected.
  struct WindowDeal {
    std::vector<int64_t> starts;
    size_t next = 0;
  };
  auto deal_window = [&](WindowDeal& w, const RealHousehold& h, std::mt19937_64& r) -> int64_t {
    if (w.next >= w.starts.size()) {
      const int64_t lo = h.days.front().day, hi = h.days.back().day;
      const int64_t len = days + 2;
      const int64_t n = std::max<int64_t>(1, (hi - lo + 1) / len);
      const int64_t slack = std::max<int64_t>(0, (hi - lo + 1) - n * len);
      std::uniform_int_distribution<int64_t> ud(0, slack);
      const int64_t base = lo + ud(r);  // where the first slot starts; the slots tile the span after it
      w.starts.clear();
      for (int64_t k = 0; k < n; ++k) w.starts.push_back(base + k * len);
      std::shuffle(w.starts.begin(), w.starts.end(), r);
      w.next = 0;
    }
    return w.starts[w.next++];
  };

  const int first_onset_day = std::min(days - 1, config.calibration_days + 1);
  const int last_onset_day = std::max(first_onset_day, days - 8);
  grid.consumers.resize(static_cast<size_t>(total));
  grid.transformers.resize(static_cast<size_t>(n_t));
  for (int t = 0; t < n_t; ++t) {
    SimTransformer& tr = grid.transformers[static_cast<size_t>(t)];
    char name[64];
    std::snprintf(name, sizeof name, "DT%03d", t + 1);
    tr.id = name;
    tr.check_id = tr.id + "-CHK";
    std::vector<double> true_sum(static_cast<size_t>(count), 0.0);
    std::vector<double> phase_kw[3];
    for (auto& p : phase_kw) p.assign(static_cast<size_t>(count), 0.0);
    std::vector<double> service_sq(static_cast<size_t>(count), 0.0);
    std::vector<WindowDeal> deals(config.real ? config.real->size() : 0);
    std::mt19937_64 deal_rng(mix(config.seed, 700000 + static_cast<uint64_t>(t)));
    for (int c = 0; c < n_c; ++c) {
      const int idx = t * n_c + c;
      SimConsumer& sc = grid.consumers[static_cast<size_t>(idx)];
      std::mt19937_64 crng(mix(config.seed, 1000 + static_cast<uint64_t>(idx)));
      std::snprintf(name, sizeof name, "M%03d-%02d", t + 1, c + 1);
      sc.id = name;
      sc.transformer = t;
      sc.scenario = labels[static_cast<size_t>(idx)];
      tr.consumers.push_back(idx);
      // True use, with the honest anomalies that change it (holidays, a new appliance).
      std::uniform_real_distribution<double> cu(0.0, 1.0);
      int away_from = -1, away_to = -1;
      if (sc.scenario == Scenario::kHoliday) {
        const int len = 3 + static_cast<int>(cu(crng) * 12);
        away_from =
            config.calibration_days + static_cast<int>(cu(crng) * std::max(1, days - config.calibration_days - len));
        away_to = away_from + len;
        sc.onset = static_cast<int64_t>(away_from) * kSlots;
      }
      std::vector<float> x(static_cast<size_t>(count));
      const double size_hint = sc.scenario == Scenario::kBypassLarge ? 4.0 : 1.0;
      if (config.real && !config.real->empty()) {
        if (config.real_distinct) {
          const size_t size = config.real->size();
          const auto& h = (*config.real)[static_cast<size_t>(idx) % size];
          const int64_t window = static_cast<int64_t>(static_cast<size_t>(idx) / size);
          x = real_series(h, h.days.front().day + window * (days + 2), days, crng, true);
        } else {
          const size_t hi = static_cast<size_t>(crng() % config.real->size());
          const auto& h = (*config.real)[hi];
          x = real_series(h, deal_window(deals[hi], h, deal_rng), days, crng);
        }
        if (size_hint != 1.0) {
          for (float& v : x) v = static_cast<float>(v * size_hint);
        }
        // Away: the house's own small hours (02:00-06:00: fridge, standby) repeated all day.
        for (int d = std::max(0, away_from); d < std::min(days, away_to); ++d) {
          float* day = &x[static_cast<size_t>(d) * kSlots];
          for (int s = 0; s < kSlots; ++s) {
            if (s < 8 || s >= 24) day[s] = day[8 + s % 16];
          }
        }
      } else {
        SyntheticHousehold hh(mix(config.seed, 50000 + static_cast<uint64_t>(idx)), size_hint);
        for (int d = 0; d < days; ++d) {
          hh.day((start_weekday + d) % 7, temp[static_cast<size_t>(d)], start_doy + d,
                 &x[static_cast<size_t>(d) * kSlots], d >= away_from && d < away_to);
        }
      }
      if (sc.scenario == Scenario::kNewAppliance) {
        const int d0 =
            config.calibration_days + static_cast<int>(cu(crng) * std::max(1, days - config.calibration_days - 7));
        sc.onset = static_cast<int64_t>(d0) * kSlots;
        const bool ev = cu(crng) < 0.6;
        for (int d = d0; d < days; ++d) {
          if (ev) {
            if (cu(crng) > 0.6) continue;
            const int start = 88 + static_cast<int>(cu(crng) * 8);  // 22:00 .. 24:00
            const int len = 4 + static_cast<int>(cu(crng) * 9);
            for (int s = start; s < std::min(kSlots, start + len); ++s)
              x[static_cast<size_t>(d) * kSlots + static_cast<size_t>(s)] += 7.0f * 0.25f;
          } else {
            for (int s = 28; s < 60; ++s)
              x[static_cast<size_t>(d) * kSlots + static_cast<size_t>(s)] +=
                  static_cast<float>(0.25 * (0.6 + 0.8 * cu(crng)));
          }
        }
      }
      // Meter error (accuracy class 1) applies to what the meter measures.
      const double bias = 1.0 + 0.003 * std::clamp(n01(crng), -2.5, 2.5);
      sc.true_kwh.resize(static_cast<size_t>(count));
      for (int64_t k = 0; k < count; ++k)
        sc.true_kwh[static_cast<size_t>(k)] = static_cast<float>(x[static_cast<size_t>(k)] * bias);
      sc.reported_kwh = sc.true_kwh;
      sc.present.assign(static_cast<size_t>(count), 1);

      // Theft: how the reported series departs from the measured one.
      if (is_theft(sc.scenario)) {
        const int onset_day = first_onset_day + static_cast<int>(cu(crng) * (last_onset_day - first_onset_day + 1));
        const bool day_attack = sc.scenario >= Scenario::kH1 && sc.scenario <= Scenario::kH6;
        const int onset_slot = day_attack ? 0 : static_cast<int>(cu(crng) * kSlots);
        sc.onset = static_cast<int64_t>(onset_day) * kSlots + onset_slot;
        const double f_fraction = 0.2 + 0.6 * cu(crng);
        const double f_large = 0.5 + 0.5 * cu(crng);
        const double ramp_max = 0.4 + 0.5 * cu(crng);
        double pre_mean = 0;
        for (int64_t k = 0; k < sc.onset; ++k) pre_mean += sc.true_kwh[static_cast<size_t>(k)];
        pre_mean /= std::max<int64_t>(1, sc.onset);
        const double flat_level = (0.2 + 0.2 * cu(crng)) * pre_mean;
        for (int d = onset_day; d < days; ++d) {
          float* r = &sc.reported_kwh[static_cast<size_t>(d) * kSlots];
          const float* m = &sc.true_kwh[static_cast<size_t>(d) * kSlots];
          const int s0 = d == onset_day ? onset_slot : 0;
          double day_mean = 0;
          for (int s = 0; s < kSlots; ++s) day_mean += m[s] / kSlots;
          switch (sc.scenario) {
            case Scenario::kBypassFraction:
              for (int s = s0; s < kSlots; ++s) r[s] = static_cast<float>((1 - f_fraction) * m[s]);
              break;
            case Scenario::kBypassLarge:
              for (int s = s0; s < kSlots; ++s) r[s] = static_cast<float>((1 - f_large) * m[s]);
              break;
            case Scenario::kZeroReporting:
              for (int s = s0; s < kSlots; ++s) r[s] = 0.0f;
              break;
            case Scenario::kFlatReporting:
              for (int s = s0; s < kSlots; ++s) r[s] = static_cast<float>(flat_level);
              break;
            case Scenario::kH1: {
              const double a = 0.1 + 0.7 * cu(crng);
              for (int s = 0; s < kSlots; ++s) r[s] = static_cast<float>(a * m[s]);
              break;
            }
            case Scenario::kH2: {
              const int len = 16 + static_cast<int>(cu(crng) * 25);  // 4 .. 10 hours
              const int start = static_cast<int>(cu(crng) * (kSlots - len));
              for (int s = start; s < start + len; ++s) r[s] = 0.0f;
              break;
            }
            case Scenario::kH3:
              for (int s = 0; s < kSlots; ++s) r[s] = static_cast<float>((0.1 + 0.7 * cu(crng)) * m[s]);
              break;
            case Scenario::kH4:
              for (int s = 0; s < kSlots; ++s) r[s] = static_cast<float>((0.1 + 0.7 * cu(crng)) * day_mean);
              break;
            case Scenario::kH5:
              for (int s = 0; s < kSlots; ++s) r[s] = static_cast<float>(day_mean);
              break;
            case Scenario::kH6:
              for (int s = 0; s < kSlots; ++s) r[s] = m[kSlots - 1 - s];
              break;
            case Scenario::kNightIntermittent:
              if (cu(crng) < 0.75) {
                for (int s = s0; s < kSlots; ++s) {
                  if (s < 24 || s >= 88) r[s] = 0.0f;  // 22:00 .. 06:00
                }
              }
              break;
            case Scenario::kRamp: {
              const double f = std::min(ramp_max, 0.07 * (d - onset_day + 1));
              for (int s = s0; s < kSlots; ++s) r[s] = static_cast<float>((1 - f) * m[s]);
              break;
            }
            case Scenario::kOffline:
              for (int s = s0; s < kSlots; ++s)
                sc.present[static_cast<size_t>(d) * kSlots + static_cast<size_t>(s)] = 0;
              break;
            default: break;
          }
        }
      }
      // Communication gaps: short ones for everyone, a long one for the outage scenario.
      const int gaps = static_cast<int>(std::poisson_distribution<int>(config.short_outages_per_day * days)(crng));
      for (int g = 0; g < gaps; ++g) {
        const int64_t start = static_cast<int64_t>(cu(crng) * static_cast<double>(count));
        const int64_t len =
            cu(crng) < 0.75 ? 1 + static_cast<int64_t>(cu(crng) * 8) : 8 + static_cast<int64_t>(cu(crng) * 88);
        for (int64_t k = start; k < std::min(count, start + len); ++k) sc.present[static_cast<size_t>(k)] = 0;
      }
      if (sc.scenario == Scenario::kMeterOutage) {
        const int64_t len = static_cast<int64_t>((1.0 + 3.0 * cu(crng)) * kSlots);
        const int64_t start =
            static_cast<int64_t>(config.calibration_days) * kSlots +
            static_cast<int64_t>(
                cu(crng) * static_cast<double>(std::max<int64_t>(1, count - len - config.calibration_days * kSlots)));
        sc.onset = start;
        for (int64_t k = start; k < std::min(count, start + len); ++k) sc.present[static_cast<size_t>(k)] = 0;
      }
      // Watt-hour resolution of the reported value.
      for (float& v : sc.reported_kwh) v = std::round(v * 1000.0f) / 1000.0f;
      // What flows through the transformer is the true use (x, before meter error).
      const int phase = static_cast<int>(crng() % 3);
      for (int64_t k = 0; k < count; ++k) {
        const double e = x[static_cast<size_t>(k)];
        true_sum[static_cast<size_t>(k)] += e;
        phase_kw[phase][static_cast<size_t>(k)] += e / 0.25;
        service_sq[static_cast<size_t>(k)] += (e / 0.25) * (e / 0.25);
      }
    }
    // Technical loss: transformer core, I^2R on the three phase feeders and on the service cables, rising with
    // conductor temperature, with noise. Sized from the load so the variable share is 1.5-4 % on average.
    std::mt19937_64 trng(mix(config.seed, 900000 + static_cast<uint64_t>(t)));
    std::uniform_real_distribution<double> tu(0.0, 1.0);
    std::normal_distribution<double> tn(0.0, 1.0);
    double mean_kw = 0, mean_phase_sq = 0, mean_service_sq = 0;
    for (int64_t k = 0; k < count; ++k) {
      mean_kw += true_sum[static_cast<size_t>(k)] / 0.25;
      for (auto& p : phase_kw) mean_phase_sq += p[static_cast<size_t>(k)] * p[static_cast<size_t>(k)];
      mean_service_sq += service_sq[static_cast<size_t>(k)];
    }
    mean_kw /= static_cast<double>(count);
    mean_phase_sq /= static_cast<double>(count);
    mean_service_sq /= static_cast<double>(count);
    const double variable_share = 0.015 + 0.025 * tu(trng);
    const double k_phase = 0.85 * variable_share * mean_kw / std::max(1e-9, mean_phase_sq);
    const double k_service = 0.15 * variable_share * mean_kw / std::max(1e-9, mean_service_sq);
    const double no_load_kw = (0.002 + 0.002 * tu(trng)) * mean_kw * 3.0;  // ~0.3 % of a rating ~3x mean load
    const double check_bias = 1.0 + 0.002 * std::clamp(tn(trng), -2.5, 2.5);
    tr.check_kwh.resize(static_cast<size_t>(count));
    tr.technical_kwh.resize(static_cast<size_t>(count));
    tr.check_present.assign(static_cast<size_t>(count), 1);
    for (int64_t k = 0; k < count; ++k) {
      const size_t kk = static_cast<size_t>(k);
      const int day = static_cast<int>(k / kSlots);
      const double hour = (k % kSlots) * 0.25;
      const double temp_c = temp[static_cast<size_t>(day)] + 5.0 * std::cos(2 * kPi * (hour - 15.0) / 24.0);
      const double heat = 1.0 + 0.004 * (temp_c - 20.0);
      double sq = 0;
      for (auto& p : phase_kw) sq += p[kk] * p[kk];
      const double loss_kw = no_load_kw + heat * (k_phase * sq + k_service * service_sq[kk]) * (1.0 + 0.05 * tn(trng));
      tr.technical_kwh[kk] = static_cast<float>(loss_kw * 0.25);
      const double check = (true_sum[kk] + loss_kw * 0.25) * check_bias;
      tr.check_kwh[kk] = static_cast<float>(std::round(check * 100.0) / 100.0);  // 10 Wh resolution
    }
    // The check meter misses a reading now and then.
    const int gaps = static_cast<int>(std::poisson_distribution<int>(days / 30.0)(trng));
    for (int g = 0; g < gaps; ++g) {
      const int64_t start = static_cast<int64_t>(tu(trng) * static_cast<double>(count));
      for (int64_t k = start; k < std::min(count, start + 1 + static_cast<int64_t>(tu(trng) * 4)); ++k) {
        tr.check_present[static_cast<size_t>(k)] = 0;
      }
    }
  }
  return grid;
}

bool write_grid_csv(const SimulatedGrid& grid, const std::string& readings_path, const std::string& topology_path,
                    bool with_register) {
  std::ofstream topo(topology_path);
  if (!topo) return false;
  topo << "transformer,meter,role\n";
  for (const auto& t : grid.transformers) {
    topo << t.id << ',' << t.check_id << ",check\n";
    for (int c : t.consumers) topo << t.id << ',' << grid.consumers[static_cast<size_t>(c)].id << ",consumer\n";
  }
  std::ofstream out(readings_path);
  if (!out) return false;
  out << (with_register ? "meter,time,kwh,register_kwh\n" : "meter,time,kwh\n");
  char buf[160];
  auto write_series = [&](const std::string& id, const std::vector<float>& kwh, const std::vector<uint8_t>& present,
                          const std::vector<float>* register_source) {
    double reg = 1000.0;
    for (int64_t k = 0; k < grid.count; ++k) {
      const size_t kk = static_cast<size_t>(k);
      // The register keeps counting what the meter measures even when a reading does not get through.
      reg += register_source ? (*register_source)[kk] : kwh[kk];
      if (!present[kk]) continue;
      const std::string time = format_time(grid.end_s(k), grid.utc_offset_s);
      if (with_register) {
        std::snprintf(buf, sizeof buf, "%s,%s,%.3f,%.3f\n", id.c_str(), time.c_str(), kwh[kk], reg);
      } else {
        std::snprintf(buf, sizeof buf, "%s,%s,%.3f\n", id.c_str(), time.c_str(), kwh[kk]);
      }
      out << buf;
    }
  };
  for (const auto& t : grid.transformers) {
    write_series(t.check_id, t.check_kwh, t.check_present, nullptr);
    for (int c : t.consumers) {
      const auto& sc = grid.consumers[static_cast<size_t>(c)];
      write_series(sc.id, sc.reported_kwh, sc.present, nullptr);
    }
  }
  return static_cast<bool>(out);
}

}  // namespace wattguard::evaluation
