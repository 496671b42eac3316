// The bill of one meter for one cycle: every slab line, the energy charge, fixed charge, tax and total in exact
// minor units, computed from the meter's interval energy under one tariff version. The rules (which interval
// belongs to which cycle and ToD window, how ToD combines with slabs, rounding, a tariff change mid-cycle) are
// in docs/billing.md; this header repeats the ones a caller relies on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wattguard/base/expected.h"
#include "wattguard/billing/cycle.h"
#include "wattguard/billing/meter_energy.h"
#include "wattguard/billing/tariff.h"

namespace wattguard::billing {

// Energy of one slab at one ToD factor, and what it costs.
struct BillLine {
  size_t slab = 0;                // index into the tariff's slabs
  int64_t from_uwh = 0;           // the slab's lower bound (the previous slab's upto_kwh, or 0)
  std::optional<int64_t> to_uwh;  // its upper bound; none for the last slab
  int64_t energy_uwh = 0;         // energy billed on this line
  int64_t factor = kFactorOne;    // ToD factor (1e-4) of that energy
  int64_t rate_e8 = 0;            // the slab's rate x factor: per kWh, in 1e-8 of the minor unit
  int64_t amount_minor = 0;       // energy x rate, rounded half up to the minor unit, once
};

struct Bill {
  std::string meter;
  Tariff tariff;  // the version it was made with (the one in force at the cycle's start), kept whole
  Cycle cycle;
  int64_t energy_uwh = 0;           // all of the cycle's known energy
  std::vector<BillLine> lines;      // by slab, then ToD factor one first, then the windows' factors in tariff order
  int64_t energy_charge_minor = 0;  // sum of the lines' amounts
  int64_t fixed_charge_minor = 0;   // the whole cycle's, also on a running bill
  int64_t tax_minor = 0;            // on energy + fixed, rounded half up once
  int64_t total_minor = 0;          // energy + fixed + tax

  // What the readings covered within the cycle: the first known interval's start, the last one's end, and
  // how many intervals were measured, estimated from the register, or missing (no energy known) between them.
  int64_t covered_from_s = 0;
  int64_t covered_to_s = 0;
  int64_t measured_intervals = 0;
  int64_t estimated_intervals = 0;
  int64_t missing_intervals = 0;

  // The readings end before the cycle does: a running bill of the cycle so far.
  bool running() const { return covered_to_s < cycle.end_s; }
  // The readings start after the cycle does (a meter installed mid-cycle, or a file that starts later).
  bool starts_late() const { return covered_from_s > cycle.start_s; }
};

// The bill of `energy`'s meter for `cycle` under `tariff`. REQUIRES: energy.intervals in increasing end_s (as
// the reader makes them). An interval belongs to the cycle that holds its
// start (end_s - interval_s), and to the ToD window that holds its start's local minute; intervals outside the
// cycle are ignored. Missing intervals add no energy and are counted. An Error only when an amount would not
// fit in int64 (far beyond any real bill). REQUIRES: `cycle` is a cycle of `tariff` (its kind and offset).
Expected<Bill> compute_bill(const Tariff& tariff, const Cycle& cycle, const MeterEnergy& energy);

// Bills of every cycle that holds a known (measured or estimated) interval of the meter, oldest first, or only
// of the cycle holding `month` ("YYYY-MM") when given; each by the version of `tariff_id` in force at that
// cycle's start. Empty when the meter has no known energy there. An Error when the id is unknown, the month is
// malformed, or no version is in force at a cycle's start (its first version starts later).
Expected<std::vector<Bill>> bill_meter(const TariffBook& book, std::string_view tariff_id, const MeterEnergy& energy,
                                       std::optional<std::string_view> month = std::nullopt);

}  // namespace wattguard::billing
