// Whether each meter is online, stale, offline or unknown: a pure state machine fed with what the ingest
// service hears and the time, so its rules can be tested without a broker, threads or a clock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/ingest/meter_live.h"
#include "wattguard/protocol/messages.h"

namespace wattguard::ingest {

// One meter's change of connectivity, for the service to store (comm_loss), publish and push.
struct LivenessChange {
  std::string meter_id;
  Connectivity from = Connectivity::kUnknown;
  Connectivity to = Connectivity::kUnknown;
  int64_t at_ms = 0;           // when it happened (offline by missed periods: when a reading was last due)
  std::string offline_reason;  // "status" or "missed_periods" when `to` is offline, else empty
  // Communication loss is a tamper indication: onset when a meter once heard from goes offline, clear when
  // an offline meter comes back. First sight after a start is no recovery; nullopt when there is no event.
  std::optional<protocol::EventEdge> comm_loss;
};

struct LivenessCounts {
  std::size_t online = 0;
  std::size_t stale = 0;
  std::size_t offline = 0;
};

// Rules: unknown until first heard from (and a meter never heard from stays unknown: offline would claim
// a lost connection); online when heard; stale when silent for more than 2 periods + 1 s; offline after
// missed_periods periods of silence or when the meter's own status says so (then only its "online" status
// brings it back). The period is the meter's announced one, else the default. Silence is counted from the
// later of the last message and the time the service last began listening (its start, or its latest
// reconnection to the broker), so neither a restart nor a broker outage declares everybody late; while
// the service cannot hear (disconnected) it draws no conclusions at all. A status said before we began
// listening is old news (retained at the broker, or queued for our session while we were away, e.g. a
// clean stop's "offline"): it changes no state and is no sign of life, so only fresh silence makes such
// a meter offline, and a meter that came back meanwhile raises nothing.
// Not thread-safe: owned by the ingest writer thread.
class Liveness {
 public:
  // REQUIRES: default_period_s >= 1, missed_periods >= 1.
  Liveness(int default_period_s, int missed_periods, int64_t started_ms);

  // A provisioned meter (unknown until heard from); keeps what is known of a meter already there.
  void add(const std::string& meter_id);
  // A sign of life from before a restart (the newest stored MQTT reading); changes no state.
  void restore_last_seen(const std::string& meter_id, int64_t last_seen_ms);

  // A reading arrived at received_ms (stored at now_ms): online unless the meter said it is offline.
  std::optional<LivenessChange> on_reading(const std::string& meter_id, int64_t received_ms, int64_t now_ms);
  // The meter's status message; period_s 0 = not announced. said_ms: the status's own time (0: none, as
  // in a last will); retained: delivered from the broker's store.
  std::optional<LivenessChange> on_status(const std::string& meter_id, bool online, uint32_t period_s,
                                          int64_t received_ms, int64_t said_ms = 0, bool retained = false);
  // The service (re)connected to the broker at now_ms: silence before then proves nothing.
  void listening_since(int64_t now_ms);
  // A status said before we began listening (see the class comment).
  bool is_old_news(int64_t said_ms, bool retained) const { return retained || (said_ms > 0 && said_ms < started_ms_); }
  // A period announced by other means (a set_period acknowledgement); 0 is ignored.
  void set_period(const std::string& meter_id, uint32_t period_s);
  // Stale and offline by silence, as of now_ms; changes in meter id order.
  std::vector<LivenessChange> on_tick(int64_t now_ms);

  Connectivity state(const std::string& meter_id) const;
  LivenessCounts counts() const;

  // Silence after which a meter of this period is late (stale): 2 periods + 1 s, as the web UI had it.
  static int64_t stale_after_ms(int64_t period_ms) { return 2 * period_ms + 1000; }

 private:
  struct Meter {
    Connectivity state = Connectivity::kUnknown;
    int64_t last_seen_ms = 0;  // 0 = never heard from
    uint32_t period_s = 0;     // 0 = default
    bool offline_by_status = false;
  };

  LivenessChange change_to(const std::string& id, Meter& m, Connectivity to, int64_t at_ms, std::string reason);
  int64_t period_ms(const Meter& m) const;

  int default_period_s_;
  int missed_periods_;
  int64_t started_ms_;
  std::map<std::string, Meter> meters_;
};

}  // namespace wattguard::ingest
