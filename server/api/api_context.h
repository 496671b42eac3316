// What the API's route groups share: the dependencies, the clock, the meter registry cache, the sign-in
// throttle, and the few questions several groups ask (may this caller see that meter, whose meters are these,
// the session cookie, the audit log). Thread-safe: used from every I/O thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/api/api_handler.h"
#include "wattguard/api/login_throttle.h"
#include "wattguard/api/meter_directory.h"
#include "wattguard/api/secrets.h"

namespace wattguard::api {

class ApiContext {
 public:
  explicit ApiContext(ApiDeps deps);
  ApiContext(const ApiContext&) = delete;
  ApiContext& operator=(const ApiContext&) = delete;

  const ApiDeps& deps() const { return deps_; }
  int64_t now_ms() const { return deps_.now_ms(); }
  int64_t started_ms() const { return started_ms_; }
  PasswordCost password_cost() const { return password_cost_; }
  LoginThrottle& throttle() { return throttle_; }
  MeterDirectory& directory() { return directory_; }
  // Meters changed hands (or were added, retired): the directory reloads, and every live stream checks at once
  // that its caller may still watch what it watches.
  void ownership_changed();
  DayStartCache& day_start() { return day_start_; }

  // The meter when it exists and the caller may see it (consumers: only their own).
  std::optional<storage::MeterInfo> visible_meter(const Caller& caller, const std::string& id);
  // The ids of the meters `user_name` owns.
  std::vector<std::string> meters_of(const std::string& user_name);
  // The Set-Cookie value for the session id `value` (empty with max age 0: ends the session).
  std::string session_cookie(const HttpRequest& req, const std::string& value, int64_t max_age_s);
  void audit(const Caller& caller, const std::string& action, const std::string& target, const std::string& details);

 private:
  ApiDeps deps_;
  PasswordCost password_cost_;
  LoginThrottle throttle_;
  MeterDirectory directory_;
  DayStartCache day_start_;
  int64_t started_ms_;
  std::once_flag insecure_cookie_warning_;
};

}  // namespace wattguard::api
