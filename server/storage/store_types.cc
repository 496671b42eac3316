// Names and lengths of the storage enums.
#include "wattguard/storage/store_types.h"

namespace wattguard::storage {

int64_t resolution_ms(Resolution res) {
  switch (res) {
    case Resolution::kRaw: return 0;
    case Resolution::k1Min: return 60'000;
    case Resolution::k15Min: return 900'000;
    case Resolution::k1Hour: return 3'600'000;
    case Resolution::k1Day: return 86'400'000;
  }
  return 0;
}

const char* resolution_name(Resolution res) {
  switch (res) {
    case Resolution::kRaw: return "raw";
    case Resolution::k1Min: return "1m";
    case Resolution::k15Min: return "15m";
    case Resolution::k1Hour: return "1h";
    case Resolution::k1Day: return "1d";
  }
  return "raw";
}

const char* event_source_name(EventSource source) { return source == EventSource::kServer ? "server" : "meter"; }

const char* command_state_name(CommandState state) {
  switch (state) {
    case CommandState::kPending: return "pending";
    case CommandState::kSent: return "sent";
    case CommandState::kAcked: return "acked";
    case CommandState::kFailed: return "failed";
    case CommandState::kTimedOut: return "timed_out";
  }
  return "failed";
}

std::optional<CommandState> command_state_from_name(std::string_view name) {
  for (CommandState s : {CommandState::kPending, CommandState::kSent, CommandState::kAcked, CommandState::kFailed,
                         CommandState::kTimedOut}) {
    if (name == command_state_name(s)) return s;
  }
  return std::nullopt;
}

}  // namespace wattguard::storage
