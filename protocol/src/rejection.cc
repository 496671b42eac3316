// Stable names of rejection reasons and the text of a decode error.
#include "wattguard/protocol/rejection.h"

namespace wattguard::protocol {
namespace {

constexpr std::array<std::pair<Rejection, std::string_view>, kRejectionCount> kNames = {{
    {Rejection::kPayloadTooLarge, "payload_too_large"},
    {Rejection::kMalformedJson, "malformed_json"},
    {Rejection::kMissingField, "missing_field"},
    {Rejection::kWrongType, "wrong_type"},
    {Rejection::kNotFinite, "not_finite"},
    {Rejection::kOutOfRange, "out_of_range"},
    {Rejection::kNegativeCurrent, "negative_current"},
    {Rejection::kVoltageTooHigh, "voltage_too_high"},
    {Rejection::kTimeInFuture, "time_in_future"},
    {Rejection::kBadMeterId, "bad_meter_id"},
    {Rejection::kMeterIdMismatch, "meter_id_mismatch"},
    {Rejection::kUnknownValue, "unknown_value"},
    {Rejection::kUnknownMeter, "unknown_meter"},
    {Rejection::kUnknownTopic, "unknown_topic"},
    {Rejection::kStorageFailed, "storage_failed"},
}};

}  // namespace

std::string_view rejection_name(Rejection reason) {
  for (const auto& [r, name] : kNames) {
    if (r == reason) return name;
  }
  return "unknown";
}

std::optional<Rejection> rejection_from_name(std::string_view name) {
  for (const auto& [r, n] : kNames) {
    if (n == name) return r;
  }
  return std::nullopt;
}

const std::array<Rejection, kRejectionCount>& all_rejections() {
  static const std::array<Rejection, kRejectionCount> all = [] {
    std::array<Rejection, kRejectionCount> a{};
    for (std::size_t i = 0; i < kNames.size(); ++i) a[i] = kNames[i].first;
    return a;
  }();
  return all;
}

std::string DecodeError::describe() const {
  std::string out;
  if (!field.empty()) {
    out.append(field);
    if (!value.empty()) out.append("=").append(value);
    out.append(" ");
  }
  out.append("rejected (").append(rejection_name(reason)).append(")");
  if (!detail.empty()) out.append(": ").append(detail);
  return out;
}

}  // namespace wattguard::protocol
