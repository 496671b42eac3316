// One virtual meter: its measuring model, tamper detector, sequence numbers, relay and report
// period, and the commands it obeys. Transport-free: the shard that owns it moves its readings,
// events and acknowledgements over MQTT.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wattguard/core/tamper_detector.h"
#include "wattguard/fleet/meter_model.h"
#include "wattguard/fleet/queued_reading.h"
#include "wattguard/fleet/theft_plan.h"
#include "wattguard/protocol/messages.h"

namespace wattguard::fleet {

struct MeterSetup {
  uint32_t index = 0;  // position in the fleet
  std::string id;      // protocol meter id (also its MQTT user name)
  MeterModelConfig model;
  TheftPlan theft;
  int64_t boot_ms = 0;                // virtual Unix ms at which the meter starts measuring
  core::TamperThresholds thresholds;  // bidirectional is set from the household (PV)
};

// What a previous run of the fleet left in the state directory for this meter.
struct ResumeState {
  uint64_t next_seq = 1;
  uint64_t import_uwh = 0;
  uint64_t export_uwh = 0;
  bool relay_closed = true;
  uint32_t period_ms = 0;    // 0: keep the configured period
  int64_t last_time_ms = 0;  // time of its last reading (0: none)
};

class VirtualMeter {
 public:
  static constexpr uint64_t kFirstSeq = 1;

  explicit VirtualMeter(const MeterSetup& setup);

  // Continues from a previous run: sequence, registers, relay and period. Raises power_up (the
  // outage since the last reading) and register_rollback if the registers came back lower.
  void resume(const ResumeState& state, std::vector<protocol::MeterEvent>* events);

  // Measures up to virtual time `now_ms`; appends the readings completed and the events raised.
  void advance(int64_t now_ms, std::vector<QueuedReading>* readings, std::vector<protocol::MeterEvent>* events);
  // Virtual time of the next reading (a report period after the last one).
  int64_t next_due_ms() const;

  // Obeys a decoded command addressed to this meter. `now_ms` is the meter's (virtual) clock for
  // the ack's time; `wall_ms` the real clock, against which the server's expiry is checked.
  struct CommandOutcome {
    protocol::CommandAck ack;
    bool settings_changed = false;  // relay or period changed: persist and re-announce the status
  };
  CommandOutcome execute(const protocol::Command& command, int64_t now_ms, int64_t wall_ms,
                         std::vector<protocol::MeterEvent>* events);

  // The status message announcing this meter online (period included).
  protocol::StatusMessage online_status(int64_t now_ms) const;

  const std::string& id() const { return id_; }
  uint32_t index() const { return index_; }
  bool relay_closed() const { return relay_closed_; }
  uint32_t period_ms() const { return period_ms_; }
  uint64_t next_seq() const { return next_seq_; }
  const TheftPlan& theft() const { return theft_; }
  bool theft_active() const { return theft_started_; }
  // The theft in place cut the meter's communications (TheftKind::kOffline).
  bool comms_cut() const { return theft_started_ && theft_.kind == TheftKind::kOffline; }
  const MeterModel& model() const { return *model_; }
  int64_t boot_ms() const { return boot_ms_; }
  uint32_t active_tamper_flags() const;

 private:
  double model_time_for(int64_t ms) const { return static_cast<double>(ms - boot_ms_) / 1000.0; }
  int64_t ms_for(double model_s) const;
  void start_theft(std::vector<protocol::MeterEvent>* events);
  void end_cover_open();
  void take(const ModelReading& r, std::vector<QueuedReading>* readings, std::vector<protocol::MeterEvent>* events);
  void publish_tamper(const core::TamperEvent* events, uint32_t count, std::vector<protocol::MeterEvent>* out);

  uint32_t index_;
  std::string id_;
  std::unique_ptr<MeterModel> model_;
  core::TamperDetector detector_;
  TheftPlan theft_;
  bool theft_started_ = false;
  double cover_close_s_ = -1;  // register-reset thief closes the cover again at this model time
  int64_t boot_ms_;
  uint64_t next_seq_ = kFirstSeq;
  bool relay_closed_ = true;
  uint32_t period_ms_;
  double period_start_s_ = 0.0;  // model time at which the period in progress began
  std::vector<ModelReading> scratch_;
};

// Stable translation of the core's tamper kinds to telemetry event kinds.
protocol::EventKind event_kind_for(core::TamperKind kind);

}  // namespace wattguard::fleet
