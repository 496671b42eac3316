// The demo's simulated grid history, loaded into a running server the way an operator loads real data.
#include "wattguard/demo/demo_grid.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

#include "wattguard/base/floor_division.h"
#include "wattguard/evaluation/grid_simulator.h"
#include "wattguard/grid/readings_import.h"
#include "wattguard/grid/topology_import.h"

namespace wattguard::demo {
namespace {

constexpr int64_t kDayS = 86400;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Expected<DemoGridSummary> seed_demo_grid(serve::Server& server, const DemoGridOptions& options, int64_t now_ms) {
  DemoGridSummary summary;
  auto existing = server.grid().list();
  if (!existing.ok()) return Error::io("demo grid: reading the topology: " + existing.error().message);
  if (!existing.value().empty()) return summary;
  if (options.transformers < 1 || options.consumers < 1) return summary;
  const grid::TheftOptions& theft = server.config().theft;
  if (options.days <= options.calibration_days + 8) {
    return Error::invalid("days", std::to_string(options.days),
                          "demo grid: " + std::to_string(options.days) +
                              " days of history leave no room for thefts after " +
                              std::to_string(options.calibration_days) + " calibration days");
  }

  evaluation::GridSimConfig sim;
  sim.seed = options.seed;
  sim.transformers = options.transformers;
  sim.consumers = options.consumers;
  sim.days = options.days;
  sim.calibration_days = options.calibration_days;
  sim.thief_share = options.thief_share;
  sim.utc_offset_s = theft.utc_offset_s;
  evaluation::SimulatedGrid g = evaluation::simulate_grid(sim);
  // Whole days earlier or later keep the households' local days on the analysis's local days: the history
  // ends at the last local midnight whose interval has settled.
  const int64_t now_s = floor_div(now_ms, 1000);
  const int64_t last_end = g.end_s(g.count - 1);
  const int64_t target_end = floor_div(now_s - theft.settle_s + theft.utc_offset_s, kDayS) * kDayS - theft.utc_offset_s;
  g.first_end_s += target_end - last_end;

  std::error_code ec;
  std::filesystem::create_directories(options.files_dir, ec);
  if (ec) return Error::io("demo grid: " + options.files_dir.string() + ": " + ec.message());
  summary.readings_csv = options.files_dir / "readings.csv";
  summary.topology_csv = options.files_dir / "topology.csv";
  if (!evaluation::write_grid_csv(g, summary.readings_csv.string(), summary.topology_csv.string(), true)) {
    return Error::io("demo grid: cannot write " + summary.readings_csv.string());
  }

  // Meters first (the import and the topology refuse unknown ones), then the readings, then the topology, so
  // the analysis never sees a transformer whose history is half there.
  storage::ReadingStore& store = server.store();
  std::vector<storage::MeterInfo> missing;
  auto provision = [&](const std::string& id, const std::string& name) {
    if (store.has_meter(id)) return;
    storage::MeterInfo info;
    info.id = id;
    info.name = name;
    info.area = options.area;
    missing.push_back(std::move(info));
  };
  for (const auto& t : g.transformers) {
    provision(t.check_id, "Check meter of " + t.id);
    for (int c : t.consumers) provision(g.consumers[static_cast<size_t>(c)].id, "Household on " + t.id);
  }
  if (!missing.empty()) {
    if (auto st = store.add_meters(missing); !st.ok())
      return Error::io("demo grid: provisioning meters: " + st.error().message);
    server.meters_changed();
  }

  auto imported = grid::import_readings(read_file(summary.readings_csv), summary.readings_csv.string(), store, now_ms);
  if (!imported.ok())
    return Error::invalid("", "", "demo grid: importing readings: " + grid::describe_error(imported.error()));
  summary.intervals_stored = imported.value().intervals_stored;

  const grid::MeterKnown known = [&store](const std::string& id) { return store.has_meter(id); };
  std::vector<grid::Transformer> topology;
  for (const auto& t : g.transformers) {
    grid::Transformer tr;
    tr.id = t.id;
    tr.name = "Demo transformer " + t.id;
    tr.area = options.area;
    tr.check_meter = t.check_id;
    for (int c : t.consumers) tr.consumers.push_back(g.consumers[static_cast<size_t>(c)].id);
    if (auto checked = grid::check_transformer(tr, known); !checked) {
      return Error::invalid("", "", "demo grid: transformer " + t.id + ": " + grid::describe_error(checked.error()));
    }
    summary.consumers += tr.consumers.size();
    topology.push_back(std::move(tr));
  }
  if (auto st = server.grid().replace_all(topology, now_ms); !st.ok())
    return Error::io("demo grid: topology: " + st.error().message);
  summary.transformers = topology.size();
  for (const auto& c : g.consumers) {
    if (!evaluation::is_theft(c.scenario)) continue;
    summary.thieves.push_back(
        {c.id, g.transformers[static_cast<size_t>(c.transformer)].id, evaluation::scenario_name(c.scenario)});
  }
  summary.thieves_csv = options.files_dir / "thieves.csv";
  {
    std::ofstream truth(summary.thieves_csv);
    truth << "meter,transformer,scenario\n";
    for (const auto& t : summary.thieves) truth << t.meter << ',' << t.transformer << ',' << t.scenario << '\n';
    if (!truth) return Error::io("demo grid: cannot write " + summary.thieves_csv.string());
  }
  summary.seeded = true;
  // Analyse now rather than at the service's next cycle, so the first page the user opens has the results.
  if (theft.enabled) server.theft_analysis().run_cycle(now_ms);
  return summary;
}

}  // namespace wattguard::demo
