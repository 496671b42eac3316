// State changes of tracked commands (see command_tracker.h).
#include "server/ingest/command_tracker.h"

#include <sodium.h>

#include "wattguard/base/sodium.h"

namespace wattguard::ingest {
namespace {

std::string new_command_id(int64_t now_ms) {
  ensure_sodium();
  unsigned char bytes[8];
  randombytes_buf(bytes, sizeof bytes);
  static constexpr const char* kHex = "0123456789abcdef";
  // Appended piecewise: GCC 12 at -O3 reports a false -Wrestrict for "literal" + std::string.
  std::string id = "c";
  id += std::to_string(now_ms);
  id += '-';
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

}  // namespace

Expected<TrackedCommand> new_command(const CommandRequest& request, int64_t now_ms, int default_timeout_ms) {
  if (request.kind == protocol::CommandKind::kSetPeriod) {
    if (!request.period_s || *request.period_s < 1 || *request.period_s > 3600) {
      const std::string got = request.period_s ? std::to_string(*request.period_s) : std::string("none");
      return Error::invalid("period_s", got, "set_period needs period_s from 1 to 3600, got " + got);
    }
  } else if (request.period_s) {
    return Error::invalid("period_s", std::to_string(*request.period_s),
                          "period_s is only for set_period, not " +
                              std::string(protocol::command_kind_name(request.kind)));
  }
  if (request.timeout_ms < 0) {
    return Error::invalid("timeout_ms", std::to_string(request.timeout_ms), "timeout_ms must not be negative");
  }
  const int timeout = request.timeout_ms > 0 ? request.timeout_ms : default_timeout_ms;
  TrackedCommand tracked;
  tracked.timeout_ms = timeout;
  storage::CommandRecord& rec = tracked.record;
  rec.id = new_command_id(now_ms);
  rec.meter_id = request.meter_id;
  rec.kind = request.kind;
  rec.args_json = request.period_s ? "{\"period_s\":" + std::to_string(*request.period_s) + "}" : "{}";
  rec.requested_by = request.requested_by;
  rec.state = storage::CommandState::kPending;
  rec.created_ms = now_ms;
  rec.updated_ms = now_ms;
  tracked.command.id = rec.id;
  tracked.command.meter_id = rec.meter_id;
  tracked.command.kind = rec.kind;
  tracked.command.period_s = request.period_s;
  tracked.command.time_ms = now_ms;
  tracked.command.expires_ms = now_ms + timeout;
  return tracked;
}

void set_command_state(storage::CommandRecord& record, storage::CommandState state, const std::string& message,
                       protocol::RelayState relay, int64_t time_ms) {
  record.state = state;
  record.message = message;
  record.relay = relay;
  record.updated_ms = time_ms;
  if (state == storage::CommandState::kSent) record.sent_ms = time_ms;
}

void CommandTracker::apply_ack(storage::CommandRecord& record, const protocol::CommandAck& ack, int64_t received_ms) {
  set_command_state(record, ack.ok ? storage::CommandState::kAcked : storage::CommandState::kFailed, ack.message,
                    ack.relay, received_ms);
}

void CommandTracker::publish_locked(TrackedCommand& t, const PublishFn& publish) {
  if (const std::optional<int> mid = publish(t)) {
    t.published = true;
    mid_to_command_[*mid] = t.record.id;
  }
}

storage::CommandRecord CommandTracker::add(TrackedCommand command, const PublishFn& publish) {
  std::lock_guard lk(mu_);
  auto [it, inserted] = commands_.insert_or_assign(command.record.id, std::move(command));
  if (publish) publish_locked(it->second, publish);
  return it->second.record;
}

void CommandTracker::publish_unsent(const PublishFn& publish) {
  std::lock_guard lk(mu_);
  for (auto& [id, t] : commands_) {
    if (t.record.state == storage::CommandState::kPending && !t.published) publish_locked(t, publish);
  }
}

std::optional<storage::CommandRecord> CommandTracker::on_published(int mid, int64_t now_ms) {
  std::lock_guard lk(mu_);
  auto m = mid_to_command_.find(mid);
  if (m == mid_to_command_.end()) return std::nullopt;
  auto it = commands_.find(m->second);
  mid_to_command_.erase(m);
  if (it == commands_.end() || it->second.record.state != storage::CommandState::kPending) return std::nullopt;
  set_command_state(it->second.record, storage::CommandState::kSent, "", protocol::RelayState::kUnknown, now_ms);
  return it->second.record;
}

CommandTracker::AckResult CommandTracker::on_ack(const protocol::CommandAck& ack, int64_t received_ms) {
  std::lock_guard lk(mu_);
  AckResult result;
  auto it = commands_.find(ack.id);
  if (it == commands_.end()) return result;
  if (it->second.record.meter_id != ack.meter_id) {
    result.match = AckMatch::kWrongMeter;
    return result;
  }
  apply_ack(it->second.record, ack, received_ms);
  result.match = AckMatch::kFinished;
  result.record = std::move(it->second.record);
  commands_.erase(it);
  return result;
}

std::vector<storage::CommandRecord> CommandTracker::expire(int64_t now_ms) {
  std::lock_guard lk(mu_);
  std::vector<storage::CommandRecord> changed;
  for (auto it = commands_.begin(); it != commands_.end();) {
    TrackedCommand& c = it->second;
    if (now_ms - c.record.created_ms > c.timeout_ms) {
      set_command_state(c.record, storage::CommandState::kTimedOut,
                        "no acknowledgement within " + std::to_string(c.timeout_ms / 1000) + " s", c.record.relay,
                        now_ms);
      changed.push_back(std::move(c.record));
      it = commands_.erase(it);
    } else {
      ++it;
    }
  }
  return changed;
}

std::size_t CommandTracker::size() const {
  std::lock_guard lk(mu_);
  return commands_.size();
}

}  // namespace wattguard::ingest
