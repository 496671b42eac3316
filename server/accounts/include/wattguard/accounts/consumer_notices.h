// Which notices a consumer should get about this cycle's use: a slab about to be crossed (at the usual pace,
// within the warning days), a slab crossed, and 50/80/100 % of the consumer's own budget in kWh or money.
// Pure decisions; the store keeps each (meter, cycle, kind, threshold) once, so asking again is harmless.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wattguard/accounts/account_store.h"
#include "wattguard/billing/bill.h"

namespace wattguard::accounts {

// Kinds a consumer may opt out of. Prepaid credit notices (low_credit, emergency_credit, disconnected,
// reconnected) are not among them: nobody is disconnected without having been told.
inline constexpr const char* kOptionalNoticeKinds[] = {"slab_soon", "slab_crossed", "budget", "bill_ready"};
bool is_notice_kind(const std::string& kind);

struct UsageNoticeInput {
  const billing::Bill* running = nullptr;  // the cycle so far
  std::optional<int64_t> projected_uwh;    // expected use over the next warning_days (median), if known
  int warning_days = 3;
  std::optional<int64_t> budget_uwh;
  std::optional<int64_t> budget_minor;
};

// The notices the cycle so far calls for (the highest threshold reached of each kind), without ids.
std::vector<Notice> usage_notices(const UsageNoticeInput& input, int64_t now_ms);

// The slab a cycle's use is in: the first whose upper bound is above it (the last slab has none).
size_t current_slab(const billing::Tariff& tariff, int64_t energy_uwh);

// Money as the consumer reads it: "INR 812.40".
std::string money_text(int64_t minor, const billing::Tariff& tariff);
// kWh with one decimal: "87.2".
std::string kwh_text(int64_t uwh);

}  // namespace wattguard::accounts
