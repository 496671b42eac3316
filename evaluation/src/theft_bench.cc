// Theft benchmark driver and scoring.
#include "wattguard/evaluation/theft_bench.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>

#include "wattguard/analytics/transformer_monitor.h"
#include "wattguard/evaluation/roc.h"

namespace wattguard::evaluation {
namespace {

using analytics::CycleResult;
using analytics::flag_cause_name;
using analytics::FlagCause;
using analytics::kFlagCauseCount;
using analytics::MeterValue;
using analytics::MonitorConfig;
using analytics::Quality;
using analytics::TransformerMonitor;
using analytics::TransformerReport;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct ConsumerOutcome {
  int64_t first_flag_after_onset = -1;
  int false_flag_episodes = 0;                             // honest consumers, or thieves before their onset
  std::array<int, kFlagCauseCount> false_flag_by_cause{};  // the same by FlagCause
  bool ever_false_flagged = false;
  double pattern_score = 0;
  int honest_above = 0;  // honest consumers on its transformer scoring at least as high (final ranking)
  double stolen_kwh = 0, true_kwh = 0;
  double first_day_dt_share = 0;
  int64_t next_alert = -1;        // first balance alert raised on its transformer at or after onset
  bool dt_quiet_at_onset = true;  // its transformer was not already alerting (for another thief) at onset
};

}  // namespace

BenchResult run_theft_bench(const GridSimConfig& config, const BenchProgress& progress) {
  BenchResult result;
  result.config = config;
  const auto t0 = std::chrono::steady_clock::now();
  const SimulatedGrid grid = simulate_grid(config);
  const auto t1 = std::chrono::steady_clock::now();
  const int n_t = static_cast<int>(grid.transformers.size());
  MonitorConfig mc = MonitorConfig::for_interval(grid.interval_s, config.calibration_days);
  mc.utc_offset_s = grid.utc_offset_s;
  std::vector<TransformerMonitor> monitors;
  monitors.reserve(static_cast<size_t>(n_t));
  for (const auto& t : grid.transformers) {
    std::vector<std::string> ids;
    for (int c : t.consumers) ids.push_back(grid.consumers[static_cast<size_t>(c)].id);
    monitors.emplace_back(t.id, ids, mc);
  }
  std::vector<ConsumerOutcome> out(grid.consumers.size());
  std::vector<std::vector<int64_t>> alerts(static_cast<size_t>(n_t));  // alert episodes opened
  std::vector<std::vector<int64_t>> raises(static_cast<size_t>(n_t));  // the balance test's own raises
  std::vector<std::vector<uint8_t>> in_alert(static_cast<size_t>(n_t),
                                             std::vector<uint8_t>(static_cast<size_t>(grid.count), 0));
  std::vector<MeterValue> values;
  for (int64_t k = 0; k < grid.count; ++k) {
    const size_t kk = static_cast<size_t>(k);
    for (int t = 0; t < n_t; ++t) {
      const SimTransformer& tr = grid.transformers[static_cast<size_t>(t)];
      values.resize(tr.consumers.size());
      for (size_t i = 0; i < tr.consumers.size(); ++i) {
        const SimConsumer& c = grid.consumers[static_cast<size_t>(tr.consumers[i])];
        values[i] = MeterValue{c.reported_kwh[kk], c.present[kk] ? Quality::kMeasured : Quality::kMissing};
      }
      const MeterValue check{tr.check_kwh[kk], tr.check_present[kk] ? Quality::kMeasured : Quality::kMissing};
      const CycleResult r = monitors[static_cast<size_t>(t)].push(grid.end_s(k), check, values);
      if (r.episode_opened) alerts[static_cast<size_t>(t)].push_back(k);
      if (r.balance.alert_raised) raises[static_cast<size_t>(t)].push_back(k);
      in_alert[static_cast<size_t>(t)][kk] = monitors[static_cast<size_t>(t)].episodes().open() ? 1 : 0;
      for (size_t i : r.newly_flagged) {
        const size_t c = static_cast<size_t>(tr.consumers[i]);
        const SimConsumer& sc = grid.consumers[c];
        if (is_theft(sc.scenario) && k >= sc.onset) {
          if (out[c].first_flag_after_onset < 0) out[c].first_flag_after_onset = k;
        } else {
          ++out[c].false_flag_episodes;
          ++out[c].false_flag_by_cause[static_cast<size_t>(monitors[static_cast<size_t>(t)].flag_cause(i))];
          out[c].ever_false_flagged = true;
        }
      }
    }
    if (progress && (k + 1) % grid.slots_per_day == 0) progress(static_cast<double>(k + 1) / grid.count);
  }
  const auto t2 = std::chrono::steady_clock::now();
  result.seconds_simulate = std::chrono::duration<double>(t1 - t0).count();
  result.seconds_analyse = std::chrono::duration<double>(t2 - t1).count();

  // Final state: pattern scores and rankings.
  for (int t = 0; t < n_t; ++t) {
    const SimTransformer& tr = grid.transformers[static_cast<size_t>(t)];
    const TransformerReport rep = monitors[static_cast<size_t>(t)].report();
    std::vector<double> score(tr.consumers.size());
    for (const auto& s : rep.suspects) {
      score[s.consumer] = s.score;
      out[static_cast<size_t>(tr.consumers[s.consumer])].pattern_score = s.pattern_score;
    }
    for (size_t i = 0; i < tr.consumers.size(); ++i) {
      const size_t c = static_cast<size_t>(tr.consumers[i]);
      if (!is_theft(grid.consumers[c].scenario)) continue;
      for (size_t j = 0; j < tr.consumers.size(); ++j) {
        const size_t o = static_cast<size_t>(tr.consumers[j]);
        if (!is_theft(grid.consumers[o].scenario) && score[j] >= score[i]) ++out[c].honest_above;
      }
    }
  }
  // Ground truth per thief: energy hidden, share of the transformer's energy in its first day, next alert.
  std::vector<std::vector<int64_t>> energy_onsets(static_cast<size_t>(n_t));
  for (size_t c = 0; c < grid.consumers.size(); ++c) {
    const SimConsumer& sc = grid.consumers[c];
    if (!is_theft(sc.scenario)) continue;
    const SimTransformer& tr = grid.transformers[static_cast<size_t>(sc.transformer)];
    double first_day_stolen = 0, first_day_check = 0;
    for (int64_t k = sc.onset; k < grid.count; ++k) {
      const size_t kk = static_cast<size_t>(k);
      const double reported = sc.scenario == Scenario::kOffline ? 0.0 : sc.reported_kwh[kk];
      const double stolen = sc.true_kwh[kk] - reported;
      out[c].stolen_kwh += stolen;
      out[c].true_kwh += sc.true_kwh[kk];
      if (k < sc.onset + grid.slots_per_day) {
        first_day_stolen += stolen;
        first_day_check += tr.check_kwh[kk];
      }
    }
    out[c].first_day_dt_share = first_day_check > 0 ? first_day_stolen / first_day_check : 0.0;
    out[c].dt_quiet_at_onset =
        sc.onset < 1 || !in_alert[static_cast<size_t>(sc.transformer)][static_cast<size_t>(sc.onset - 1)];
    for (int64_t a : alerts[static_cast<size_t>(sc.transformer)]) {
      if (a >= sc.onset) {
        out[c].next_alert = a;
        break;
      }
    }
    // Any theft explains an alert: even h5/h6, which keep the day's energy, unbalance individual intervals.
    energy_onsets[static_cast<size_t>(sc.transformer)].push_back(sc.onset);
  }
  // Balance alerts with no theft under way on the transformer are false alarms.
  std::vector<int> dt_false(static_cast<size_t>(n_t), 0);
  for (int t = 0; t < n_t; ++t) {
    for (int64_t a : alerts[static_cast<size_t>(t)]) {
      bool explained = false;
      for (int64_t o : energy_onsets[static_cast<size_t>(t)]) explained |= o <= a;
      if (!explained) {
        ++dt_false[static_cast<size_t>(t)];
      }
    }
  }
  const double monitored_days = std::max(1, config.days - config.calibration_days);
  const double dt_month = monitored_days / 30.0;
  std::vector<int> dt_flag_false(static_cast<size_t>(n_t), 0);
  int honest = 0, honest_flagged = 0, thieves = 0;
  std::vector<double> honest_scores;
  for (size_t c = 0; c < grid.consumers.size(); ++c) {
    const SimConsumer& sc = grid.consumers[c];
    dt_flag_false[static_cast<size_t>(sc.transformer)] += out[c].false_flag_episodes;
    if (is_theft(sc.scenario)) {
      ++thieves;
    } else {
      ++honest;
      honest_flagged += out[c].ever_false_flagged;
      honest_scores.push_back(out[c].pattern_score);
    }
  }
  int total_dt_false = 0, total_flag_false = 0;
  std::array<int, kFlagCauseCount> by_cause{};
  for (const ConsumerOutcome& o : out) {
    for (size_t k = 0; k < by_cause.size(); ++k) by_cause[k] += o.false_flag_by_cause[k];
  }
  for (int t = 0; t < n_t; ++t) {
    total_dt_false += dt_false[static_cast<size_t>(t)];
    total_flag_false += dt_flag_false[static_cast<size_t>(t)];
  }
  result.dt_false_alerts_per_dt_month = total_dt_false / (n_t * dt_month);
  result.consumer_false_flags_per_dt_month = total_flag_false / (n_t * dt_month);
  for (size_t k = 0; k < kFlagCauseCount; ++k)
    result.false_flags_by_cause_per_dt_month[k] = by_cause[k] / (n_t * dt_month);

  auto theft_metrics = [&](const std::string& name, auto&& member) {
    ScenarioMetrics m;
    m.name = name;
    m.theft = true;
    std::vector<double> hours_detect, hours_alert, scores;
    int detected = 0, top1 = 0, top3 = 0, ge3 = 0, ge3_ok = 0;
    double hidden = 0;
    std::vector<int> hosts;
    for (size_t c = 0; c < grid.consumers.size(); ++c) {
      const SimConsumer& sc = grid.consumers[c];
      if (!member(sc)) continue;
      const ConsumerOutcome& o = out[c];
      ++m.consumers;
      hosts.push_back(sc.transformer);
      scores.push_back(o.pattern_score);
      const bool flagged = o.first_flag_after_onset >= 0;
      m.flagged += flagged;
      if (flagged) hours_detect.push_back((o.first_flag_after_onset - sc.onset) * grid.interval_s / 3600.0);
      // Time to a balance alert only means something where the transformer was not alerting already.
      if (o.next_alert >= 0 && o.dt_quiet_at_onset) {
        hours_alert.push_back((o.next_alert - sc.onset) * grid.interval_s / 3600.0);
      }
      detected += flagged || o.next_alert >= 0 || !o.dt_quiet_at_onset;
      top1 += o.honest_above < 1;
      top3 += o.honest_above < 3;
      hidden += o.true_kwh > 0 ? o.stolen_kwh / o.true_kwh : 0.0;
      if (o.first_day_dt_share >= 0.03) {
        ++ge3;
        const int64_t day = grid.slots_per_day;
        ge3_ok += (flagged && o.first_flag_after_onset <= sc.onset + day) ||
                  (o.dt_quiet_at_onset && o.next_alert >= 0 && o.next_alert <= sc.onset + day);
      }
    }
    if (m.consumers == 0) return m;
    m.detection_rate = static_cast<double>(detected) / m.consumers;
    m.recall = static_cast<double>(m.flagged) / m.consumers;
    // Precision at the benchmark's prevalence as if every thief behaved like these: false positives are shared
    // out in proportion to this scenario's thieves.
    const double fp = thieves > 0 ? honest_flagged * static_cast<double>(m.consumers) / thieves : 0.0;
    m.precision = m.flagged + fp > 0 ? m.flagged / (m.flagged + fp) : kNaN;
    m.auc = roc_auc(scores, honest_scores);
    m.top1 = static_cast<double>(top1) / m.consumers;
    m.top3 = static_cast<double>(top3) / m.consumers;
    m.median_hours_to_detect = median(hours_detect);
    m.median_hours_to_alert = median(hours_alert);
    m.hidden_share = hidden / m.consumers;
    m.ge3pct = ge3;
    m.alert_within_24h_ge3pct = ge3 > 0 ? static_cast<double>(ge3_ok) / ge3 : kNaN;
    std::sort(hosts.begin(), hosts.end());
    hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
    double fa = 0;
    for (int t : hosts) fa += dt_false[static_cast<size_t>(t)] + dt_flag_false[static_cast<size_t>(t)];
    m.false_alarms_per_dt_month = fa / (hosts.size() * dt_month);
    return m;
  };
  auto honest_metrics = [&](Scenario s) {
    ScenarioMetrics m;
    m.name = scenario_name(s);
    m.detection_rate = m.precision = m.recall = m.auc = m.top1 = m.top3 = kNaN;
    m.median_hours_to_detect = m.median_hours_to_alert = m.hidden_share = m.alert_within_24h_ge3pct = kNaN;
    int episodes = 0;
    for (size_t c = 0; c < grid.consumers.size(); ++c) {
      if (grid.consumers[c].scenario != s) continue;
      ++m.consumers;
      m.flagged += out[c].ever_false_flagged;
      episodes += out[c].false_flag_episodes;
    }
    // Per transformer-month of the whole grid, so honest entries add up to the consumer part of the overall rate.
    m.false_alarms_per_dt_month = episodes / (n_t * dt_month);
    return m;
  };
  for (int s = 0; s < kScenarioCount; ++s) {
    const Scenario sc = static_cast<Scenario>(s);
    bool present = false;
    for (const auto& c : grid.consumers) present |= c.scenario == sc;
    if (!present) continue;
    if (is_theft(sc)) {
      result.scenarios.push_back(
          theft_metrics(scenario_name(sc), [sc](const SimConsumer& c) { return c.scenario == sc; }));
    } else {
      result.scenarios.push_back(honest_metrics(sc));
    }
  }
  result.h1_h6 = theft_metrics("h1..h6", [](const SimConsumer& c) {
    return c.scenario >= Scenario::kH1 && c.scenario <= Scenario::kH6;
  });
  result.overall = theft_metrics("overall", [](const SimConsumer& c) { return is_theft(c.scenario); });
  result.overall.false_alarms_per_dt_month = (total_dt_false + total_flag_false) / (n_t * dt_month);
  result.overall.precision = result.overall.flagged + honest_flagged > 0 ? static_cast<double>(result.overall.flagged) /
                                                                               (result.overall.flagged + honest_flagged)
                                                                         : kNaN;
  // Localisation target: energy-taking thieves hiding at least 20 % of their use.
  const ScenarioMetrics all = theft_metrics("all", [](const SimConsumer& c) { return takes_energy(c.scenario); });
  result.top1_all = all.top1;
  result.top3_all = all.top3;
  int n20 = 0, top1 = 0, top3 = 0;
  for (size_t c = 0; c < grid.consumers.size(); ++c) {
    const SimConsumer& sc = grid.consumers[c];
    if (!takes_energy(sc.scenario) || out[c].true_kwh <= 0 || out[c].stolen_kwh / out[c].true_kwh < 0.2) continue;
    ++n20;
    top1 += out[c].honest_above < 1;
    top3 += out[c].honest_above < 3;
  }
  result.hiding_ge20 = n20;
  result.overall.top1 = n20 > 0 ? static_cast<double>(top1) / n20 : kNaN;
  result.overall.top3 = n20 > 0 ? static_cast<double>(top3) / n20 : kNaN;

  // Decisions: honest flags per consumer-month, episodes on clean transformers, episodes per theft, flag rates.
  int honest_episodes = 0;
  std::vector<int> thieves_on(static_cast<size_t>(n_t), 0);
  for (size_t c = 0; c < grid.consumers.size(); ++c) {
    const SimConsumer& sc = grid.consumers[c];
    if (is_theft(sc.scenario)) {
      ++thieves_on[static_cast<size_t>(sc.transformer)];
    } else {
      honest_episodes += out[c].false_flag_episodes;
    }
  }
  result.consumer_months = honest * dt_month;
  result.honest_flags_per_1000_consumer_months =
      result.consumer_months > 0 ? 1000.0 * honest_episodes / result.consumer_months : kNaN;
  int clean_episodes = 0;
  for (int t = 0; t < n_t; ++t) {
    if (thieves_on[static_cast<size_t>(t)] > 0) continue;
    ++result.clean_dts;
    clean_episodes += static_cast<int>(alerts[static_cast<size_t>(t)].size());
  }
  result.clean_dt_episodes_per_dt_month = result.clean_dts > 0 ? clean_episodes / (result.clean_dts * dt_month) : kNaN;
  std::vector<double> per_theft, raises_per_theft;
  int ge20_flagged = 0, h56_flagged = 0;
  for (size_t c = 0; c < grid.consumers.size(); ++c) {
    const SimConsumer& sc = grid.consumers[c];
    if (!is_theft(sc.scenario)) continue;
    const bool flagged = out[c].first_flag_after_onset >= 0;
    if (sc.scenario == Scenario::kH5 || sc.scenario == Scenario::kH6) {
      ++result.h5_h6_n;
      h56_flagged += flagged;
    }
    if (takes_energy(sc.scenario) && out[c].true_kwh > 0 && out[c].stolen_kwh / out[c].true_kwh >= 0.2) {
      ++result.flag_ge20_n;
      ge20_flagged += flagged;
    }
    if (!takes_energy(sc.scenario) || out[c].first_day_dt_share < 0.03) continue;
    const size_t t = static_cast<size_t>(sc.transformer);
    int64_t first_onset = sc.onset;
    for (int64_t o : energy_onsets[t]) first_onset = std::min(first_onset, o);
    auto count_from = [&](const std::vector<int64_t>& v) {
      return static_cast<double>(std::count_if(v.begin(), v.end(), [&](int64_t a) { return a >= first_onset; }));
    };
    per_theft.push_back(count_from(alerts[t]) / std::max(1, thieves_on[t]));
    raises_per_theft.push_back(count_from(raises[t]) / std::max(1, thieves_on[t]));
  }
  result.episodes_per_theft = median(per_theft);
  result.balance_raises_per_theft = median(raises_per_theft);
  result.flagged_ge20 = result.flag_ge20_n > 0 ? static_cast<double>(ge20_flagged) / result.flag_ge20_n : kNaN;
  result.flagged_h5_h6 = result.h5_h6_n > 0 ? static_cast<double>(h56_flagged) / result.h5_h6_n : kNaN;
  return result;
}

BenchResult median_of_runs(const std::vector<BenchResult>& runs) {
  BenchResult r = runs.front();
  r.runs = static_cast<int>(runs.size());
  auto combine = [&](ScenarioMetrics& target, auto&& pick) {
    std::vector<const ScenarioMetrics*> all;
    for (const auto& run : runs) {
      if (const ScenarioMetrics* m = pick(run)) all.push_back(m);
    }
    auto med = [&](double ScenarioMetrics::*field) {
      std::vector<double> v;
      for (const auto* m : all) v.push_back(m->*field);
      return median(v);
    };
    int consumers = 0, flagged = 0, ge3 = 0;
    for (const auto* m : all) {
      consumers += m->consumers;
      flagged += m->flagged;
      ge3 += m->ge3pct;
    }
    for (auto field :
         {&ScenarioMetrics::detection_rate, &ScenarioMetrics::false_alarms_per_dt_month, &ScenarioMetrics::precision,
          &ScenarioMetrics::recall, &ScenarioMetrics::auc, &ScenarioMetrics::top1, &ScenarioMetrics::top3,
          &ScenarioMetrics::median_hours_to_detect, &ScenarioMetrics::median_hours_to_alert,
          &ScenarioMetrics::hidden_share, &ScenarioMetrics::alert_within_24h_ge3pct}) {
      target.*field = med(field);
    }
    target.consumers = consumers;  // totals over the runs
    target.flagged = flagged;
    target.ge3pct = ge3;
  };
  for (auto& s : r.scenarios) {
    combine(s, [&](const BenchResult& run) -> const ScenarioMetrics* {
      for (const auto& m : run.scenarios) {
        if (m.name == s.name) return &m;
      }
      return nullptr;
    });
  }
  combine(r.h1_h6, [](const BenchResult& run) { return &run.h1_h6; });
  combine(r.overall, [](const BenchResult& run) { return &run.overall; });
  auto med_field = [&](double BenchResult::*field) {
    std::vector<double> v;
    for (const auto& run : runs) v.push_back(run.*field);
    return median(v);
  };
  r.dt_false_alerts_per_dt_month = med_field(&BenchResult::dt_false_alerts_per_dt_month);
  r.consumer_false_flags_per_dt_month = med_field(&BenchResult::consumer_false_flags_per_dt_month);
  for (size_t k = 0; k < kFlagCauseCount; ++k) {
    std::vector<double> v;
    for (const auto& run : runs) v.push_back(run.false_flags_by_cause_per_dt_month[k]);
    r.false_flags_by_cause_per_dt_month[k] = median(v);
  }
  r.top1_all = med_field(&BenchResult::top1_all);
  r.top3_all = med_field(&BenchResult::top3_all);
  r.seconds_simulate = med_field(&BenchResult::seconds_simulate);
  r.seconds_analyse = med_field(&BenchResult::seconds_analyse);
  int n20 = 0;
  for (const auto& run : runs) n20 += run.hiding_ge20;
  r.hiding_ge20 = n20;
  // Decision figures: pooled over the runs where they are counts (weighted by their populations).
  r.consumer_months = r.flag_ge20_n = r.h5_h6_n = r.clean_dts = 0;
  double honest_flags = 0, clean_episodes = 0, clean_months = 0, ge20 = 0, h56 = 0;
  for (const auto& run : runs) {
    r.consumer_months += run.consumer_months;
    if (!std::isnan(run.honest_flags_per_1000_consumer_months))
      honest_flags += run.honest_flags_per_1000_consumer_months * run.consumer_months / 1000.0;
    r.clean_dts += run.clean_dts;
    if (run.clean_dts > 0 && !std::isnan(run.clean_dt_episodes_per_dt_month)) {
      clean_episodes += run.clean_dt_episodes_per_dt_month * run.clean_dts;
      clean_months += run.clean_dts;
    }
    r.flag_ge20_n += run.flag_ge20_n;
    if (run.flag_ge20_n > 0) ge20 += run.flagged_ge20 * run.flag_ge20_n;
    r.h5_h6_n += run.h5_h6_n;
    if (run.h5_h6_n > 0) h56 += run.flagged_h5_h6 * run.h5_h6_n;
  }
  r.honest_flags_per_1000_consumer_months = r.consumer_months > 0 ? 1000.0 * honest_flags / r.consumer_months : kNaN;
  r.clean_dt_episodes_per_dt_month = clean_months > 0 ? clean_episodes / clean_months : kNaN;
  r.flagged_ge20 = r.flag_ge20_n > 0 ? ge20 / r.flag_ge20_n : kNaN;
  r.flagged_h5_h6 = r.h5_h6_n > 0 ? h56 / r.h5_h6_n : kNaN;
  r.episodes_per_theft = med_field(&BenchResult::episodes_per_theft);
  r.balance_raises_per_theft = med_field(&BenchResult::balance_raises_per_theft);
  return r;
}

namespace {

nlohmann::json number(double v, double step = 1e-4) {
  if (std::isnan(v)) return nullptr;
  const double per_unit = std::round(1.0 / step);  // divide, so 0.0491 prints as 0.0491 (see theft_scan.cc)
  return std::round(v * per_unit) / per_unit;
}

nlohmann::json metrics_json(const ScenarioMetrics& m) {
  nlohmann::json j;
  j["theft"] = m.theft;
  j["consumers"] = m.consumers;
  j["flagged"] = m.flagged;
  j["detection_rate"] = number(m.detection_rate);
  j["false_alarms_per_dt_month"] = number(m.false_alarms_per_dt_month);
  j["precision"] = number(m.precision);
  j["recall"] = number(m.recall);
  j["auc"] = number(m.auc);
  j["top1"] = number(m.top1);
  j["top3"] = number(m.top3);
  j["median_hours_to_detect"] = number(m.median_hours_to_detect, 0.01);
  j["median_hours_to_alert"] = number(m.median_hours_to_alert, 0.01);
  j["hidden_share"] = number(m.hidden_share);
  j["ge3pct_thieves"] = m.ge3pct;
  j["ge3pct_flagged_within_24h"] = number(m.alert_within_24h_ge3pct);
  return j;
}

std::string cell(double v, const char* fmt = "%6.3f") {
  if (std::isnan(v)) return "     -";
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

}  // namespace

nlohmann::json bench_to_json(const BenchResult& r) {
  nlohmann::json j;
  for (const auto& s : r.scenarios) j[s.name] = metrics_json(s);
  j["h1_h6"] = metrics_json(r.h1_h6);
  nlohmann::json overall = metrics_json(r.overall);
  overall["localisation_population"] = "energy-taking thieves hiding >= 20% of their use";
  overall["localisation_thieves"] = r.hiding_ge20;
  overall["top1_all_energy_thieves"] = number(r.top1_all);
  overall["top3_all_energy_thieves"] = number(r.top3_all);
  overall["dt_false_alerts_per_dt_month"] = number(r.dt_false_alerts_per_dt_month);
  overall["consumer_false_flags_per_dt_month"] = number(r.consumer_false_flags_per_dt_month);
  nlohmann::json by_cause = nlohmann::json::object();
  for (size_t k = 1; k < kFlagCauseCount; ++k) {  // every cause but kNone
    by_cause[flag_cause_name(static_cast<FlagCause>(k))] = number(r.false_flags_by_cause_per_dt_month[k]);
  }
  overall["consumer_false_flags_by_cause_per_dt_month"] = std::move(by_cause);
  j["overall"] = overall;
  j["decisions"] = {{"honest_flags_per_1000_consumer_months", number(r.honest_flags_per_1000_consumer_months)},
                    {"honest_consumer_months", number(r.consumer_months, 0.1)},
                    {"clean_transformers", r.clean_dts},
                    {"clean_dt_alert_episodes_per_dt_month", number(r.clean_dt_episodes_per_dt_month)},
                    {"alert_episodes_per_theft_ge3pct", number(r.episodes_per_theft)},
                    {"balance_raises_per_theft_ge3pct", number(r.balance_raises_per_theft)},
                    {"thieves_hiding_ge20", r.flag_ge20_n},
                    {"flagged_hiding_ge20", number(r.flagged_ge20)},
                    {"thieves_h5_h6", r.h5_h6_n},
                    {"flagged_h5_h6", number(r.flagged_h5_h6)}};
  j["meta"] = {{"seed", r.config.seed},
               {"runs", r.runs},
               {"transformers", r.config.transformers},
               {"consumers_per_transformer", r.config.consumers},
               {"days", r.config.days},
               {"calibration_days", r.config.calibration_days},
               {"households", r.config.real ? "real" : "synthetic"},
               {"aggregate",
                r.runs > 1 ? "median over runs (seeds seed..seed+runs-1); counts are totals" : "single run"},
               {"seconds_simulate", number(r.seconds_simulate, 0.01)},
               {"seconds_analyse", number(r.seconds_analyse, 0.01)}};
  if (!r.label.empty()) j["meta"]["grid"] = r.label;
  return j;
}

std::string bench_to_table(const BenchResult& r) {
  std::string out;
  char buf[1000];
  std::snprintf(buf, sizeof buf,
                "Theft benchmark: seed %llu%s, %d transformers x %d consumers x %d days, %s households\n",
                static_cast<unsigned long long>(r.config.seed),
                r.runs > 1 ? (" (median of " + std::to_string(r.runs) + " seeds)").c_str() : "", r.config.transformers,
                r.config.consumers, r.config.days, r.config.real ? "real" : "synthetic");
  out += buf;
  if (!r.label.empty()) out += "grid: " + r.label + "\n";
  std::snprintf(buf, sizeof buf, "%-20s %5s %6s %6s %6s %6s %6s %6s %6s %6s %7s %7s %6s\n", "scenario", "n", "detect",
                "FA/dtm", "prec", "recall", "auc", "top1", "top3", "hidden", "h_det", "h_alert", "3%<24h");
  out += buf;
  auto row = [&](const ScenarioMetrics& m) {
    std::snprintf(buf, sizeof buf, "%-20s %5d %s %s %s %s %s %s %s %s %s %s %s\n", m.name.c_str(), m.consumers,
                  cell(m.detection_rate).c_str(), cell(m.false_alarms_per_dt_month).c_str(), cell(m.precision).c_str(),
                  cell(m.recall).c_str(), cell(m.auc).c_str(), cell(m.top1).c_str(), cell(m.top3).c_str(),
                  cell(m.hidden_share).c_str(), cell(m.median_hours_to_detect, "%7.1f").c_str(),
                  cell(m.median_hours_to_alert, "%7.1f").c_str(), cell(m.alert_within_24h_ge3pct).c_str());
    out += buf;
  };
  for (const auto& s : r.scenarios) row(s);
  row(r.h1_h6);
  row(r.overall);
  std::snprintf(buf, sizeof buf,
                "overall top1/top3 are for %d energy-taking thieves hiding >= 20%% (all energy thieves: %.3f / %.3f)\n"
                "false alarms per transformer-month: balance %.3f + honest consumer flags %.3f\n"
                "decisions: honest flags %.2f per 1,000 consumer-months (%.0f months); alert episodes on %d clean "
                "transformers %.3f per DT-month; per theft >= 3%%: %.1f episodes (balance test alone: %.1f raises)\n"
                "flagged: %.3f of %d thieves hiding >= 20%%, %.3f of %d h5/h6\n"
                "time: simulate %.1f s, analyse %.1f s\n",
                r.hiding_ge20, r.top1_all, r.top3_all, r.dt_false_alerts_per_dt_month,
                r.consumer_false_flags_per_dt_month, r.honest_flags_per_1000_consumer_months, r.consumer_months,
                r.clean_dts, r.clean_dt_episodes_per_dt_month, r.episodes_per_theft, r.balance_raises_per_theft,
                r.flagged_ge20, r.flag_ge20_n, r.flagged_h5_h6, r.h5_h6_n, r.seconds_simulate, r.seconds_analyse);
  out += buf;
  return out;
}

}  // namespace wattguard::evaluation
