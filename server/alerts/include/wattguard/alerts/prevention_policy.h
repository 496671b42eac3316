// Prevention: an alert whose kind is in its area's disconnect_on list sends relay_off to the meter,
// retries on ack timeout, and records the final result on the alert and in the audit log.
#pragma once

#include <map>
#include <string>

#include "wattguard/alerts/alert_service.h"
#include "wattguard/alerts/alerts_config.h"
#include "wattguard/alerts/task_thread.h"
#include "wattguard/ingest/ingest_service.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::alerts {

// Life cycle: construct, attach() (listens to the alert service and to ingest acks), ...,
// detach() before ingest and the service go away. Work runs on its own thread.
class PreventionPolicy final : public ingest::IngestObserver {
 public:
  PreventionPolicy(AlertService& service, ingest::IngestService& ingest, storage::ReadingStore& store,
                   AlertsConfig config);
  ~PreventionPolicy() override;

  void attach();
  void detach();

  void on_ack(const storage::CommandRecord& command) override;
  void drain() { tasks_.drain(); }

 private:
  struct Pending {
    int64_t alert_id = 0;
    std::string meter_id;
    std::string actor;  // "policy:<area>"
    std::string kind;
    int attempt = 1;
  };
  void on_alert(const Alert& alert);
  void send(Pending pending);
  void finish(const Pending& pending, const std::string& result);
  void handle_ack(const storage::CommandRecord& command);

  AlertService& service_;
  ingest::IngestService& ingest_;
  storage::ReadingStore& store_;
  AlertsConfig config_;
  std::map<std::string, Pending> in_flight_;  // by command id; only touched on tasks_
  std::atomic<bool> attached_{false};
  TaskThread tasks_;
};

}  // namespace wattguard::alerts
