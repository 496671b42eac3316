// Why a message was refused: one enum with stable snake_case names, used as health-counter keys.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wattguard/base/error.h"

namespace wattguard::protocol {

// Never renumber or rename: the names are API (GET /api/v1/health, logs, docs/protocol.md).
enum class Rejection : uint8_t {
  kPayloadTooLarge,  // "payload_too_large": more than kMaxPayloadBytes
  kMalformedJson,    // "malformed_json": not parseable JSON, or not a JSON object
  kMissingField,     // "missing_field": a required field is absent
  kWrongType,        // "wrong_type": a field has the wrong JSON type (string for a number...)
  kNotFinite,        // "not_finite": NaN or infinite number (also 1e999, "NaN", bare nan/inf tokens)
  kOutOfRange,       // "out_of_range": an absurd value not covered by a more precise reason
  kNegativeCurrent,  // "negative_current": irms < 0
  kVoltageTooHigh,   // "voltage_too_high": vrms > kMaxVrms
  kTimeInFuture,     // "time_in_future": time more than kMaxFutureMs ahead of the receiver's clock
  kBadMeterId,       // "bad_meter_id": meter id not matching [A-Za-z0-9_-]{1,64}
  kMeterIdMismatch,  // "meter_id_mismatch": payload's meter id differs from the topic's
  kUnknownValue,     // "unknown_value": an enum field (event kind, command kind...) with an unknown name
  kUnknownMeter,     // "unknown_meter": meter not provisioned (raised by ingest, not the decoder)
  kUnknownTopic,     // "unknown_topic": a topic outside the scheme (raised by ingest)
  kStorageFailed,    // "storage_failed": the store refused the batch (raised by ingest)
};

inline constexpr std::size_t kRejectionCount = 15;

// Stable name, e.g. "voltage_too_high".
std::string_view rejection_name(Rejection reason);

// Inverse of rejection_name; nullopt for an unknown name.
std::optional<Rejection> rejection_from_name(std::string_view name);

// Every reason, in enum order (for iterating health counters).
const std::array<Rejection, kRejectionCount>& all_rejections();

// A refused message is a wattguard::Error of code kInvalidInput: `reason` holds rejection_name (the
// health-counter key), `field` the field at fault (empty when the whole payload is: malformed JSON, too
// large), `value` the value as text (cut to 64 characters) and `message` the human sentence.
Error rejection_error(Rejection reason, std::string field, std::string value, std::string detail);

// The Rejection named by e.reason. An Error that names none (not from the codec) counts as malformed_json,
// the reason the old DecodeError defaulted to.
Rejection rejection_of(const Error& e);

// The log text of a refused message: "vrms=1234.5 rejected (voltage_too_high): Vrms above 1000 V".
std::string describe(const Error& e);

}  // namespace wattguard::protocol
