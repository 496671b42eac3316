// The server's grid-side theft detection: every cycle (15 minutes by default) each transformer's check meter and
// consumers are read from the store's 15-minute rollups for the intervals completed since the last cycle and fed
// to analytics' TransformerMonitor (energy balance, pattern scores, localiser). Its alerts go to an AlertSink:
// "energy_balance" per transformer, "theft_suspect" per flagged consumer, each deduplicated so an ongoing
// condition is one alert, and cleared when it ends. Nothing but the store is needed to resume: at start-up (and
// when a transformer's members change) the monitor is rebuilt by re-feeding history_days of stored rollups.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "wattguard/alerts/alert.h"
#include "wattguard/grid/grid_store.h"
#include "wattguard/grid/theft_options.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::analytics {
class TransformerMonitor;
}

namespace wattguard::grid {

// Where alerts go (the AlertService in the server; a recorder in tests).
struct AlertSink {
  std::function<int64_t(const alerts::NewAlert&)> raise;
  std::function<void(const std::string& dedup_key, int64_t t_ms)> clear;
};

// One 15-minute interval of a transformer's balance.
struct BalancePoint {
  int64_t end_ms = 0;
  bool check_present = false;
  double check_kwh = 0;
  double consumers_kwh = 0;   // reported and register-covered consumer energy
  int consumers_missing = 0;  // consumers with no value (the monitor estimates them)
  bool evaluated = false;     // false while calibrating or without a check reading
  double expected_loss_kwh = 0;
  double unexplained_kwh = 0;  // check - consumers - expected loss (with estimates for missing consumers)
  double z = 0;
  double cusum = 0;
  bool alert = false;
};

struct SuspectStatus {
  std::string meter;
  int rank = 0;      // 1 = prime suspect
  double score = 0;  // 0..1
  bool flagged = false;
  double pattern_score = 0;
  double loss_share = 0;  // share of the unexplained loss it explains
  double attributed_kwh_per_day = 0;
  int64_t first_flagged_ms = 0;  // 0 when not flagged
  std::string decision;          // "flagged", "clear" or "unknown" (too little history to judge)
  std::string reason;            // one line in plain words
  std::vector<std::string> evidence;
};

// One transformer alert episode (analytics::AlertEpisode in milliseconds).
struct EpisodeStatus {
  int64_t start_ms = 0;  // start of the first interval of the excess loss
  int64_t end_ms = 0;    // end of its last alerting interval; 0 while open
  double energy_kwh = 0;
  double peak_loss_share = 0;
  bool open = false;
};

struct TransformerStatus {
  std::string id;
  int64_t analysed_to_ms = 0;   // end of the last interval fed; 0 before the first
  int64_t history_from_ms = 0;  // end of the first interval fed since the monitor was built
  bool calibrated = false;
  bool alert = false;          // an alert episode is open
  bool balance_alert = false;  // the balance test itself alerts at the newest interval
  std::string state;           // "calibrating", "not_evaluable", "clean" or "alert"
  double check_silent_hours = 0;
  int64_t alert_since_ms = 0;           // start of the open episode's excess loss, else 0
  int alerts_raised = 0;                // alert episodes since the monitor was built
  std::vector<EpisodeStatus> episodes;  // oldest first
  double unexplained_kwh = 0;           // since calibration
  double check_kwh = 0;
  double loss_share = 0;  // unexplained / check energy since calibration
  double cusum = 0;
  double threshold = 0;
  std::optional<BalancePoint> last;     // the newest interval
  std::vector<BalancePoint> series;     // recent intervals, oldest first
  std::vector<SuspectStatus> suspects;  // every consumer, most likely thief first
  std::vector<std::string> evidence;
};

struct CycleSummary {
  int64_t analysed_to_ms = 0;  // end of the newest complete interval considered
  size_t transformers = 0;
  size_t rebuilt = 0;        // monitors (re)built from history this cycle
  size_t intervals_fed = 0;  // transformer-intervals pushed
  size_t alerts_raised = 0;  // raise() calls (new alerts and updates of active ones)
  size_t alerts_cleared = 0;
  std::vector<std::string> errors;  // storage problems; the transformer is retried next cycle
};

class TheftAnalysisService {
 public:
  TheftAnalysisService(TheftOptions options, storage::ReadingStore& store, GridStore& grid, AlertSink sink,
                       std::function<int64_t()> now_ms = {});
  ~TheftAnalysisService();  // stop()
  TheftAnalysisService(const TheftAnalysisService&) = delete;
  TheftAnalysisService& operator=(const TheftAnalysisService&) = delete;

  // Runs cycles on a thread: one at once (the history re-feed), then every cycle_s.
  void start();
  void stop();  // idempotent; an ongoing cycle stops between transformers

  // One cycle as of now_ms (the thread calls this; tests call it directly with their own clock).
  CycleSummary run_cycle(int64_t now_ms);

  // Latest state for the API (copies; thread-safe). Statuses are ordered by transformer id.
  std::vector<TransformerStatus> statuses() const;
  std::optional<TransformerStatus> status(const std::string& id) const;

  const TheftOptions& options() const { return options_; }

  static std::string balance_key(const std::string& transformer_id);
  static std::string suspect_key(const std::string& transformer_id, const std::string& meter_id);

 private:
  struct Tracked;
  // target_end_s, or earlier while the check meter's readings lag by less than check_wait_s.
  int64_t check_ready_end_s(const Transformer& t, int64_t target_end_s);
  void analyse(const Transformer& topo, Tracked& tracked, int64_t target_end_s, int64_t now_ms, CycleSummary* sum);
  void publish_alerts(const Transformer& topo, Tracked& tracked, TransformerStatus& status, int64_t now_ms,
                      CycleSummary* sum);

  TheftOptions options_;
  storage::ReadingStore& store_;
  GridStore& grid_;
  AlertSink sink_;
  std::function<int64_t()> now_ms_;

  std::mutex cycle_mutex_;                                   // one cycle at a time
  std::map<std::string, std::unique_ptr<Tracked>> tracked_;  // guarded by cycle_mutex_

  mutable std::mutex status_mutex_;
  std::map<std::string, TransformerStatus> statuses_;

  std::mutex thread_mutex_;
  std::condition_variable thread_cv_;
  bool stopping_ = false;
  std::atomic<bool> abort_{false};
  std::thread thread_;
};

}  // namespace wattguard::grid
