// The emoncms input API under its prefix (docs/bring-your-own-meter.md "emoncms"): input/post and input/bulk in
// every form emoncms takes, authenticated by the meter's API key (apikey= or Authorization: Bearer), answered as
// emoncms answers ("ok", or {"success":false,"message":...}); frames become readings through ingest. Wrong keys
// earn a growing per-address delay. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "server/api/api_context.h"
#include "wattguard/api/login_throttle.h"
#include "wattguard/api/metrics_writer.h"
#include "wattguard/emoncms/input_map.h"

namespace wattguard::api {

class EmoncmsRoutes {
 public:
  struct Stats {
    uint64_t requests = 0;
    uint64_t frames_accepted = 0;
    uint64_t refused_key = 0;
    uint64_t refused_input = 0;
  };

  explicit EmoncmsRoutes(ApiContext& context);

  // The answer when `path` is under the prefix, else nullopt (not ours).
  std::optional<HttpResponse> handle(const HttpRequest& req, const RequestTarget& target);
  Stats stats() const;
  // The counters as Prometheus families (wattguard_emoncms_*).
  void write_metrics(MetricsWriter& out) const;

 private:
  HttpResponse input(const HttpRequest& req, const RequestTarget& target, bool bulk);
  const emoncms::InputMap& map_of(const std::string& meter) const;

  ApiContext& context_;
  std::string prefix_;
  emoncms::InputMap default_map_;
  std::map<std::string, emoncms::InputMap> meter_maps_;
  LoginThrottle key_throttle_;
  // The last reading handed to ingest per meter: the next one integrates from it even before it is stored.
  // Held while a request's readings are built and handed over, so two uploads of one meter do not interleave.
  std::mutex submit_mutex_;
  std::unordered_map<std::string, protocol::Reading> last_submitted_;  // guarded by submit_mutex_
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> frames_accepted_{0};
  std::atomic<uint64_t> refused_key_{0};
  std::atomic<uint64_t> refused_input_{0};
};

}  // namespace wattguard::api
