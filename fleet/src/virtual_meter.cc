// A virtual meter's behaviour: measuring, detecting tampering, stealing on schedule, obeying commands.
#include "wattguard/fleet/virtual_meter.h"

#include <cmath>
#include <cstdio>

namespace wattguard::fleet {
namespace {

constexpr double kCoverOpenS = 60.0;  // the register-reset thief works with the cover off this long
constexpr uint32_t kMaxTamperEvents = 16;

std::string format(const char* fmt, double value) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), fmt, value);
  return buf;
}

std::string format(const char* fmt, double a, double b) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), fmt, a, b);
  return buf;
}

// A sentence for the event's evidence, per kind.
std::string details_for(const core::TamperEvent& e) {
  switch (e.kind) {
    case core::TamperKind::kReverseFlow: return format("exporting %.0f W on a consumer-only meter", e.value);
    case core::TamperKind::kNeutralMismatch: return format("neutral %.2f A vs phase %.2f A", e.value, e.ref_value);
    case core::TamperKind::kCurrentWithoutVoltage: return format("%.2f A with %.1f V", e.value, e.ref_value);
    case core::TamperKind::kMagneticInterference:
      return e.value > 0 ? format("magnet sensor active, phase %.2f A", e.ref_value)
                         : format("current clamp saturated at %.2f A", e.ref_value);
    case core::TamperKind::kCoverOpen: return "terminal cover switch";
    case core::TamperKind::kRegisterRollback: return format("registers went back by %.3f Wh", e.value);
    case core::TamperKind::kPowerUp: return format("power restored after %.0f s", e.value);
  }
  return {};
}

uint32_t flag_for(core::TamperKind kind) {
  switch (kind) {
    case core::TamperKind::kReverseFlow: return protocol::kFlagTamperReverseFlow;
    case core::TamperKind::kNeutralMismatch: return protocol::kFlagTamperNeutralMismatch;
    case core::TamperKind::kCurrentWithoutVoltage: return protocol::kFlagTamperCurrentWithoutVoltage;
    case core::TamperKind::kMagneticInterference: return protocol::kFlagTamperMagnetic;
    case core::TamperKind::kCoverOpen: return protocol::kFlagTamperCoverOpen;
    case core::TamperKind::kRegisterRollback: return protocol::kFlagTamperRegisterRollback;
    case core::TamperKind::kPowerUp: return 0;
  }
  return 0;
}

MeterModelConfig model_config(const MeterSetup& setup) { return setup.model; }

}  // namespace

protocol::EventKind event_kind_for(core::TamperKind kind) {
  switch (kind) {
    case core::TamperKind::kReverseFlow: return protocol::EventKind::kReverseFlow;
    case core::TamperKind::kNeutralMismatch: return protocol::EventKind::kNeutralMismatch;
    case core::TamperKind::kCurrentWithoutVoltage: return protocol::EventKind::kCurrentWithoutVoltage;
    case core::TamperKind::kMagneticInterference: return protocol::EventKind::kMagnetic;
    case core::TamperKind::kCoverOpen: return protocol::EventKind::kCoverOpen;
    case core::TamperKind::kRegisterRollback: return protocol::EventKind::kRegisterRollback;
    case core::TamperKind::kPowerUp: return protocol::EventKind::kPowerUp;
  }
  return protocol::EventKind::kPowerUp;
}

VirtualMeter::VirtualMeter(const MeterSetup& setup)
    : index_(setup.index),
      id_(setup.id),
      model_(make_meter_model(model_config(setup))),
      theft_(setup.theft),
      boot_ms_(setup.boot_ms),
      period_ms_(setup.model.period_ms) {
  core::TamperThresholds thresholds = setup.thresholds;
  thresholds.bidirectional = thresholds.bidirectional || model_->exports_allowed();
  detector_.set_thresholds(thresholds);
}

int64_t VirtualMeter::ms_for(double model_s) const {
  return boot_ms_ + static_cast<int64_t>(std::llround(model_s * 1000.0));
}

void VirtualMeter::resume(const ResumeState& state, std::vector<protocol::MeterEvent>* events) {
  next_seq_ = std::max<uint64_t>(state.next_seq, kFirstSeq);
  model_->restore_registers(state.import_uwh, state.export_uwh);
  core::TamperEvent found[2];
  uint32_t n = detector_.check_restored_registers(state.import_uwh, state.export_uwh, model_->import_uwh(),
                                                  model_->export_uwh(), 0.0, found, 2);
  if (state.last_time_ms > 0 && boot_ms_ > state.last_time_ms) {
    const double outage_s = static_cast<double>(boot_ms_ - state.last_time_ms) / 1000.0;
    n += detector_.power_up(outage_s, 0.0, found + n, 2 - n);
  }
  publish_tamper(found, n, events);
  if (!state.relay_closed) {
    relay_closed_ = false;
    model_->set_relay_closed(false);
  }
  // A saved period outside what a command may set (1..3600 s) is a damaged file: keep the configured one.
  const bool saved_period_usable = state.period_ms >= 1000 && state.period_ms <= 3'600'000;
  if (saved_period_usable && state.period_ms != period_ms_) {
    period_ms_ = state.period_ms;
    model_->set_period_ms(period_ms_);
    period_start_s_ = model_->time_s();
  }
}

int64_t VirtualMeter::next_due_ms() const { return ms_for(period_start_s_ + period_ms_ / 1000.0); }

uint32_t VirtualMeter::active_tamper_flags() const {
  uint32_t flags = 0;
  for (uint8_t k = 0; k < core::kTamperKindCount; ++k) {
    const auto kind = static_cast<core::TamperKind>(k);
    if (kind != core::TamperKind::kRegisterRollback && detector_.active(kind)) flags |= flag_for(kind);
  }
  return flags;
}

void VirtualMeter::publish_tamper(const core::TamperEvent* found, uint32_t count,
                                  std::vector<protocol::MeterEvent>* out) {
  for (uint32_t k = 0; k < count; ++k) {
    const core::TamperEvent& e = found[k];
    protocol::MeterEvent ev;
    ev.meter_id = id_;
    ev.kind = event_kind_for(e.kind);
    const bool instant = e.kind == core::TamperKind::kPowerUp || e.kind == core::TamperKind::kRegisterRollback;
    ev.edge = instant   ? protocol::EventEdge::kInstant
              : e.onset ? protocol::EventEdge::kOnset
                        : protocol::EventEdge::kClear;
    ev.time_ms = ms_for(e.t_s);
    ev.details = details_for(e);
    out->push_back(std::move(ev));
  }
}

void VirtualMeter::start_theft(std::vector<protocol::MeterEvent>* events) {
  (void)events;
  theft_started_ = true;
  SensorTampering t = tampering_for(theft_.kind);
  if (theft_.kind == TheftKind::kRegisterReset) {
    t.inputs.cover_open = true;
    cover_close_s_ = model_->time_s() + kCoverOpenS;
    model_->restore_registers(model_->import_uwh() / 2, model_->export_uwh());
  }
  model_->set_tampering(t);
}

void VirtualMeter::end_cover_open() {
  SensorTampering t = model_->tampering();
  t.inputs.cover_open = false;
  model_->set_tampering(t);
  cover_close_s_ = -1;
}

void VirtualMeter::take(const ModelReading& mr, std::vector<QueuedReading>* readings,
                        std::vector<protocol::MeterEvent>* events) {
  core::PeriodReading r = mr.reading;
  // The detector times its events from t_end_s: give it the model's own clock, which (unlike the
  // engine's) does not restart when the period is changed.
  r.t_end_s = mr.t_end_s;
  core::TamperEvent found[kMaxTamperEvents];
  const uint32_t n =
      detector_.update(r, model_->tampering().inputs, model_->has_neutral_channel(), found, kMaxTamperEvents);
  publish_tamper(found, n, events);
  uint32_t flags = (r.flags & 0x1Fu) | active_tamper_flags();
  for (uint32_t k = 0; k < n; ++k) {
    if (found[k].kind == core::TamperKind::kRegisterRollback) flags |= protocol::kFlagTamperRegisterRollback;
  }
  if (!relay_closed_) flags |= protocol::kFlagRelayOpen;
  QueuedReading q;
  q.seq = next_seq_++;
  q.time_ms = ms_for(mr.t_end_s);
  q.vrms = r.vrms;
  q.irms = r.irms;
  q.p_w = r.p_w;
  q.s_va = r.s_va;
  q.q_var = r.q_var;
  q.pf = r.pf;
  q.freq_hz = r.freq_hz;
  q.flags = flags;
  q.import_uwh = r.import_uwh;
  q.export_uwh = r.export_uwh;
  readings->push_back(q);
  period_start_s_ = mr.t_end_s;
}

void VirtualMeter::advance(int64_t now_ms, std::vector<QueuedReading>* readings,
                           std::vector<protocol::MeterEvent>* events) {
  const double target_s = model_time_for(now_ms);
  if (target_s <= model_->time_s()) return;
  // Scheduled changes happen exactly at their time, whatever the caller's step.
  for (;;) {
    double stop_s = target_s;
    const bool theft_due = theft_.kind != TheftKind::kNone && !theft_started_ && theft_.onset_s < stop_s;
    if (theft_due) stop_s = std::max(theft_.onset_s, model_->time_s());
    const bool cover_due = cover_close_s_ >= 0 && cover_close_s_ < stop_s;
    if (cover_due) stop_s = std::max(cover_close_s_, model_->time_s());
    scratch_.clear();
    model_->advance_to(stop_s, &scratch_);
    for (const ModelReading& mr : scratch_) take(mr, readings, events);
    if (theft_due && stop_s >= theft_.onset_s && !theft_started_) {
      start_theft(events);
      continue;
    }
    if (cover_close_s_ >= 0 && stop_s >= cover_close_s_) {
      end_cover_open();
      continue;
    }
    if (stop_s >= target_s) break;
  }
}

VirtualMeter::CommandOutcome VirtualMeter::execute(const protocol::Command& command, int64_t now_ms, int64_t wall_ms,
                                                   std::vector<protocol::MeterEvent>* events) {
  CommandOutcome out;
  protocol::CommandAck& ack = out.ack;
  ack.id = command.id;
  ack.meter_id = id_;
  ack.time_ms = now_ms;
  if (command.expires_ms != 0 && wall_ms > command.expires_ms) {
    ack.ok = false;
    ack.message = "expired before it reached the meter";
  } else {
    switch (command.kind) {
      case protocol::CommandKind::kRelayOff:
      case protocol::CommandKind::kRelayOn: {
        const bool close = command.kind == protocol::CommandKind::kRelayOn;
        if (close != relay_closed_) {
          relay_closed_ = close;
          model_->set_relay_closed(close);
          out.settings_changed = true;
          protocol::MeterEvent ev;
          ev.meter_id = id_;
          ev.kind = close ? protocol::EventKind::kRelayClosed : protocol::EventKind::kRelayOpened;
          ev.edge = protocol::EventEdge::kInstant;
          ev.time_ms = now_ms;
          ev.details = "by command " + command.id;
          events->push_back(std::move(ev));
        }
        ack.ok = true;
        ack.message = close ? "relay closed" : "relay open";
        break;
      }
      case protocol::CommandKind::kSetPeriod:
        if (!command.period_s || *command.period_s < 1 || *command.period_s > 3600) {
          ack.ok = false;
          ack.message = "period_s must be 1..3600";
        } else {
          const uint32_t ms = *command.period_s * 1000u;
          if (ms != period_ms_) {
            period_ms_ = ms;
            model_->set_period_ms(ms);
            period_start_s_ = model_->time_s();
            out.settings_changed = true;
          }
          ack.ok = true;
          ack.message = "period set";
        }
        break;
      case protocol::CommandKind::kPing:
        ack.ok = true;
        ack.message = "pong";
        break;
    }
  }
  ack.relay = relay_closed_ ? protocol::RelayState::kOn : protocol::RelayState::kOff;
  ack.period_s = period_ms_ / 1000u;
  return out;
}

protocol::StatusMessage VirtualMeter::online_status(int64_t now_ms) const {
  protocol::StatusMessage s;
  s.meter_id = id_;
  s.online = true;
  s.time_ms = now_ms;
  s.period_s = period_ms_ / 1000u;
  s.firmware = "wattguard-fleet 0.1 (" + std::string(model_->has_neutral_channel() ? "2 clamps" : "1 clamp") + ")";
  return s;
}

}  // namespace wattguard::fleet
