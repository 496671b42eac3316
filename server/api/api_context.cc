// The API's shared state and the questions several route groups ask.
#include "server/api/api_context.h"

#include <spdlog/spdlog.h>

#include "server/api/route_support.h"
#include "wattguard/api/live_hub.h"
#include "wattguard/base/clock.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::api {
namespace {

bool is_loopback_host(const std::string& host_header) {
  std::string host = ascii_lower(host_header);
  if (!host.empty() && host[0] == '[') {
    const auto end = host.find(']');
    return host.substr(0, end + 1) == "[::1]";
  }
  host = host.substr(0, host.find(':'));
  return host == "localhost" || host.rfind("127.", 0) == 0;
}

ApiDeps with_clock(ApiDeps deps) {
  deps.now_ms = or_system_clock(std::move(deps.now_ms));
  return deps;
}

}  // namespace

ApiContext::ApiContext(ApiDeps deps)
    : deps_(with_clock(std::move(deps))),
      password_cost_(password_cost_from_name(deps_.auth_config.password_cost).value_or(PasswordCost::kInteractive)),
      throttle_(deps_.auth_config.login_delay_base_ms, deps_.auth_config.login_delay_max_ms),
      directory_(*deps_.store, 5000),
      day_start_(*deps_.store),
      started_ms_(deps_.now_ms()) {}

std::optional<storage::MeterInfo> ApiContext::visible_meter(const Caller& caller, const std::string& id) {
  const auto snap = directory_.get(now_ms());
  const storage::MeterInfo* info = snap->find(id);
  if (info == nullptr) {
    // Possibly provisioned since the last reload.
    if (!protocol::is_valid_meter_id(id) || !deps_.store->has_meter(id)) return std::nullopt;
    directory_.invalidate();
    info = directory_.get(now_ms())->find(id);
    if (info == nullptr) return std::nullopt;
  }
  if (caller.access == Access::kConsumer && ascii_lower(info->owner) != ascii_lower(caller.name)) {
    return std::nullopt;  // 404, not 403: do not reveal that someone else's meter exists
  }
  return *info;
}

std::vector<std::string> ApiContext::meters_of(const std::string& user_name) {
  return directory_.get(now_ms())->owned_by(user_name);
}

std::string ApiContext::session_cookie(const HttpRequest& req, const std::string& value, int64_t max_age_s) {
  std::string cookie = std::string(ApiHandler::kSessionCookie) + "=" + value +
                       "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_s);
  bool secure = false;
  switch (req.tls ? CookieSecure::kAlways : deps_.auth_config.cookie_secure) {  // over our own HTTPS: always
    case CookieSecure::kAlways: secure = true; break;
    case CookieSecure::kNever: secure = false; break;
    case CookieSecure::kAuto: {
      // Plain HTTP to a loopback address never leaves the machine, and browsers would refuse a
      // Secure cookie there only in some versions; everywhere else require HTTPS (a TLS proxy).
      const std::string* host = req.header("host");
      const std::string* proto = req.header("x-forwarded-proto");
      secure = (proto != nullptr && ascii_lower(*proto) == "https") || host == nullptr || !is_loopback_host(*host);
      if (secure && (proto == nullptr || ascii_lower(*proto) != "https") && !value.empty()) {
        std::call_once(insecure_cookie_warning_, [] {
          spdlog::warn(
              "api: sign-in over plain HTTP from a non-loopback address: the session cookie is marked Secure, so "
              "browsers will only keep it over HTTPS. Put a TLS proxy in front (sending X-Forwarded-Proto: https) "
              "or set auth.cookie_secure = \"never\" on a trusted network.");
        });
      }
      break;
    }
  }
  if (secure) cookie += "; Secure";
  return cookie;
}

void ApiContext::ownership_changed() {
  directory_.invalidate();
  if (deps_.hub != nullptr) deps_.hub->access_changed();
}

void ApiContext::audit(const Caller& caller, const std::string& action, const std::string& target,
                       const std::string& details) {
  write_audit(*deps_.store, now_ms(), caller, action, target, details);
}

}  // namespace wattguard::api
