// The host twin of the firmware image: the same demo workload on the host build of core/, printed
// to stdout, plus a check that the readings are right (so matching the target means something).
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "firmware/src/demo_run.h"
#include "firmware/src/sample_generator.h"
#include "wattguard/core/metrology_engine.h"

namespace {

using wattguard::core::PeriodReading;

wattguard::core::MetrologyEngine g_engine;

void print_line(const char* line) { std::printf("%s\n", line); }

// Relative error check; prints the comparison and returns whether it is within `limit`.
bool within(const char* name, double measured, double truth, double limit) {
  const double error = (measured - truth) / truth;
  const bool ok = std::fabs(error) <= limit;
  std::printf("# host check %s measured=%.4f true=%.4f error=%+.4f%% limit=%.2f%% %s\n", name, measured, truth,
              error * 100.0, limit * 100.0, ok ? "ok" : "FAILED");
  return ok;
}

}  // namespace

int main() {
  using namespace wattguard::firmware;
  const DemoSummary summary = run_demo(&g_engine, &print_line);
  std::printf("# host sizeof_engine=%zu periods=%u samples=%llu %s\n", sizeof(wattguard::core::MetrologyEngine),
              summary.periods, static_cast<unsigned long long>(summary.samples), summary.ok ? "ok" : "FAILED");

  // The last period is past the settling second: it must read the synthetic load well inside
  // class 1 (the sine table and integer rounding are far below these limits).
  const auto& cal = g_engine.config().cal;
  const SyntheticTruth truth = synthetic_truth(cal.v_per_count, cal.i_per_count);
  const PeriodReading& r = g_engine.last_reading();
  const double period_s = DemoPlan::kReportPeriodMs / 1000.0;
  bool ok = summary.ok;
  ok = within("vrms", r.vrms, truth.vrms, 0.002) && ok;
  ok = within("irms", r.irms, truth.irms, 0.005) && ok;
  ok = within("neutral_irms", r.neutral_irms, truth.irms, 0.005) && ok;
  ok = within("p_w", r.p_w, truth.p_w, 0.005) && ok;
  ok = within("pf", r.pf, truth.pf, 0.005) && ok;
  ok = within("freq_hz", r.freq_hz, truth.freq_hz, 0.0002) && ok;
  ok = within("period_import_wh", r.period_import_wh, truth.p_w * period_s / 3600.0, 0.005) && ok;
  ok = (r.export_uwh == 0) && ok;
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
