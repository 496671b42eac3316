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
  static const std::array<Rejection, kRejectionCount> kAll = [] {
    std::array<Rejection, kRejectionCount> a{};
    for (std::size_t i = 0; i < kNames.size(); ++i) a[i] = kNames[i].first;
    return a;
  }();
  return kAll;
}

Error rejection_error(Rejection reason, std::string field, std::string value, std::string detail) {
  return Error::invalid(std::move(field), std::move(value), std::move(detail))
      .because(std::string(rejection_name(reason)));
}

Rejection rejection_of(const Error& e) { return rejection_from_name(e.reason).value_or(Rejection::kMalformedJson); }

std::string describe(const Error& e) {
  std::string out;
  if (!e.field.empty()) {
    out.append(e.field);
    if (!e.value.empty()) out.append("=").append(e.value);
    out.append(" ");
  }
  out.append("rejected (").append(rejection_name(rejection_of(e))).append(")");
  if (!e.message.empty()) out.append(": ").append(e.message);
  return out;
}

}  // namespace wattguard::protocol
