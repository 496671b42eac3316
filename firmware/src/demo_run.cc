// Runs the metrology engine over the synthetic sample set in DMA-sized blocks.
#include "firmware/src/demo_run.h"

#include "firmware/src/reading_line.h"
#include "firmware/src/sample_generator.h"
#include "firmware/src/text_buffer.h"
#include "wattguard/core/calibration.h"

namespace wattguard::firmware {

DemoSummary run_demo(core::MetrologyEngine* engine, LineSink sink) {
  DemoSummary summary;
  TextBuffer line;

  core::MeterConfig config;
  config.sample_rate_hz = SyntheticLoad::kSampleRateHz;
  config.adc_bits = 12;
  config.cal = core::default_calibration(config.adc_bits);
  config.report_period_ms = DemoPlan::kReportPeriodMs;
  config.has_neutral_channel = true;
  const core::Status configured = engine->configure(config);
  if (configured != core::Status::kOk) {
    line.append("error configure: ").append(core::status_name(configured));
    sink(line.c_str());
    return summary;
  }

  const uint64_t total =
      static_cast<uint64_t>(DemoPlan::kPeriods) * DemoPlan::kReportPeriodMs * SyntheticLoad::kSampleRateHz / 1000;
  SampleGenerator generator;
  // Static, as DMA buffers are on a microcontroller (and so the stack figure is the engine's).
  static uint16_t v[DemoPlan::kBlockSamples];
  static uint16_t i[DemoPlan::kBlockSamples];
  static uint16_t n[DemoPlan::kBlockSamples];
  uint64_t reported_end_sample = 0;
  while (summary.samples < total) {
    const uint64_t left = total - summary.samples;
    const auto count = static_cast<uint32_t>(left < DemoPlan::kBlockSamples ? left : DemoPlan::kBlockSamples);
    generator.fill(v, i, n, count);
    // add_samples stops right after a sample that ends a period: take the reading, go on.
    uint32_t offset = 0;
    while (offset < count) {
      offset += engine->add_samples(v + offset, i + offset, n + offset, count - offset);
      const core::PeriodReading& reading = engine->last_reading();
      if (reading.end_sample != reported_end_sample) {
        reported_end_sample = reading.end_sample;
        ++summary.periods;
        line.clear();
        format_reading(reading, &line);
        sink(line.c_str());
        line.clear();
        format_reading_bits(reading, &line);
        sink(line.c_str());
      }
    }
    summary.samples += count;
  }

  // Treat the synthetic load as the reference load of a calibration: the derived constants
  // must come out as the ones the samples were made with.
  const SyntheticTruth truth = synthetic_truth(config.cal.v_per_count, config.cal.i_per_count);
  core::ReferenceLoad reference;
  reference.vrms = truth.vrms;
  reference.irms = truth.irms;
  // derive_calibration takes the angle from the PF, so it needs the fundamental's (P/S would
  // count the third harmonic as extra lag).
  reference.pf = truth.displacement_pf;
  reference.lagging = true;
  core::Calibration derived;
  const core::Status calibrated = core::derive_calibration(engine->last_reading(), config.cal, reference, &derived);
  line.clear();
  format_calibration(calibrated, calibrated == core::Status::kOk ? derived : config.cal, &line);
  sink(line.c_str());

  summary.ok =
      summary.periods == DemoPlan::kPeriods && calibrated == core::Status::kOk && summary.samples == engine->samples();
  return summary;
}

}  // namespace wattguard::firmware
