// The API's JSON shapes of readings, aggregates, events, commands, meter states and users
// (documented in docs/api.md). Times are Unix milliseconds in fields named *_ms.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wattguard/api/auth_store.h"
#include "wattguard/ingest/meter_live.h"
#include "wattguard/protocol/messages.h"
#include "wattguard/storage/store_types.h"

namespace wattguard::api {

nlohmann::json reading_json(const protocol::Reading& r);
nlohmann::json aggregate_point_json(const storage::AggregatePoint& p);
nlohmann::json event_json(const storage::StoredEvent& e);
nlohmann::json command_json(const storage::CommandRecord& c);
nlohmann::json user_json(const User& user, const std::vector<std::string>& meters);

// Names of the tamper conditions flagged in a reading (bits 16..21), e.g. {"magnetic"}.
std::vector<std::string> active_tamper(uint32_t flags);

// Live WebSocket messages (one JSON object each; frames carry an array of them).
std::string live_reading_message(const protocol::Reading& r);
std::string live_status_message(const ingest::MeterLive& m);
std::string live_event_message(const storage::StoredEvent& e);
std::string live_command_message(const storage::CommandRecord& c);

}  // namespace wattguard::api
