// Turns what ingest sees into alerts: meter tamper events (onset raises, clear clears) and meters going offline.
#pragma once

#include <string>

#include "wattguard/alerts/alert_service.h"
#include "wattguard/alerts/task_thread.h"
#include "wattguard/ingest/ingest_observer.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::alerts {

// Register with IngestService::add_observer; remove before destroying. Callbacks only queue work;
// the alert writes (and the meter's area lookup) run on this object's own thread.
class IngestAlerts final : public ingest::IngestObserver {
 public:
  IngestAlerts(AlertService& service, storage::ReadingStore& store, bool offline_alerts);
  ~IngestAlerts() override;

  void on_event(const storage::StoredEvent& event) override;
  void on_status(const ingest::MeterLive& state) override;

  // Waits until everything queued so far is handled (tests, shutdown).
  void drain() { tasks_.drain(); }
  void stop() { tasks_.stop(); }

  // Dedup keys, so other parts can clear or look up the same alerts.
  static std::string tamper_key(const std::string& meter_id, const std::string& kind);
  static std::string offline_key(const std::string& meter_id);

 private:
  void handle_event(const storage::StoredEvent& event);
  void handle_status(const ingest::MeterLive& state);
  std::string area_of(const std::string& meter_id);

  AlertService& service_;
  storage::ReadingStore& store_;
  bool offline_alerts_;
  TaskThread tasks_;
};

// Alert score of a tamper kind (how strongly it points at theft), 0 for kinds that are not alerts.
double tamper_score(std::string_view kind);

}  // namespace wattguard::alerts
