// Pin writes -> readings (rules in the header).
#include "wattguard/blynk/reading_assembler.h"

#include <algorithm>
#include <cmath>

namespace wattguard::blynk {
namespace {

constexpr double kMsPerHour = 3'600'000.0;

std::size_t index(PinField f) { return static_cast<std::size_t>(f); }

}  // namespace

ReadingAssembler::ReadingAssembler(std::string meter_id, const PinMap& map, int64_t quiet_ms,
                                   const std::optional<protocol::Reading>& last)
    : meter_id_(std::move(meter_id)), map_(map), quiet_ms_(quiet_ms) {
  if (last) {
    import_wh_ = last->e_import_wh;
    export_wh_ = last->e_export_wh;
    relay_ = (last->flags & protocol::kFlagRelayOpen) ? protocol::RelayState::kOff : protocol::RelayState::kOn;
  }
}

std::optional<protocol::Reading> ReadingAssembler::on_write(PinField field, double value, int64_t now_ms) {
  if (field == PinField::kNone) return std::nullopt;
  if (field == PinField::kRelay) {
    relay_ = value != 0 ? protocol::RelayState::kOn : protocol::RelayState::kOff;
    return std::nullopt;
  }
  std::optional<protocol::Reading> ended;
  if (values_[index(field)] && !in_group_) ended = emit();
  if (!values_[index(field)]) ++written_;
  values_[index(field)] = value;
  last_write_ms_ = now_ms;
  if (!in_group_ && written_ >= map_.measurement_pins() && !ended) return emit();
  return ended;
}

std::optional<protocol::Reading> ReadingAssembler::on_group_begin(std::optional<int64_t> time_ms, int64_t now_ms) {
  std::optional<protocol::Reading> ended;
  if (written_ > 0) ended = emit();
  in_group_ = true;
  group_time_ms_ = time_ms;
  last_write_ms_ = now_ms;
  return ended;
}

std::optional<protocol::Reading> ReadingAssembler::on_group_end(int64_t now_ms) {
  in_group_ = false;
  if (written_ == 0) {
    group_time_ms_.reset();
    return std::nullopt;
  }
  if (last_write_ms_ == 0) last_write_ms_ = now_ms;
  return emit();
}

std::optional<protocol::Reading> ReadingAssembler::on_tick(int64_t now_ms) {
  const auto due = deadline_ms();
  if (!due || now_ms < *due) return std::nullopt;
  in_group_ = false;  // a group never ended: its writes still count
  return emit();
}

std::optional<int64_t> ReadingAssembler::deadline_ms() const {
  if (written_ == 0) return std::nullopt;
  return last_write_ms_ + quiet_ms_;
}

std::optional<protocol::Reading> ReadingAssembler::emit() {
  if (written_ == 0) return std::nullopt;
  auto get = [&](PinField f) { return values_[index(f)]; };
  protocol::Reading r;
  r.meter_id = meter_id_;
  r.time_ms = group_time_ms_.value_or(last_write_ms_);
  const auto v = get(PinField::kVoltage);
  const auto i = get(PinField::kCurrent);
  auto p = get(PinField::kRealPower);
  auto s = get(PinField::kApparentPower);
  auto pf = get(PinField::kPowerFactor);
  r.vrms = v.value_or(0);
  r.irms = i.value_or(0);
  if (!s && v && i) s = *v * *i;
  if (!p && s && pf) p = *s * *pf;
  if (!pf && p && s) pf = *s > 0 ? std::clamp(*p / *s, -1.0, 1.0) : 1.0;
  r.p_w = p.value_or(0);
  r.s_va = s.value_or(0);
  r.pf = pf.value_or(1.0);
  if (const auto q = get(PinField::kReactivePower)) {
    r.q_var = *q;
  } else if (p && s) {
    r.q_var = std::sqrt(std::max(0.0, *s * *s - *p * *p));
  }
  r.freq_hz = get(PinField::kFrequency).value_or(0);
  if (const auto kwh = get(PinField::kEnergyKwh)) {
    import_wh_ = *kwh * 1000.0;
  } else if (previous_time_ms_ != 0 && r.time_ms > previous_time_ms_) {
    const double wh = r.p_w * static_cast<double>(r.time_ms - previous_time_ms_) / kMsPerHour;
    if (wh >= 0) {
      import_wh_ += wh;
    } else {
      export_wh_ -= wh;
    }
  }
  r.e_import_wh = import_wh_;
  r.e_export_wh = export_wh_;
  if (relay_ == protocol::RelayState::kOff) r.flags |= protocol::kFlagRelayOpen;
  if (v && *v == 0) r.flags |= protocol::kFlagNoVoltage;
  previous_time_ms_ = std::max(previous_time_ms_, r.time_ms);
  values_ = {};
  written_ = 0;
  group_time_ms_.reset();
  return r;
}

}  // namespace wattguard::blynk
