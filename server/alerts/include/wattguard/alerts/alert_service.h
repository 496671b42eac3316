// Raises, updates, clears and lists alerts; stored in the readings' SQLite file with a delivery outbox.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/alerts/alert.h"
#include "wattguard/base/expected.h"

namespace wattguard::alerts {

// Who is told about an alert of an area: one row per (notifier, recipient).
struct Recipient {
  std::string notifier;  // "webhook" or "sms"
  std::string name;      // the reader's name
  std::string address;   // URL or phone number
};

// Called (outside the service's lock, on the raising thread) when raise() created a NEW alert
// (not on deduplicated updates). The prevention policy listens here.
using AlertListener = std::function<void(const Alert&)>;

// Error::reason of acknowledge()/close() on an alert that is already closed (code kInvalidInput).
inline constexpr const char* kAlertAlreadyClosed = "already_closed";

struct AlertServiceOptions {
  std::string database_path;        // the readings' SQLite file
  std::function<int64_t()> now_ms;  // default: system clock
  // Recipients for an area ("" = the default area); called inside raise() for a new alert, so
  // its deliveries are stored in the same transaction as the alert. Optional (no notifiers).
  std::function<std::vector<Recipient>(const std::string& area)> recipients;
  // At most this many new alerts of one meter notify anyone per 24 h (0 = no limit): a meter that flaps or
  // fakes events cannot turn each reading into an SMS. Further alerts are stored and listed, with an action
  // saying they were not notified. Counted in memory: a restart starts the window afresh.
  int max_notified_per_meter_per_day = 0;
};

// Thread-safe: every method may be called from any thread (ingest observers, analysis, HTTP).
// Uses its own SQLite connection (WAL) to the readings' database; tables alerts, alert_deliveries,
// alert_actions are created if missing. Storage failures are logged and reported as values.
class AlertService {
 public:
  // Fails (kIoError) when the database cannot be opened or its tables created.
  static Expected<std::unique_ptr<AlertService>> open(AlertServiceOptions options);
  ~AlertService();
  AlertService(const AlertService&) = delete;
  AlertService& operator=(const AlertService&) = delete;

  // Creates an alert (and its outbox rows) or, if an active alert has the same dedup_key, updates
  // its score, evidence and updated_ms. Returns the alert id, or 0 if it could not be stored.
  int64_t raise(const NewAlert& alert);
  // Marks the active alert with this key cleared at t_ms (the condition ended); later raises with
  // the key make a new alert. "offline" alerts are also closed by "system". No-op if none is active.
  void clear(const std::string& dedup_key, int64_t t_ms);

  std::vector<Alert> list(const AlertQuery& query);
  std::optional<Alert> get(int64_t id);
  // Operator actions; recorded as alert actions and (by the caller) in the audit log.
  // Errors: kNotFound (no such alert), kInvalidInput with reason kAlertAlreadyClosed, kIoError (the database).
  Expected<void> acknowledge(int64_t id, const std::string& user, const std::string& note);
  Expected<void> close(int64_t id, const std::string& user, const std::string& note);
  // Appends an action (e.g. a policy disconnect and its result) to an alert's history.
  void add_action(int64_t id, const AlertAction& action);

  // Open or acknowledged alerts per meter id (meters with none are absent); `consumer_view` counts only the kinds
  // a consumer may see (consumer_visible_kinds()).
  std::map<std::string, int> open_counts(bool consumer_view = false);
  int open_count(const std::string& meter_id, bool consumer_view = false);

  void add_listener(AlertListener listener);

  // The default dedup key for an alert without one: "<kind>|<meter>|<transformer>".
  static std::string default_dedup_key(const NewAlert& alert);

  // --- Outbox, for the delivery worker ---
  // Pending deliveries due at or before now_ms, oldest first.
  std::vector<Delivery> due_deliveries(int64_t now_ms, std::size_t limit = 50);
  // Marks one delivery delivered (only if still pending: never twice). False if it was not pending.
  bool mark_delivered(int64_t delivery_id, int64_t t_ms);
  // Records a failed attempt: pending again at next_attempt_ms, or undelivered when give_up.
  void mark_failed(int64_t delivery_id, const std::string& error, int64_t next_attempt_ms, bool give_up);
  std::vector<Delivery> deliveries_of(int64_t alert_id);

  int64_t now_ms() const;

 private:
  struct Impl;
  explicit AlertService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wattguard::alerts
