// The JSON form of an alert, shared by the API and the webhook body.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "wattguard/alerts/alert.h"

namespace wattguard::alerts {

// {"id","kind","meter","transformer","area","score","evidence","raised_ms","updated_ms","cleared_ms","state",
//  "deliveries":[{"notifier","recipient","state","attempts","last_error","delivered_ms"}],
//  "actions":[{"time_ms","actor","action","detail"}]}
nlohmann::json alert_to_json(const Alert& alert);
// What a consumer sees of an alert on their own meter: no evidence, deliveries or actions (the operators' notes and
// the meter reader's name stay with the operators).
nlohmann::json alert_to_consumer_json(const Alert& alert);

// "2026-11-25T01:02:03Z" (UTC) for message templates.
std::string iso8601_utc(int64_t t_ms);

}  // namespace wattguard::alerts
