// The firmware check's image: the demo workload on the Cortex-M4F, output by semihosting.
#include "firmware/src/demo_run.h"
#include "firmware/src/semihosting.h"
#include "firmware/src/startup.h"
#include "firmware/src/text_buffer.h"
#include "wattguard/core/metrology_engine.h"

namespace {

// A global, as on the meter: its RAM shows in .bss, not on the stack.
wattguard::core::MetrologyEngine g_engine;

}  // namespace

int main() {
  using namespace wattguard::firmware;
  const DemoSummary summary = run_demo(&g_engine, &semihosting::write_line);
  TextBuffer line;
  line.append("# target sizeof_engine=").append_uint(sizeof(wattguard::core::MetrologyEngine));
  line.append(" stack_used=").append_uint(stack_used_bytes());
  line.append(" stack_capacity=").append_uint(stack_capacity_bytes());
  line.append(" periods=").append_uint(summary.periods);
  line.append(" samples=").append_uint(summary.samples);
  line.append(summary.ok ? " ok" : " FAILED");
  semihosting::write_line(line.c_str());
  return summary.ok ? 0 : 1;
}
