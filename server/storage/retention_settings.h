// How a RetentionPolicy is kept in a backend's settings table (one key per resolution) and checked.
#pragma once

#include <array>
#include <string>

#include "wattguard/base/expected.h"
#include "wattguard/storage/store_types.h"

namespace wattguard::storage {

// Settings keys, indexed like kAllResolutions.
inline constexpr std::array<const char*, 5> kRetentionKeys = {"retention.raw_days", "retention.1m_days",
                                                              "retention.15m_days", "retention.1h_days",
                                                              "retention.1d_days"};

inline std::array<int, 5> retention_days(const RetentionPolicy& p) {
  return {p.raw_days, p.min1_days, p.min15_days, p.hour1_days, p.day1_days};
}

inline std::array<int*, 5> retention_fields(RetentionPolicy* p) {
  return {&p->raw_days, &p->min1_days, &p->min15_days, &p->hour1_days, &p->day1_days};
}

// kInvalidInput naming the first setting outside [0, 36600] days.
inline Expected<void> check_retention(const RetentionPolicy& policy) {
  const auto days = retention_days(policy);
  for (std::size_t i = 0; i < days.size(); ++i) {
    if (days[i] < 0 || days[i] > 100 * 366) {
      return Error::invalid(kRetentionKeys[i], std::to_string(days[i]),
                            std::string(kRetentionKeys[i]) + "=" + std::to_string(days[i]) +
                                " must be from 0 (forever) to 36600 days");
    }
  }
  return {};
}

}  // namespace wattguard::storage
