// `wattguard bill`: bills anyone's interval readings (the `theft scan` format) under a tariff file, one bill per
// meter and cycle, as a table or JSON Lines (docs/billing.md).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cli/command_registry.h"
#include "cli/tariff_choice.h"
#include "wattguard/base/expected.h"
#include "wattguard/billing/bill.h"
#include "wattguard/billing/bill_json.h"
#include "wattguard/billing/bill_table.h"
#include "wattguard/billing/meter_energy.h"
#include "wattguard/billing/tariff_toml.h"

namespace wattguard::cli {
namespace {

namespace wb = wattguard::billing;

struct BillArgs {
  std::string tariff;
  std::string readings;
  std::string cycle;      // "YYYY-MM", or empty for every cycle of the readings
  std::string tariff_id;  // empty: the file's only tariff
  bool json = false;
};

// The whole command, from arguments to the text to print: all or nothing, so bad input prints no bill.
Expected<std::string> run_bill(const BillArgs& args) {
  auto book = wb::read_tariff_file(args.tariff);
  if (!book.ok()) return std::move(book).error();
  auto id = choose_tariff(book.value(), args.tariff_id);
  if (!id.ok()) return std::move(id).error();
  std::optional<std::string_view> month;
  if (!args.cycle.empty()) {
    // Checked before the readings are read, so a typo is reported as the option's. Versions of one tariff
    // share cycle kind and zone, so any version of it says what the month means.
    const wb::Tariff& version = any_version(book.value(), id.value());
    auto cycle = wb::cycle_of_month(args.cycle, version.cycle, version.utc_offset_s);
    if (!cycle.ok()) return Error::invalid("--cycle", args.cycle, cycle.error().message);
    month = args.cycle;
  }
  auto meters = wb::read_meter_energy(args.readings);
  if (!meters.ok()) return std::move(meters).error();
  std::string out;
  for (const wb::MeterEnergy& meter : meters.value()) {
    auto bills = wb::bill_meter(book.value(), id.value(), meter, month);
    if (!bills.ok()) return std::move(std::move(bills).error()).at("meter " + meter.meter);
    for (const wb::Bill& bill : bills.value())
      out += args.json ? wb::bill_to_json(bill) : wb::bill_to_table(bill) + "\n";
  }
  return out;
}

void add_bill_command(CLI::App& app) {
  auto args = std::make_shared<BillArgs>();
  auto* bill = app.add_subcommand(
      "bill",
      "Bill interval readings under a tariff: every slab line, fixed charge, tax and total per meter and cycle, "
      "exact to the minor unit (formats and rules: docs/billing.md)");
  bill->add_option("--tariff", args->tariff, "Tariff TOML file ([[tariff]] tables)")->required();
  bill->add_option("--readings", args->readings, "Readings CSV: meter,time,kwh[,register_kwh]")->required();
  bill->add_option("--cycle", args->cycle, "Only the cycle holding this month, YYYY-MM (default: every cycle)");
  bill->add_option("--tariff-id", args->tariff_id, "Tariff to bill by, when the file has several");
  bill->add_flag("--json", args->json, "One JSON object per meter and cycle (JSON Lines)");
  bill->callback([args] {
    auto text = run_bill(*args);
    if (!text.ok()) {
      // Every failure here is about the files or options given (exit 2); to_string() names file, line and field.
      const std::string message = text.error().to_string();
      finish(Expected<int>(as_bad_input(std::move(text).error(), message)));
      return;
    }
    if (text->empty()) std::fputs("wattguard: note: no readings in the chosen cycle\n", stderr);
    std::fputs(text->c_str(), stdout);
    finish(Expected<int>(0));
  });
}

const bool kRegistered = register_commands("bill", &add_bill_command);

}  // namespace
}  // namespace wattguard::cli
