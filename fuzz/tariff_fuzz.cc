// libFuzzer target: billing::parse_tariffs, the tariff file of `wattguard bill` and the [[tariff]] tables of the
// server's configuration.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "wattguard/billing/tariff_toml.h"

namespace {

void check(const wattguard::Expected<wattguard::billing::TariffBook>& parsed) {
  using namespace wattguard::billing;
  if (!parsed.ok()) return;
  for (const Tariff& t : parsed.value().versions) {
    // The rules docs/billing.md promises of every tariff that loads.
    WATTGUARD_FUZZ_CHECK(!t.id.empty() && t.id.size() <= kMaxTariffIdLength);
    WATTGUARD_FUZZ_CHECK(!t.slabs.empty() && t.slabs.size() <= kMaxSlabs);
    WATTGUARD_FUZZ_CHECK(!t.slabs.back().upto_uwh.has_value());
    WATTGUARD_FUZZ_CHECK(t.minor_digits >= 0 && t.minor_digits <= 4);
    int64_t max_rate = kMaxRateMajor * 10'000;  // in 1e-4 of the minor unit
    for (int d = 0; d < t.minor_digits; ++d) max_rate *= 10;
    for (size_t i = 0; i < t.slabs.size(); ++i) {
      WATTGUARD_FUZZ_CHECK(t.slabs[i].rate >= 0 && t.slabs[i].rate <= max_rate);
      if (i + 1 < t.slabs.size()) {
        WATTGUARD_FUZZ_CHECK(t.slabs[i].upto_uwh.has_value());
        WATTGUARD_FUZZ_CHECK(i == 0 || *t.slabs[i].upto_uwh > *t.slabs[i - 1].upto_uwh);
      }
    }
    WATTGUARD_FUZZ_CHECK(t.tod.size() <= kMaxTodWindows);
    for (const TodWindow& w : t.tod) {
      WATTGUARD_FUZZ_CHECK(w.from_minute >= 0 && w.from_minute < 1440 && w.to_minute > 0 && w.to_minute <= 1440);
      WATTGUARD_FUZZ_CHECK(w.factor >= 0 && w.factor <= kMaxTodFactor * kFactorOne);
    }
    WATTGUARD_FUZZ_CHECK(t.fixed_charge_minor >= 0);
    // Asking a loaded tariff about any instant is safe (the offset arithmetic of factor_at and in_force).
    for (const int64_t instant : {int64_t{0}, int64_t{1'700'000'000}, int64_t{-86'400}, int64_t{4'102'444'800}}) {
      const int64_t factor = t.factor_at(instant);
      WATTGUARD_FUZZ_CHECK(factor >= 0);
      (void)parsed.value().in_force(t.id, instant);
    }
    (void)t.version_name();
  }
}

}  // namespace

// The entry point libFuzzer calls; its name is libFuzzer's, not ours.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {  // NOLINT(readability-identifier-naming)
  using namespace wattguard::billing;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check(parse_tariffs(text, "fuzz.toml", TariffText::kTariffFile));
  check(parse_tariffs(text, "fuzz.toml", TariffText::kAmongOtherTables));
  return 0;
}
