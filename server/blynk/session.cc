// The Blynk session state machine (rules in the header).
#include "wattguard/blynk/session.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace wattguard::blynk {
namespace {

constexpr int64_t kQuotaReplyEveryMs = 1000;  // status 1 at most this often: a flood gets few replies
constexpr int kMinHeartbeatS = 1;
constexpr int kMaxHeartbeatS = 3600;

std::optional<int64_t> parse_int(std::string_view text) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

const char* refusal_name(Refusal refusal) {
  switch (refusal) {
    case Refusal::kTooLarge: return "too_large";
    case Refusal::kZeroId: return "zero_id";
    case Refusal::kBeforeLogin: return "not_authenticated";
    case Refusal::kInvalidToken: return "invalid_token";
    case Refusal::kUnknownCommand: return "unknown_command";
    case Refusal::kMalformedBody: return "malformed_body";
    case Refusal::kBadValue: return "bad_value";
    case Refusal::kQuota: return "quota";
    case Refusal::kHeartbeatTimeout: return "heartbeat_timeout";
    case Refusal::kLoginTimeout: return "login_timeout";
    case Refusal::kReadingRefused: return "reading_refused";
  }
  return "unknown";
}

Session::Session(const PinMap& map, SessionLimits limits, int64_t now_ms)
    : map_(&map),
      limits_(limits),
      opened_ms_(now_ms),
      last_rx_ms_(now_ms),
      heartbeat_s_(limits.default_heartbeat_s),
      tokens_(2.0 * limits.max_messages_per_s),
      tokens_ms_(now_ms) {}

void Session::on_bytes(std::string_view bytes, int64_t now_ms, SessionOutput& out) {
  if (state_ == State::kClosed) return;
  last_rx_ms_ = now_ms;
  reader_.append(bytes);
  process(now_ms, out);
}

void Session::process(int64_t now_ms, SessionOutput& out) {
  while (state_ == State::kAwaitingLogin || state_ == State::kActive) {
    auto next = reader_.next();
    if (!next.ok()) {
      const bool zero = reader_.fault() == FrameFault::kZeroId;
      close(zero ? Refusal::kZeroId : Refusal::kTooLarge, reader_.fault_id(),
            zero ? std::nullopt : std::optional<Status>(Status::kIllegalCommandBody), out);
      return;
    }
    if (!next->has_value()) return;
    ++out.frames_in;
    handle(**next, now_ms, out);
  }
}

void Session::handle(const Frame& frame, int64_t now_ms, SessionOutput& out) {
  const auto command = static_cast<Command>(frame.command);
  if (state_ == State::kAwaitingLogin) {
    if (command == Command::kLogin || command == Command::kHwLogin) {
      const auto fields = split_fields(frame.body);
      if (fields.empty() || fields[0].empty())
        return close(Refusal::kInvalidToken, frame.id, Status::kInvalidToken, out);
      state_ = State::kLoggingIn;
      login_id_ = frame.id;
      login_command_ = frame.command;
      out.login_token = std::string(fields[0]);
      return;
    }
    if (command == Command::kResponse) return;
    return close(Refusal::kBeforeLogin, frame.id, Status::kNotAuthenticated, out);
  }
  if (command != Command::kResponse && !take_token(now_ms)) {
    if (now_ms - last_quota_reply_ms_ >= kQuotaReplyEveryMs) {
      last_quota_reply_ms_ = now_ms;
      respond(frame.id, Status::kQuotaLimit, out);
    }
    out.refusals.push_back(Refusal::kQuota);
    return;
  }
  switch (command) {
    case Command::kResponse: return;
    case Command::kPing:
    case Command::kLogin:  // a second login on a logged-in connection: harmless, answered like a ping
    case Command::kHwLogin: return respond(frame.id, Status::kSuccess, out);
    case Command::kInternal: return handle_internal(frame, out);
    case Command::kHardware: return handle_hardware(frame, now_ms, out);
    case Command::kHardwareSync: return handle_sync(frame, out);
    case Command::kGroup: return handle_group(frame, now_ms, out);
    case Command::kProperty:
    case Command::kBridge:
    case Command::kEventLog:
    case Command::kEventClear: return;  // widgets, bridges and the event log have no place in a meter's data
    default: return refuse(Refusal::kUnknownCommand, frame.id, Status::kIllegalCommand, out);
  }
}

void Session::handle_internal(const Frame& frame, SessionOutput& out) {
  const auto fields = split_fields(frame.body);
  for (std::size_t k = 0; k + 1 < fields.size(); k += 2) {
    const std::string_view key = fields[k];
    const std::string_view value = fields[k + 1];
    if (key == "h-beat") {
      if (const auto s = parse_int(value))
        heartbeat_s_ = static_cast<int>(std::clamp<int64_t>(*s, kMinHeartbeatS, kMaxHeartbeatS));
    } else if (key == "buff-in") {
      if (const auto n = parse_int(value); n && *n > static_cast<int64_t>(kHeaderBytes)) {
        max_send_ = std::min<std::size_t>(kMaxOutgoingFrameBytes, static_cast<std::size_t>(*n));
      }
    } else if (key == "mcu" || key == "fw" || key == "ver") {
      out.firmware = std::string(value.substr(0, 64));
    }
  }
}

void Session::handle_hardware(const Frame& frame, int64_t now_ms, SessionOutput& out) {
  const auto fields = split_fields(frame.body);
  if (fields.empty()) return refuse(Refusal::kMalformedBody, frame.id, Status::kIllegalCommandBody, out);
  const std::string_view op = fields[0];
  if (op == "dw" || op == "aw" || op == "pm") return;  // GPIO reports of the library's built-ins: not ours
  if (op != "vw") return refuse(Refusal::kUnknownCommand, frame.id, Status::kIllegalCommand, out);
  if (fields.size() < 3) return refuse(Refusal::kMalformedBody, frame.id, Status::kIllegalCommandBody, out);
  const auto pin = parse_pin(fields[1]);
  if (!pin) return refuse(Refusal::kMalformedBody, frame.id, Status::kIllegalCommandBody, out);
  const PinField field = map_->field_of(*pin);
  if (field == PinField::kNone) {
    std::vector<std::string_view> values(fields.begin() + 2, fields.end());
    pin_values_[*pin] = join_fields(values);
    return;
  }
  const auto value = parse_pin_value(fields[2]);
  if (!value) return refuse(Refusal::kBadValue, frame.id, Status::kIllegalCommandBody, out);
  pin_values_[*pin] = std::string(fields[2]);
  write_pin(*pin, *value, now_ms, out);
}

void Session::write_pin(int pin, double value, int64_t now_ms, SessionOutput& out) {
  const PinField field = map_->field_of(pin);
  if (field == PinField::kRelay) {
    const bool on = value != 0;
    for (auto it = pending_relay_.begin(); it != pending_relay_.end(); ++it) {
      if (it->on != on) continue;
      protocol::CommandAck ack;
      ack.id = it->command_id;
      ack.meter_id = meter_id_;
      ack.ok = true;
      ack.relay = on ? protocol::RelayState::kOn : protocol::RelayState::kOff;
      ack.time_ms = now_ms;
      out.acks.push_back(std::move(ack));
      pending_relay_.erase(it);
      break;
    }
  }
  push_reading(assembler_->on_write(field, value, now_ms), out);
}

void Session::handle_sync(const Frame& frame, SessionOutput& out) {
  const auto fields = split_fields(frame.body);
  std::vector<int> pins;
  if (fields.empty()) {
    for (const auto& [pin, value] : pin_values_) pins.push_back(pin);
    if (const auto relay = map_->pin_of(PinField::kRelay); relay && !pin_values_.count(*relay)) pins.push_back(*relay);
  } else {
    if (fields[0] != "vr") return;  // digital/analog sync: the server keeps no GPIO state
    for (std::size_t k = 1; k < fields.size(); ++k) {
      const auto pin = parse_pin(fields[k]);
      if (!pin) return refuse(Refusal::kMalformedBody, frame.id, Status::kIllegalCommandBody, out);
      pins.push_back(*pin);
    }
  }
  for (int pin : pins) {
    std::string value;
    if (auto it = pin_values_.find(pin); it != pin_values_.end()) {
      value = it->second;
    } else if (map_->field_of(pin) == PinField::kRelay && assembler_->relay() != protocol::RelayState::kUnknown) {
      value = assembler_->relay() == protocol::RelayState::kOn ? "1" : "0";
    } else {
      continue;
    }
    const std::string pin_text = std::to_string(pin);
    send_frame(Command::kHardware, frame.id, join_fields({"vw", pin_text, value}), out);
  }
}

void Session::handle_group(const Frame& frame, int64_t now_ms, SessionOutput& out) {
  const auto fields = split_fields(frame.body);
  if (fields.empty()) return refuse(Refusal::kMalformedBody, frame.id, Status::kIllegalCommandBody, out);
  if (fields[0] == "b") return push_reading(assembler_->on_group_begin(std::nullopt, now_ms), out);
  if (fields[0] == "e") return push_reading(assembler_->on_group_end(now_ms), out);
  if (fields[0] == "t" && fields.size() >= 2) {
    const auto t = parse_int(fields[1]);
    if (!t || *t <= 0) return refuse(Refusal::kMalformedBody, frame.id, Status::kIllegalCommandBody, out);
    return push_reading(assembler_->on_group_begin(*t, now_ms), out);
  }
  refuse(Refusal::kMalformedBody, frame.id, Status::kIllegalCommandBody, out);
}

void Session::on_login(std::optional<LoginGrant> grant, int64_t now_ms, SessionOutput& out) {
  if (state_ != State::kLoggingIn) return;
  if (!grant) return close(Refusal::kInvalidToken, login_id_, Status::kInvalidToken, out);
  state_ = State::kActive;
  meter_id_ = grant->meter_id;
  if (grant->pin_map != nullptr) map_ = grant->pin_map;
  assembler_.emplace(meter_id_, *map_, limits_.quiet_ms, grant->last_reading);
  if (grant->relay != protocol::RelayState::kUnknown) assembler_->set_relay(grant->relay);
  if (grant->last_reading) {
    for (int pin = 0; pin < kVirtualPinCount; ++pin) {
      const PinField f = map_->field_of(pin);
      if (f != PinField::kNone && f != PinField::kRelay)
        pin_values_[pin] = format_pin_value(pin_field_value(*grant->last_reading, f).value_or(0.0));
    }
  }
  last_rx_ms_ = now_ms;
  out.logged_in = true;
  respond(login_id_, Status::kSuccess, out);
  process(now_ms, out);
}

void Session::on_tick(int64_t now_ms, SessionOutput& out) {
  switch (state_) {
    case State::kAwaitingLogin:
      if (now_ms >= opened_ms_ + limits_.login_timeout_ms) close(Refusal::kLoginTimeout, 0, std::nullopt, out);
      return;
    case State::kActive:
      push_reading(assembler_->on_tick(now_ms), out);
      if (now_ms >= last_rx_ms_ + static_cast<int64_t>(limits_.heartbeat_factor * heartbeat_s_ * 1000)) {
        close(Refusal::kHeartbeatTimeout, 0, std::nullopt, out);
      }
      return;
    case State::kLoggingIn:
    case State::kClosed: return;
  }
}

bool Session::on_command(const protocol::Command& command, int64_t now_ms, SessionOutput& out) {
  if (state_ != State::kActive) return false;
  protocol::CommandAck ack;
  ack.id = command.id;
  ack.meter_id = meter_id_;
  ack.time_ms = now_ms;
  switch (command.kind) {
    case protocol::CommandKind::kRelayOn:
    case protocol::CommandKind::kRelayOff: {
      const auto pin = map_->pin_of(PinField::kRelay);
      if (!pin) {
        ack.message = "no relay pin in this meter's Blynk pin map";
        break;
      }
      const bool on = command.kind == protocol::CommandKind::kRelayOn;
      pending_relay_.push_back({command.id, on});
      const std::string pin_text = std::to_string(*pin);
      send_frame(Command::kHardware, next_id(), join_fields({"vw", pin_text, on ? "1" : "0"}), out);
      return true;
    }
    case protocol::CommandKind::kPing:
      ack.ok = true;
      ack.relay = assembler_->relay();
      break;
    case protocol::CommandKind::kSetPeriod: ack.message = "a Blynk sketch sets its own period"; break;
  }
  out.acks.push_back(std::move(ack));
  return true;
}

void Session::on_close(SessionOutput& out) {
  if (assembler_) push_reading(assembler_->on_tick(INT64_MAX), out);
  state_ = State::kClosed;
}

int64_t Session::deadline_ms() const {
  switch (state_) {
    case State::kAwaitingLogin: return opened_ms_ + limits_.login_timeout_ms;
    case State::kActive: {
      const int64_t heartbeat = last_rx_ms_ + static_cast<int64_t>(limits_.heartbeat_factor * heartbeat_s_ * 1000);
      const auto quiet = assembler_->deadline_ms();
      return quiet ? std::min(*quiet, heartbeat) : heartbeat;
    }
    case State::kLoggingIn:
    case State::kClosed: break;
  }
  return INT64_MAX;
}

bool Session::take_token(int64_t now_ms) {
  const double rate = limits_.max_messages_per_s;
  tokens_ = std::min(2.0 * rate, tokens_ + rate * static_cast<double>(now_ms - tokens_ms_) / 1000.0);
  tokens_ms_ = now_ms;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

void Session::respond(uint16_t id, Status status, SessionOutput& out) {
  out.send += encode_response(id, status);
  ++out.frames_out;
}

void Session::send_frame(Command command, uint16_t id, std::string_view body, SessionOutput& out) {
  // The device could not read a longer frame (its buff-in): leave it out rather than break the connection.
  if (kHeaderBytes + body.size() > max_send_) return;
  out.send += encode_frame(command, id, body);
  ++out.frames_out;
}

void Session::refuse(Refusal refusal, uint16_t id, Status status, SessionOutput& out) {
  out.refusals.push_back(refusal);
  respond(id, status, out);
}

void Session::close(Refusal refusal, uint16_t id, std::optional<Status> status, SessionOutput& out) {
  out.refusals.push_back(refusal);
  if (status && id != 0) respond(id, *status, out);
  on_close(out);
  out.close = true;
}

void Session::push_reading(std::optional<protocol::Reading> reading, SessionOutput& out) {
  if (reading) out.readings.push_back(std::move(*reading));
}

uint16_t Session::next_id() {
  ++out_id_;
  if (out_id_ == 0) out_id_ = 1;
  return out_id_;
}

}  // namespace wattguard::blynk
