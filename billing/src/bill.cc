// Bill computation: intervals into the cycle and ToD windows, energy into slabs, amounts rounded once.
#include "wattguard/billing/bill.h"

#include <algorithm>
#include <limits>
#include <span>

#include "wattguard/billing/decimal.h"

namespace wattguard::billing {
namespace {

// energy (1e-9 kWh) x rate (1e-4 minor unit per kWh) x factor (1e-4) is in 1e-17 of the minor unit.
constexpr __int128 kAmountDenominator = static_cast<__int128>(kUwhPerKwh) * 10'000 * kFactorOne;
// subtotal (minor) x tax (1e-4 %) is in 1e-6 of the minor unit.
constexpr __int128 kTaxDenominator = 100 * 10'000;

Error too_large(const std::string& meter, const Cycle& cycle, const std::string& what) {
  return Error::invalid("", "",
                        what + " of meter " + meter + " in cycle " + cycle.label() + " does not fit in 64-bit integers")
      .because("amount_too_large");
}

// Energy of one slab at one factor, before pricing.
struct Bucket {
  size_t slab = 0;
  int64_t factor = kFactorOne;
  int64_t energy_uwh = 0;
};

// Lines list factor one first, then the windows' factors in the tariff's order.
size_t factor_rank(const Tariff& tariff, int64_t factor) {
  if (factor == kFactorOne) return 0;
  for (size_t i = 0; i < tariff.tod.size(); ++i) {
    if (tariff.tod[i].factor == factor) return i + 1;
  }
  return tariff.tod.size() + 1;
}

void add_to_bucket(std::vector<Bucket>& buckets, size_t slab, int64_t factor, int64_t energy_uwh) {
  for (Bucket& b : buckets) {
    if (b.slab == slab && b.factor == factor) {
      b.energy_uwh += energy_uwh;  // bounded by the cycle's total, already checked
      return;
    }
  }
  buckets.push_back({slab, factor, energy_uwh});
}

// Index of the slab the next µWh goes to once `position_uwh` have been used: the first whose bound is above it.
size_t slab_after(const Tariff& tariff, int64_t position_uwh) {
  for (size_t s = 0; s + 1 < tariff.slabs.size(); ++s) {
    if (position_uwh < *tariff.slabs[s].upto_uwh) return s;
  }
  return tariff.slabs.size() - 1;
}

// Index of the slab a total reaches: the first whose bound is at or above it (a bound belongs to its slab).
size_t slab_reached(const Tariff& tariff, int64_t total_uwh) {
  for (size_t s = 0; s + 1 < tariff.slabs.size(); ++s) {
    if (total_uwh <= *tariff.slabs[s].upto_uwh) return s;
  }
  return tariff.slabs.size() - 1;
}

// The intervals whose start lies in the cycle: ends in [start + interval, end + interval), found by binary
// search since a meter's intervals are in increasing end_s.
std::span<const IntervalEnergy> intervals_in(const MeterEnergy& energy, const Cycle& cycle) {
  const auto by_end = [](const IntervalEnergy& i, int64_t end_s) { return i.end_s < end_s; };
  const auto first =
      std::lower_bound(energy.intervals.begin(), energy.intervals.end(), cycle.start_s + energy.interval_s, by_end);
  const auto last = std::lower_bound(first, energy.intervals.end(), cycle.end_s + energy.interval_s, by_end);
  return {first, last};
}

bool has_known_energy(const MeterEnergy& energy, const Cycle& cycle) {
  const auto in_cycle = intervals_in(energy, cycle);
  return std::any_of(in_cycle.begin(), in_cycle.end(),
                     [](const IntervalEnergy& i) { return i.quality != IntervalQuality::kMissing; });
}

}  // namespace

Expected<Bill> compute_bill(const Tariff& tariff, const Cycle& cycle, const MeterEnergy& energy) {
  Bill bill;
  bill.meter = energy.meter;
  bill.tariff = tariff;
  bill.cycle = cycle;
  bill.covered_from_s = cycle.end_s;
  bill.covered_to_s = cycle.start_s;

  // Known energy of the cycle in time order, with each interval's ToD factor.
  struct Use {
    int64_t energy_uwh;
    int64_t factor;
  };
  std::vector<Use> uses;
  // Missing intervals count as gaps only between known ones: before the first and after the last, the
  // coverage (covered_from_s, covered_to_s) already says the readings are absent.
  int64_t missing_since_known = 0;
  for (const IntervalEnergy& interval : intervals_in(energy, cycle)) {
    const int64_t start_s = interval.end_s - energy.interval_s;
    if (interval.quality == IntervalQuality::kMissing) {
      ++missing_since_known;
      continue;
    }
    if (!uses.empty()) bill.missing_intervals += missing_since_known;
    missing_since_known = 0;
    ++(interval.quality == IntervalQuality::kMeasured ? bill.measured_intervals : bill.estimated_intervals);
    bill.covered_from_s = std::min(bill.covered_from_s, start_s);
    bill.covered_to_s = std::max(bill.covered_to_s, interval.end_s);
    if (__builtin_add_overflow(bill.energy_uwh, interval.energy_uwh, &bill.energy_uwh)) {
      return too_large(energy.meter, cycle, "the energy");
    }
    uses.push_back({interval.energy_uwh, tariff.factor_at(start_s)});
  }

  // Energy into slabs. Telescopic: in time order, each interval's energy fills the current slab and spills into
  // the next at its bound, keeping its own ToD factor. Volumetric: all of it in the slab the total reaches.
  std::vector<Bucket> buckets;
  if (tariff.slab_mode == SlabMode::kTelescopic) {
    int64_t position_uwh = 0;
    for (const Use& use : uses) {
      int64_t left = use.energy_uwh;
      while (left > 0) {
        const size_t s = slab_after(tariff, position_uwh);
        const std::optional<int64_t>& bound = tariff.slabs[s].upto_uwh;
        const int64_t take = bound ? std::min(left, *bound - position_uwh) : left;
        add_to_bucket(buckets, s, use.factor, take);
        position_uwh += take;
        left -= take;
      }
    }
  } else {
    const size_t s = slab_reached(tariff, bill.energy_uwh);
    for (const Use& use : uses) {
      if (use.energy_uwh > 0) add_to_bucket(buckets, s, use.factor, use.energy_uwh);
    }
  }
  std::stable_sort(buckets.begin(), buckets.end(), [&tariff](const Bucket& a, const Bucket& b) {
    if (a.slab != b.slab) return a.slab < b.slab;
    return factor_rank(tariff, a.factor) < factor_rank(tariff, b.factor);
  });

  // Each line priced and rounded once; the charges summed from the rounded lines.
  __int128 energy_charge = 0;
  for (const Bucket& bucket : buckets) {
    BillLine line;
    line.slab = bucket.slab;
    line.from_uwh = bucket.slab == 0 ? 0 : *tariff.slabs[bucket.slab - 1].upto_uwh;
    line.to_uwh = tariff.slabs[bucket.slab].upto_uwh;
    line.energy_uwh = bucket.energy_uwh;
    line.factor = bucket.factor;
    // At most 1e13 (rate) x 1e5 (factor): inside int64, as the tariff reader's limits ensure.
    line.rate_e8 = tariff.slabs[bucket.slab].rate * bucket.factor;
    const __int128 exact = static_cast<__int128>(line.energy_uwh) * line.rate_e8;
    auto amount = divide_round_half_up(exact, kAmountDenominator);
    if (!amount.ok()) return too_large(energy.meter, cycle, "a line's amount");
    line.amount_minor = amount.value();
    energy_charge += line.amount_minor;
    bill.lines.push_back(line);
  }
  constexpr __int128 kMax = std::numeric_limits<int64_t>::max();
  const __int128 subtotal = energy_charge + tariff.fixed_charge_minor;
  if (subtotal > kMax) return too_large(energy.meter, cycle, "the energy charge");
  auto tax = divide_round_half_up(subtotal * tariff.tax_percent, kTaxDenominator);
  if (!tax.ok() || subtotal + tax.value() > kMax) return too_large(energy.meter, cycle, "the total");
  bill.energy_charge_minor = static_cast<int64_t>(energy_charge);
  bill.fixed_charge_minor = tariff.fixed_charge_minor;
  bill.tax_minor = tax.value();
  bill.total_minor = static_cast<int64_t>(subtotal) + bill.tax_minor;
  return bill;
}

Expected<std::vector<Bill>> bill_meter(const TariffBook& book, std::string_view tariff_id, const MeterEnergy& energy,
                                       std::optional<std::string_view> month) {
  if (!book.has(tariff_id)) {
    return Error::invalid("tariff", std::string(tariff_id), "no tariff with this id").because("unknown_tariff");
  }
  // Versions of one id share cycle kind and offset (the reader checks it), so the first fixes the cycles.
  const Tariff& first_version =
      *std::find_if(book.versions.begin(), book.versions.end(), [&](const Tariff& t) { return t.id == tariff_id; });
  std::vector<Cycle> cycles;
  if (month) {
    auto cycle = cycle_of_month(*month, first_version.cycle, first_version.utc_offset_s);
    if (!cycle.ok()) return Error::invalid("cycle", std::string(*month), cycle.error().message);
    cycles.push_back(cycle.value());
  } else {
    const auto known = [](const IntervalEnergy& i) { return i.quality != IntervalQuality::kMissing; };
    const auto first = std::find_if(energy.intervals.begin(), energy.intervals.end(), known);
    if (first == energy.intervals.end()) return std::vector<Bill>{};
    const auto last = std::find_if(energy.intervals.rbegin(), energy.intervals.rend(), known);
    Cycle cycle = cycle_containing(first->end_s - energy.interval_s, first_version.cycle, first_version.utc_offset_s);
    const Cycle final_cycle =
        cycle_containing(last->end_s - energy.interval_s, first_version.cycle, first_version.utc_offset_s);
    for (; cycle.start_s <= final_cycle.start_s;
         cycle = next_cycle(cycle, first_version.cycle, first_version.utc_offset_s)) {
      cycles.push_back(cycle);
    }
  }
  std::vector<Bill> bills;
  for (const Cycle& cycle : cycles) {
    if (!has_known_energy(energy, cycle)) continue;
    // The version in force at the cycle's start bills the whole cycle.
    const Tariff* version = book.in_force(tariff_id, cycle.start_s);
    if (version == nullptr) {
      return Error::invalid("cycle", cycle.label(),
                            "tariff " + std::string(tariff_id) + " has no version in force at the start of this " +
                                "cycle (its first version is effective from " + first_version.effective_from + ")")
          .because("no_tariff_version");
    }
    auto bill = compute_bill(*version, cycle, energy);
    if (!bill.ok()) return std::move(bill).error();
    bills.push_back(std::move(bill).value());
  }
  return bills;
}

}  // namespace wattguard::billing
