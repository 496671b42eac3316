// Theft analysis cycles: rollups -> interval values (register-covered gaps) -> TransformerMonitor -> alerts.
#include "wattguard/grid/theft_analysis_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "wattguard/analytics/transformer_monitor.h"
#include "wattguard/base/clock.h"
#include "wattguard/base/decimal_round.h"
#include "wattguard/base/floor_division.h"

namespace wattguard::grid {

namespace {

constexpr int64_t kIntervalS = 900;
constexpr int64_t kIntervalMs = kIntervalS * 1000;
constexpr double kIntervalH = 0.25;
// A gap the register advanced less than this per missing interval is left missing: nothing covers it (an
// imported file with a hole, or a meter whose register did not move) rather than "used nothing".
constexpr double kMinGapKwhPerInterval = 0.001;

}  // namespace

struct TheftAnalysisService::Tracked {
  std::string check_meter;
  std::vector<std::string> consumers;
  std::unique_ptr<analytics::TransformerMonitor> monitor;
  int64_t first_end_s = 0;
  int64_t fed_to_s = 0;                     // end of the last interval pushed
  std::vector<int64_t> last_present_end_s;  // per meter (0 = check, 1.. consumers); 0 = unknown
  std::deque<BalancePoint> series;
  bool balance_alert_active = false;
  std::set<std::string> suspects_active;  // meters with a raised theft_suspect alert
  bool first_evaluation = true;           // clear what a previous run may have left raised
};

TheftAnalysisService::TheftAnalysisService(TheftOptions options, storage::ReadingStore& store, GridStore& grid,
                                           AlertSink sink, std::function<int64_t()> now_ms)
    : options_(options),
      store_(store),
      grid_(grid),
      sink_(std::move(sink)),
      now_ms_(or_system_clock(std::move(now_ms))) {}

TheftAnalysisService::~TheftAnalysisService() { stop(); }

std::string TheftAnalysisService::balance_key(const std::string& transformer_id) {
  return "energy_balance|" + transformer_id;
}

std::string TheftAnalysisService::suspect_key(const std::string& transformer_id, const std::string& meter_id) {
  return "theft_suspect|" + meter_id + "|" + transformer_id;
}

void TheftAnalysisService::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(thread_mutex_);
    stopping_ = false;
  }
  abort_ = false;
  thread_ = std::thread([this] {
    std::unique_lock lock(thread_mutex_);
    while (!stopping_) {
      lock.unlock();
      const auto started = std::chrono::steady_clock::now();
      const CycleSummary sum = run_cycle(now_ms_());
      const auto took_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
      if (sum.intervals_fed > 0 || !sum.errors.empty()) {
        spdlog::info(
            "theft analysis: {} transformers, {} rebuilt, {} intervals fed, {} alert raises, {} clears, "
            "{} errors in {} ms",
            sum.transformers, sum.rebuilt, sum.intervals_fed, sum.alerts_raised, sum.alerts_cleared, sum.errors.size(),
            took_ms);
      }
      for (const auto& e : sum.errors) spdlog::warn("theft analysis: {}", e);
      lock.lock();
      thread_cv_.wait_for(lock, std::chrono::seconds(options_.cycle_s), [this] { return stopping_; });
    }
  });
}

void TheftAnalysisService::stop() {
  {
    std::lock_guard lock(thread_mutex_);
    stopping_ = true;
  }
  abort_ = true;
  thread_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

CycleSummary TheftAnalysisService::run_cycle(int64_t now_ms) {
  std::lock_guard cycle(cycle_mutex_);
  CycleSummary sum;
  const int64_t target_end_s = floor_div(now_ms / 1000 - options_.settle_s, kIntervalS) * kIntervalS;
  sum.analysed_to_ms = target_end_s * 1000;
  auto topology = grid_.list();
  if (!topology.ok()) {
    sum.errors.push_back("grid: " + topology.error().message);
    return sum;
  }
  std::set<std::string> present;
  for (const Transformer& t : topology.value()) {
    if (abort_) break;
    present.insert(t.id);
    ++sum.transformers;
    auto& slot = tracked_[t.id];
    const bool changed = !slot || slot->check_meter != t.check_meter || slot->consumers != t.consumers;
    const int64_t history_s = static_cast<int64_t>(options_.history_days) * 86400;
    if (changed || target_end_s - slot->fed_to_s > history_s) {
      // New, re-membered or too far behind: rebuild from stored history. Alerts it had stay until the
      // rebuilt monitor decides (first_evaluation clears what no longer holds).
      std::set<std::string> previously_active;
      if (slot) previously_active = slot->suspects_active;
      slot = std::make_unique<Tracked>();
      slot->check_meter = t.check_meter;
      slot->consumers = t.consumers;
      analytics::MonitorConfig config = analytics::MonitorConfig::for_interval(kIntervalS, options_.calibration_days);
      config.utc_offset_s = options_.utc_offset_s;
      config.balance.cusum_k = options_.cusum_k;
      config.balance.cusum_h_min = options_.cusum_h_min;
      config.flag.pattern_alone = options_.pattern_alone;
      config.flag.min_share = options_.min_loss_share;
      config.flag.min_hourly_correlation = options_.min_hourly_correlation;
      config.flag.quiet_weight = options_.quiet_weight;
      slot->monitor = std::make_unique<analytics::TransformerMonitor>(t.id, t.consumers, config);
      slot->first_end_s = target_end_s - history_s + kIntervalS;
      slot->fed_to_s = slot->first_end_s - kIntervalS;
      slot->last_present_end_s.assign(t.consumers.size() + 1, 0);
      for (const auto& m : previously_active) {
        if (std::find(t.consumers.begin(), t.consumers.end(), m) == t.consumers.end()) {
          sink_.clear(suspect_key(t.id, m), now_ms);
          ++sum.alerts_cleared;
        }
      }
      ++sum.rebuilt;
    }
    analyse(t, *slot, check_ready_end_s(t, target_end_s), now_ms, &sum);
  }
  // Transformers removed from the topology: their alerts end, their state goes.
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    if (present.count(it->first) || abort_) {
      ++it;
      continue;
    }
    if (it->second->balance_alert_active) {
      sink_.clear(balance_key(it->first), now_ms);
      ++sum.alerts_cleared;
    }
    for (const auto& m : it->second->suspects_active) {
      sink_.clear(suspect_key(it->first, m), now_ms);
      ++sum.alerts_cleared;
    }
    {
      std::lock_guard lock(status_mutex_);
      statuses_.erase(it->first);
    }
    it = tracked_.erase(it);
  }
  return sum;
}

int64_t TheftAnalysisService::check_ready_end_s(const Transformer& t, int64_t target_end_s) {
  if (options_.check_wait_s <= 0) return target_end_s;
  auto latest = store_.latest(t.check_meter);
  // No reading ever (or the store failing): nothing to wait for.
  if (!latest.ok() || !latest.value()) return target_end_s;
  // The end of the last interval the check meter's readings complete: an imported interval's reading sits 1 ms
  // before its end, a live meter's newest reading inside an interval still running.
  const int64_t check_to_s = floor_div(latest.value()->reading.time_ms + 1, kIntervalS * 1000) * kIntervalS;
  if (check_to_s >= target_end_s || target_end_s - check_to_s > options_.check_wait_s) return target_end_s;
  return check_to_s;
}

void TheftAnalysisService::analyse(const Transformer& topo, Tracked& tr, int64_t target_end_s, int64_t now_ms,
                                   CycleSummary* sum) {
  if (target_end_s <= tr.fed_to_s) return;
  const int64_t from_end_s = tr.fed_to_s + kIntervalS;
  const size_t n = static_cast<size_t>((target_end_s - from_end_s) / kIntervalS + 1);
  const size_t meters = topo.consumers.size() + 1;
  // values[m][k]: meter m (0 = check) in interval k (ending at from_end_s + k * 900).
  std::vector<std::vector<analytics::MeterValue>> values(meters, std::vector<analytics::MeterValue>(n));
  for (size_t m = 0; m < meters; ++m) {
    const std::string& id = m == 0 ? topo.check_meter : topo.consumers[m - 1];
    auto series = store_.readings(id, (from_end_s - kIntervalS) * 1000, target_end_s * 1000, kIntervalMs, n + 1);
    if (!series.ok()) {
      // A meter that vanished from the store is just missing; anything else is retried next cycle.
      if (series.error().code == ErrorCode::kNotFound) continue;
      sum->errors.push_back("transformer " + topo.id + ": meter " + id + ": " + series.error().message);
      return;
    }
    std::vector<analytics::MeterValue>& v = values[m];
    int64_t prev_end_s = tr.last_present_end_s[m];
    for (const storage::AggregatePoint& p : series->points) {
      const int64_t end_s = p.t_ms / 1000 + kIntervalS;
      const int64_t k = (end_s - from_end_s) / kIntervalS;
      if (k < 0 || k >= static_cast<int64_t>(n)) continue;
      const double advance_kwh = std::max(0.0, p.energy_import_wh) / 1000.0;
      const bool follows = prev_end_s != 0 && prev_end_s == end_s - kIntervalS;
      double own_kwh = advance_kwh;
      if (!follows) {
        // The register's advance may span a gap before this interval: this interval's own share is its mean
        // power times its length; the rest covers the gap (spread over the gap intervals not yet analysed).
        own_kwh = std::min(advance_kwh, std::max(0.0, p.p_avg_w) * kIntervalH / 1000.0);
        const double gap_kwh = advance_kwh - own_kwh;
        if (prev_end_s != 0) {
          const int64_t gap = (end_s - prev_end_s) / kIntervalS - 1;
          const int64_t first_gap_k = (prev_end_s - from_end_s) / kIntervalS + 1;
          if (gap > 0 && first_gap_k >= 0 && gap_kwh >= kMinGapKwhPerInterval * static_cast<double>(gap)) {
            for (int64_t g = first_gap_k; g < k; ++g) {
              v[static_cast<size_t>(g)] = {gap_kwh / static_cast<double>(gap), analytics::Quality::kFilled};
            }
          }
        }
      }
      v[static_cast<size_t>(k)] = {own_kwh, analytics::Quality::kMeasured};
      prev_end_s = end_s;
    }
    if (prev_end_s != 0) tr.last_present_end_s[m] = prev_end_s;
  }

  std::vector<analytics::MeterValue> consumers(topo.consumers.size());
  for (size_t k = 0; k < n; ++k) {
    const int64_t end_s = from_end_s + static_cast<int64_t>(k) * kIntervalS;
    BalancePoint point;
    point.end_ms = end_s * 1000;
    for (size_t c = 0; c < consumers.size(); ++c) {
      consumers[c] = values[c + 1][k];
      if (consumers[c].quality == analytics::Quality::kMissing) {
        ++point.consumers_missing;
      } else {
        point.consumers_kwh += consumers[c].energy_kwh;
      }
    }
    const analytics::MeterValue check = values[0][k];
    point.check_present = check.quality != analytics::Quality::kMissing;
    point.check_kwh = point.check_present ? check.energy_kwh : 0.0;
    const analytics::CycleResult r = tr.monitor->push(end_s, check, consumers);
    point.evaluated = r.balance.evaluated;
    point.expected_loss_kwh = r.balance.expected_loss_kwh;
    point.unexplained_kwh = r.balance.unexplained_kwh;
    point.z = r.balance.z;
    point.cusum = r.balance.cusum;
    point.alert = r.balance.alert;
    tr.series.push_back(point);
    while (tr.series.size() > static_cast<size_t>(std::max(1, options_.series_intervals))) tr.series.pop_front();
  }
  tr.fed_to_s = target_end_s;
  sum->intervals_fed += n;

  const analytics::TransformerReport report = tr.monitor->report();
  TransformerStatus status;
  status.id = topo.id;
  status.analysed_to_ms = tr.fed_to_s * 1000;
  status.history_from_ms = tr.first_end_s * 1000;
  status.calibrated = report.calibrated;
  status.alert = report.alert;
  status.alert_since_ms =
      report.alert && report.alert_onset_end_s >= 0 ? (report.alert_onset_end_s - kIntervalS) * 1000 : 0;
  status.alerts_raised = report.alerts_raised;
  status.balance_alert = report.balance_alert;
  status.state = analytics::transformer_state_name(report.state);
  status.check_silent_hours = report.check_silent_hours;
  for (const analytics::AlertEpisode& e : report.episodes) {
    EpisodeStatus es;
    es.start_ms = (e.start_end_s - kIntervalS) * 1000;
    es.end_ms = e.open ? 0 : e.end_end_s * 1000;
    es.energy_kwh = e.energy_kwh;
    es.peak_loss_share = e.peak_loss_share;
    es.open = e.open;
    status.episodes.push_back(es);
  }
  status.unexplained_kwh = report.unexplained_kwh;
  status.check_kwh = report.check_kwh;
  status.loss_share = report.loss_share;
  status.cusum = report.cusum;
  status.threshold = report.threshold;
  status.evidence = report.evidence;
  status.series.assign(tr.series.begin(), tr.series.end());
  if (!tr.series.empty()) status.last = tr.series.back();
  for (const analytics::SuspectReport& s : report.suspects) {
    SuspectStatus st;
    st.meter = s.meter;
    st.rank = s.rank;
    st.score = s.score;
    st.flagged = s.flagged;
    st.pattern_score = s.pattern_score;
    st.loss_share = s.loss_share;
    st.attributed_kwh_per_day = s.attributed_kwh_per_day;
    st.first_flagged_ms = s.first_flagged_end_s >= 0 ? s.first_flagged_end_s * 1000 : 0;
    st.decision = s.decision;
    st.reason = s.reason;
    st.evidence = s.evidence;
    status.suspects.push_back(std::move(st));
  }
  publish_alerts(topo, tr, status, now_ms, sum);
  std::lock_guard lock(status_mutex_);
  statuses_[topo.id] = std::move(status);
}

void TheftAnalysisService::publish_alerts(const Transformer& topo, Tracked& tr, TransformerStatus& status,
                                          int64_t now_ms, CycleSummary* sum) {
  const bool first = tr.first_evaluation;
  tr.first_evaluation = false;
  const std::string bkey = balance_key(topo.id);
  if (status.alert) {
    nlohmann::json suspects = nlohmann::json::array();
    for (const SuspectStatus& s : status.suspects) {
      if (suspects.size() >= 5) break;
      suspects.push_back(
          {{"meter", s.meter}, {"rank", s.rank}, {"score", round_to_step(s.score, 1e-4)}, {"flagged", s.flagged}});
    }
    nlohmann::json facts = {{"unexplained_kwh", round_to_step(status.unexplained_kwh, 1e-3)},
                            {"loss_share", round_to_step(status.loss_share, 1e-5)},
                            {"last_interval_unexplained_kwh",
                             status.last ? round_to_step(status.last->unexplained_kwh, 1e-4) : 0.0},
                            {"cusum", round_to_step(status.cusum, 1e-3)},
                            {"threshold", round_to_step(status.threshold, 1e-3)},
                            {"since_ms", status.alert_since_ms},
                            {"suspects", suspects}};
    nlohmann::json evidence = nlohmann::json::array({facts});
    for (const auto& e : status.evidence) evidence.push_back(e);
    alerts::NewAlert a;
    a.kind = "energy_balance";
    a.transformer_id = topo.id;
    a.area = topo.area;
    a.score = status.threshold > 0 ? round_to_step(status.cusum / status.threshold, 1e-4) : 1.0;
    a.evidence = std::move(evidence);
    a.raised_ms = now_ms;
    a.dedup_key = bkey;
    sink_.raise(a);
    ++sum->alerts_raised;
    tr.balance_alert_active = true;
  } else if (tr.balance_alert_active || first) {
    sink_.clear(bkey, now_ms);
    ++sum->alerts_cleared;
    tr.balance_alert_active = false;
  }

  for (const SuspectStatus& s : status.suspects) {
    const std::string key = suspect_key(topo.id, s.meter);
    if (s.flagged) {
      nlohmann::json facts = {{"rank", s.rank},
                              {"score", round_to_step(s.score, 1e-4)},
                              {"pattern_score", round_to_step(s.pattern_score, 1e-3)},
                              {"loss_share", round_to_step(s.loss_share, 1e-4)},
                              {"attributed_kwh_per_day", round_to_step(s.attributed_kwh_per_day, 1e-3)},
                              {"first_flagged_ms", s.first_flagged_ms},
                              {"transformer_alert", status.alert}};
      nlohmann::json evidence = nlohmann::json::array({facts});
      for (const auto& e : s.evidence) evidence.push_back(e);
      alerts::NewAlert a;
      a.kind = "theft_suspect";
      a.meter_id = s.meter;
      a.transformer_id = topo.id;
      a.area = topo.area;
      if (a.area.empty()) {
        if (auto info = store_.get_meter(s.meter); info.ok()) a.area = info->area;
      }
      a.score = round_to_step(s.score, 1e-4);
      a.evidence = std::move(evidence);
      a.raised_ms = now_ms;
      a.dedup_key = key;
      sink_.raise(a);
      ++sum->alerts_raised;
      tr.suspects_active.insert(s.meter);
    } else if (tr.suspects_active.erase(s.meter) > 0 || first) {
      sink_.clear(key, now_ms);
      ++sum->alerts_cleared;
    }
  }
}

std::vector<TransformerStatus> TheftAnalysisService::statuses() const {
  std::lock_guard lock(status_mutex_);
  std::vector<TransformerStatus> out;
  out.reserve(statuses_.size());
  for (const auto& [id, s] : statuses_) out.push_back(s);
  return out;
}

std::optional<TransformerStatus> TheftAnalysisService::status(const std::string& id) const {
  std::lock_guard lock(status_mutex_);
  const auto it = statuses_.find(id);
  if (it == statuses_.end()) return std::nullopt;
  return it->second;
}

}  // namespace wattguard::grid
