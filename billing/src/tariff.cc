// The tariff model's small queries: ToD factors, version names, versions in force.
#include "wattguard/billing/tariff.h"

#include <cstdio>

namespace wattguard::billing {

std::string_view slab_mode_name(SlabMode mode) { return mode == SlabMode::kTelescopic ? "telescopic" : "volumetric"; }

std::string TodWindow::label() const {
  char text[32];
  std::snprintf(text, sizeof text, "%02d:%02d-%02d:%02d", from_minute / 60, from_minute % 60, to_minute / 60,
                to_minute % 60);
  return text;
}

int64_t Tariff::factor_at(int64_t instant_s) const {
  const int minute = minute_of_day(instant_s, utc_offset_s);
  for (const TodWindow& window : tod) {
    if (window.contains(minute)) return window.factor;
  }
  return kFactorOne;
}

std::string Tariff::version_name() const { return effective_from.empty() ? id : id + "@" + effective_from; }

std::vector<std::string> TariffBook::ids() const {
  std::vector<std::string> out;
  for (const Tariff& t : versions) {
    if (out.empty() || out.back() != t.id) out.push_back(t.id);
  }
  return out;
}

const Tariff* TariffBook::in_force(std::string_view id, int64_t instant_s) const {
  const Tariff* found = nullptr;
  for (const Tariff& t : versions) {
    if (t.id != id) continue;
    // Sorted by effective_from: the last one started at or before the instant wins.
    if (!t.effective_from_s || *t.effective_from_s <= instant_s) found = &t;
  }
  return found;
}

bool TariffBook::has(std::string_view id) const {
  for (const Tariff& t : versions) {
    if (t.id == id) return true;
  }
  return false;
}

}  // namespace wattguard::billing
