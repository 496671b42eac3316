// The alert routes of the API: list/get alerts, acknowledge/close them, and read the audit log
// (docs/api.md "Alerts"). Consumers see only the alerts of their own meters. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/alerts/alert_service.h"
#include "wattguard/api/api_handler.h"
#include "wattguard/api/http_message.h"
#include "wattguard/api/request_target.h"
#include "wattguard/base/clock.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::api {

struct AlertRoutesDeps {
  alerts::AlertService* alerts = nullptr;
  storage::ReadingStore* store = nullptr;  // meter owners (consumer isolation) and the audit log
  Clock now_ms;
};

class AlertRoutes {
 public:
  explicit AlertRoutes(AlertRoutesDeps deps);

  // The answer for /api/v1/alerts... and /api/v1/audit, or nullopt for any other path.
  std::optional<HttpResponse> handle(const HttpRequest& req, const RequestTarget& target,
                                     const std::vector<std::string>& seg, const Caller& caller);

  // Open (open or acknowledged) alerts per meter, for the meters' alerts_open: of the kinds `caller` may see.
  std::map<std::string, int> open_counts(const Caller& caller);
  int open_count(const std::string& meter_id, const Caller& caller);
  // Every open alert, of every kind and meter (for /metrics).
  int open_total();

 private:
  HttpResponse list(const RequestTarget& target, const Caller& caller);
  HttpResponse get(const std::string& id, const Caller& caller);
  HttpResponse change(const HttpRequest& req, const std::string& id, const std::string& action, const Caller& caller);
  HttpResponse audit_log(const RequestTarget& target, const Caller& caller);
  // A consumer's own meter ids (owner = the user's name, case-insensitive).
  std::vector<std::string> own_meters(const Caller& caller);

  AlertRoutesDeps deps_;
};

}  // namespace wattguard::api
