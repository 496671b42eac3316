// The tariff model: slabs, time-of-day factors, fixed charge and tax of one tariff version, in exact integers,
// and the book of every version of every tariff. Built (and validated) by tariff_toml.h; the rules of each
// field are in docs/billing.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wattguard/billing/cycle.h"

namespace wattguard::billing {

// Energy is kept in micro-watt-hours, the unit of the meters' own energy registers (core/'s *_uwh).
inline constexpr int kEnergyDecimals = 9;  // digits of a kWh figure kept exactly: 1 µWh = 1e-9 kWh
inline constexpr int64_t kUwhPerKwh = 1'000'000'000;
// Rates per kWh are kept in 1e-4 of the currency's minor unit (4.71 INR/kWh = 471 paise = 4'710'000).
inline constexpr int kRateDecimalsBeyondMinor = 4;
// Time-of-day factors in 1e-4 (0.8 -> 8'000): a factor of one is kFactorOne.
inline constexpr int kFactorDecimals = 4;
inline constexpr int64_t kFactorOne = 10'000;
// Tax rates in 1e-4 of a per cent (16.0 % -> 160'000).
inline constexpr int kTaxDecimals = 4;

enum class SlabMode : uint8_t {
  kTelescopic,  // each slab's rate applies to the kWh inside it
  kVolumetric,  // all of the cycle's kWh at the rate of the slab the total reaches
};

std::string_view slab_mode_name(SlabMode mode);

// One slab: the cycle's kWh above the previous slab's upper bound, up to and including this one's.
struct Slab {
  std::optional<int64_t> upto_uwh;  // upper bound of the cycle's energy; none for the last slab
  int64_t rate = 0;                 // per kWh, in 1e-4 of the minor unit (never negative)
};

// A window of the local day whose energy has its rate multiplied by `factor`.
struct TodWindow {
  int from_minute = 0;          // local minute of the day it starts, inclusive (0 to 1439)
  int to_minute = 0;            // local minute it ends, exclusive (1 to 1440); below from_minute: wraps midnight
  int64_t factor = kFactorOne;  // in 1e-4

  bool contains(int minute) const {
    return from_minute < to_minute ? minute >= from_minute && minute < to_minute
                                   : minute >= from_minute || minute < to_minute;
  }
  // "22:00-06:00".
  std::string label() const;
};

// One version of a tariff. Money is in minor units (paise, cents), every figure an exact integer.
struct Tariff {
  std::string id;        // "domestic"
  std::string currency;  // ISO 4217 code
  int minor_digits = 2;  // of the currency
  CycleKind cycle = CycleKind::kMonthly;
  int32_t utc_offset_s = 0;  // the fixed offset its cycles and ToD windows are reckoned in
  SlabMode slab_mode = SlabMode::kTelescopic;
  std::vector<Slab> slabs;         // at least one; upto_uwh increasing; only the last without upto_uwh
  int64_t fixed_charge_minor = 0;  // per cycle
  int64_t tax_percent = 0;         // in 1e-4 %, on the energy charge plus the fixed charge
  std::vector<TodWindow> tod;      // not overlapping; energy outside every window has factor one
  // The local date from which this version is in force ("2024-04-01"), and its local midnight; empty and
  // nullopt for the first version, in force since ever.
  std::string effective_from;
  std::optional<int64_t> effective_from_s;
  std::string source;  // file it was read from
  int64_t line = 0;    // line of its [[tariff]] header

  // ToD factor (1e-4) of energy used at the instant: the factor of the window holding its local minute, else one.
  int64_t factor_at(int64_t instant_s) const;
  // "domestic" or "domestic@2024-04-01": names the version on a bill.
  std::string version_name() const;
};

// Every version of every tariff, as read from one source. A tariff id's versions share currency, cycle and
// time zone, so their cycles line up; they differ in effective_from.
struct TariffBook {
  std::vector<Tariff> versions;  // by id, then by effective_from (the version without one first)

  // The distinct ids, in the order of `versions`.
  std::vector<std::string> ids() const;
  // The version of `id` in force at the instant: the one with the latest effective_from at or before it.
  // nullptr when `id` is unknown or its first version starts later.
  const Tariff* in_force(std::string_view id, int64_t instant_s) const;
  bool has(std::string_view id) const;
};

}  // namespace wattguard::billing
