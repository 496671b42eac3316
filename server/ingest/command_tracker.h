// The commands the ingest service has sent and not yet seen finished: pending -> sent (broker PUBACK) ->
// acked / failed (the meter's cmd/ack) or timed_out. Decides the state changes; the service stores them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/ingest/ingest_service.h"
#include "wattguard/protocol/messages.h"
#include "wattguard/storage/store_types.h"

namespace wattguard::ingest {

struct TrackedCommand {
  storage::CommandRecord record;
  protocol::Command command;
  int timeout_ms = 0;
  bool published = false;  // handed to the MQTT client
};

// A new command for a request (state pending, a fresh random id "c<now_ms>-<16 hex>", the request's timeout or
// `default_timeout_ms`), or kInvalidInput naming "period_s" or "timeout_ms". The meter is not checked here.
Expected<TrackedCommand> new_command(const CommandRequest& request, int64_t now_ms, int default_timeout_ms);

// Publishes a command; returns the MQTT message id, or nullopt when it could not be handed over (then it
// stays unpublished and is tried again on the next connect).
using PublishFn = std::function<std::optional<int>(const TrackedCommand&)>;

// Thread-safe: every method takes the tracker's lock. `publish` runs under that lock, so the broker's
// PUBACK (on_published) can never arrive for a message id the tracker has not recorded yet.
class CommandTracker {
 public:
  // Adds a command; publishes it now when `publish` is set (connected), else on the next publish_unsent.
  // Returns the command's record as tracked.
  storage::CommandRecord add(TrackedCommand command, const PublishFn& publish);
  // Publishes every pending command not yet handed over (after a (re)connect).
  void publish_unsent(const PublishFn& publish);

  // The broker has message `mid`: a pending command becomes sent. Returns the changed record.
  std::optional<storage::CommandRecord> on_published(int mid, int64_t now_ms);

  enum class AckMatch : uint8_t {
    kFinished,    // our command: `record` is acked or failed and no longer tracked
    kNotTracked,  // not ours (another server sent it, or it already timed out)
    kWrongMeter,  // ours, but the ack comes from another meter: refused, command still tracked
  };
  struct AckResult {
    AckMatch match = AckMatch::kNotTracked;
    storage::CommandRecord record;
  };
  AckResult on_ack(const protocol::CommandAck& ack, int64_t received_ms);

  // Commands older than their timeout become timed_out and are dropped. Returns the changed records.
  std::vector<storage::CommandRecord> expire(int64_t now_ms);

  // The new state of a command after its ack (also for one not tracked, read back from the store).
  static void apply_ack(storage::CommandRecord& record, const protocol::CommandAck& ack, int64_t received_ms);

  std::size_t size() const;

 private:
  void publish_locked(TrackedCommand& t, const PublishFn& publish);

  mutable std::mutex mu_;
  std::map<std::string, TrackedCommand> commands_;  // guarded by mu_: open commands by id
  std::map<int, std::string> mid_to_command_;       // guarded by mu_
};

// Sets a record's new state, message, relay and time (sent_ms too when it becomes sent).
void set_command_state(storage::CommandRecord& record, storage::CommandState state, const std::string& message,
                       protocol::RelayState relay, int64_t time_ms);

}  // namespace wattguard::ingest
