// `wattguard meter ...`: run the metrology core on simulated or recorded ADC samples.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "cli/command_registry.h"
#include "cli/meter_report.h"
#include "cli/simulation_options.h"
#include "wattguard/core/calibration.h"
#include "wattguard/core/metrology_engine.h"
#include "wattguard/sim/binary_recording.h"
#include "wattguard/sim/csv_recording.h"
#include "wattguard/sim/ideal_calibration.h"
#include "wattguard/sim/meter_simulator.h"

namespace wattguard::cli {
namespace {

constexpr size_t kBlock = 4096;

// CLI11's PositiveNumber prints a range up to DBL_MAX; say it plainly instead. std::strtod, not std::stod: the same
// numbers (leading space, '+', hex) without an exception for text that is none; out of range (ERANGE) is refused
// as stod's exception refused it.
const CLI::Validator kPositive(
    [](std::string& value) -> std::string {
      const char* begin = value.c_str();
      char* end = nullptr;
      errno = 0;
      const double x = std::strtod(begin, &end);
      if (end != begin && end == begin + value.size() && errno != ERANGE && std::isfinite(x) && x > 0) return {};
      return "must be a positive number, got '" + value + "'";
    },
    "POSITIVE");

// A number for an Error's value field ("0.5").
std::string number_text(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", x);
  return text;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

uint32_t period_ms(double period_s) { return static_cast<uint32_t>(std::lround(period_s * 1000.0)); }

Expected<void> configure(core::MetrologyEngine& engine, const core::MeterConfig& config) {
  const core::Status s = engine.configure(config);
  if (s != core::Status::kOk) {
    return Error::invalid("meter configuration", core::status_name(s),
                          std::string("meter configuration: ") + core::status_name(s));
  }
  return {};
}

// ---- simulate ---------------------------------------------------------------------------

struct SimulateOptions {
  SimulationOptions sim;
  double period_s = 5.0;
  std::optional<double> phase_deg;
  bool json = false;
};

Expected<void> run_simulate(const SimulateOptions& o) {
  auto made = o.sim.simulator();
  if (!made.ok()) return made.error();
  sim::MeterSimulator& simulator = *made.value();
  const sim::SimConfig& config = simulator.config();
  core::MeterConfig meter;
  meter.sample_rate_hz = config.sample_rate_hz;
  meter.adc_bits = static_cast<uint8_t>(config.adc.bits);
  meter.cal = sim::ideal_calibration(config, 5.0);  // the meter is calibrated once, at Ib
  if (o.phase_deg) meter.cal.phase_deg = static_cast<float>(*o.phase_deg);
  meter.report_period_ms = period_ms(o.period_s);
  meter.nominal_frequency_hz = 50.0f;
  core::MetrologyEngine engine;
  if (auto configured = configure(engine, meter); !configured.ok()) return configured;

  MeterReport report(stdout, ReportOptions{o.json, true});
  std::optional<core::PeriodReading> first, last;
  std::optional<sim::Truth> truth_first, truth_last;
  const auto total = static_cast<int64_t>(o.sim.seconds * config.sample_rate_hz);
  std::vector<uint16_t> v(kBlock), i(kBlock), n(kBlock);
  for (int64_t done = 0; done < total;) {
    const auto count = static_cast<uint32_t>(std::min<int64_t>(kBlock, total - done));
    simulator.generate(v.data(), i.data(), n.data(), count);
    for (uint32_t offset = 0; offset < count;) {
      offset += engine.add_samples(v.data() + offset, i.data() + offset, nullptr, count - offset);
      if (!engine.period_completed()) continue;
      const core::PeriodReading& r = engine.last_reading();
      const auto truth = simulator.truth_at(static_cast<int64_t>(r.end_sample));
      report.reading(r, truth);
      if (!first) {
        first = r;
        truth_first = truth;
      }
      last = r;
      truth_last = truth;
    }
    done += count;
  }
  if (!last) {
    return option_error("--seconds", number_text(o.sim.seconds),
                        "shorter than one report period (--period), nothing to report");
  }
  // The first period includes the meter's start; the summary compares everything after it.
  report.summary(*first, *last, truth_first, truth_last);
  return {};
}

// ---- record -----------------------------------------------------------------------------

struct RecordOptions {
  SimulationOptions sim;
  std::string out;
  std::string format;  // csv | binary; default from the file name
  bool neutral = false;
};

Expected<void> run_record(const RecordOptions& o) {
  auto made = o.sim.simulator();
  if (!made.ok()) return made.error();
  sim::MeterSimulator& simulator = *made.value();
  const sim::SimConfig& config = simulator.config();
  sim::Recording rec;
  rec.sample_rate_hz = config.sample_rate_hz;
  rec.adc_bits = config.adc.bits;
  rec.channels = o.neutral ? 3 : 2;
  rec.samples.resize(static_cast<size_t>(o.sim.seconds * config.sample_rate_hz));
  simulator.generate(rec.samples);
  const bool binary = o.format == "binary" || (o.format.empty() && !ends_with(o.out, ".csv"));
  const auto written =
      binary ? sim::write_binary_recording_file(o.out, rec) : sim::write_csv_recording_file(o.out, rec);
  // A file that cannot be written is a failure of the run (exit 1), not bad input.
  if (!written) return as_failure(written.error(), "writing " + o.out + ": " + written.error().message);
  const core::Calibration cal = sim::ideal_calibration(config, 5.0);
  const sim::Truth truth = simulator.truth();
  std::printf("wrote %zu sample sets (%.1f s at %u Hz, %d bits, %s) to %s\n", rec.samples.size(), o.sim.seconds,
              config.sample_rate_hz, config.adc.bits, binary ? "binary" : "CSV", o.out.c_str());
  std::printf("true energy: import %.6f Wh, export %.6f Wh\n", truth.e_import_wh, truth.e_export_wh);
  std::printf(
      "replay with: wattguard meter replay --samples %s --rate %u --bits %d --v-scale %.9g --i-scale %.9g%s "
      "--phase-deg %.4f\n",
      o.out.c_str(), config.sample_rate_hz, config.adc.bits, cal.v_per_count, cal.i_per_count,
      o.neutral ? (" --n-scale " + std::to_string(cal.n_per_count)).c_str() : "", cal.phase_deg);
  return {};
}

// ---- replay and calibrate: reading a recording ------------------------------------------

struct RecordingInput {
  std::string path;
  uint32_t rate_hz = 0;
  int bits = 12;
};

// Loads a recording and checks all of it before any reading is made from it.
Expected<sim::Recording> load_recording(const RecordingInput& in) {
  std::ifstream probe(in.path, std::ios::binary);
  if (!probe) return option_error("--samples", in.path, "cannot open '" + in.path + "'");
  char magic[sizeof(sim::kBinaryRecordingMagic)] = {};
  probe.read(magic, sizeof(magic));
  const bool binary = probe.gcount() == static_cast<std::streamsize>(sizeof(magic)) &&
                      std::equal(magic, magic + sizeof(magic), sim::kBinaryRecordingMagic);
  probe.close();
  Expected<sim::Recording> result =
      binary ? sim::read_binary_recording_file(in.path) : sim::read_csv_recording_file(in.path, in.bits);
  // The reader's message names the file, line and field already; a file that vanished since the probe is still
  // the user's --samples.
  if (!result.ok()) return as_bad_input(result.error());
  sim::Recording rec = std::move(result).value();
  if (binary) {
    if (in.rate_hz != 0 && in.rate_hz != rec.sample_rate_hz) {
      return option_error("--rate", std::to_string(in.rate_hz),
                          std::to_string(in.rate_hz) + " Hz contradicts the recording's " +
                              std::to_string(rec.sample_rate_hz) + " Hz");
    }
  } else {
    if (in.rate_hz == 0) return option_error("--rate", "", "required for a CSV recording (it does not carry its rate)");
    rec.sample_rate_hz = in.rate_hz;
    rec.adc_bits = in.bits;
  }
  return rec;
}

void add_recording_options(CLI::App* cmd, RecordingInput* in) {
  cmd->add_option("--samples", in->path,
                  "Recording of raw ADC counts: CSV (header v,i or v,i,n) or binary (docs/recording-format.md)")
      ->required();
  cmd->add_option("--rate", in->rate_hz, "Sample rate per channel, Hz (required for CSV)")
      ->check(CLI::Range(1000, 20000));
  cmd->add_option("--bits", in->bits, "ADC width, bits")->capture_default_str()->check(CLI::Range(10, 16));
}

// Feeds a whole recording to the engine; calls `on_reading` for each period.
template <class OnReading>
void feed(core::MetrologyEngine& engine, const sim::Recording& rec, OnReading on_reading) {
  std::vector<uint16_t> v(kBlock), i(kBlock), n(kBlock);
  const bool neutral = rec.channels == 3;
  for (size_t done = 0; done < rec.samples.size();) {
    const size_t count = std::min(kBlock, rec.samples.size() - done);
    for (size_t k = 0; k < count; ++k) {
      v[k] = rec.samples[done + k].v;
      i[k] = rec.samples[done + k].i;
      n[k] = rec.samples[done + k].n;
    }
    for (uint32_t offset = 0; offset < count;) {
      offset += engine.add_samples(v.data() + offset, i.data() + offset, neutral ? n.data() + offset : nullptr,
                                   static_cast<uint32_t>(count) - offset);
      if (engine.period_completed()) on_reading(engine.last_reading());
    }
    done += count;
  }
}

struct ReplayOptions {
  RecordingInput input;
  double v_scale = 0, i_scale = 0, n_scale = 0;
  double phase_deg = 0;
  double period_s = 5.0;
  double noise_counts = 3.0;
  bool json = false;
};

Expected<void> run_replay(const ReplayOptions& o) {
  const auto loaded = load_recording(o.input);
  if (!loaded.ok()) return loaded.error();
  const sim::Recording& rec = loaded.value();
  core::MeterConfig meter;
  meter.sample_rate_hz = rec.sample_rate_hz;
  meter.adc_bits = static_cast<uint8_t>(rec.adc_bits);
  meter.cal.v_per_count = static_cast<float>(o.v_scale);
  meter.cal.i_per_count = static_cast<float>(o.i_scale);
  meter.cal.n_per_count = static_cast<float>(o.n_scale);
  meter.cal.phase_deg = static_cast<float>(o.phase_deg);
  meter.cal.i_noise_counts = static_cast<float>(o.noise_counts);
  meter.has_neutral_channel = rec.channels == 3;
  meter.report_period_ms = period_ms(o.period_s);
  core::MetrologyEngine engine;
  if (auto configured = configure(engine, meter); !configured.ok()) return configured;
  MeterReport report(stdout, ReportOptions{o.json, false});
  std::optional<core::PeriodReading> first, last;
  feed(engine, rec, [&](const core::PeriodReading& r) {
    report.reading(r);
    if (!first) first = r;
    last = r;
  });
  if (!last) {
    return option_error("--samples", o.input.path,
                        "the recording (" + std::to_string(rec.samples.size()) +
                            " sample sets) is shorter than one report period (--period)");
  }
  report.summary(*first, *last, std::nullopt, std::nullopt);
  return {};
}

struct CalibrateOptions {
  RecordingInput input;
  double ref_v = 230.0, ref_i = 5.0, ref_pf = 1.0;
  bool lead = false;
  double v_scale = 0, i_scale = 0, phase_deg = 0;
};

Expected<void> run_calibrate(const CalibrateOptions& o) {
  const auto loaded = load_recording(o.input);
  if (!loaded.ok()) return loaded.error();
  const sim::Recording& rec = loaded.value();
  const double seconds = static_cast<double>(rec.samples.size()) / rec.sample_rate_hz;
  if (seconds < 2.0) {
    return option_error("--samples", o.input.path,
                        "need at least 2 s of the reference load, got " + std::to_string(seconds) + " s");
  }
  core::MeterConfig meter;
  meter.sample_rate_hz = rec.sample_rate_hz;
  meter.adc_bits = static_cast<uint8_t>(rec.adc_bits);
  meter.cal = core::default_calibration(meter.adc_bits);
  if (o.v_scale > 0) meter.cal.v_per_count = static_cast<float>(o.v_scale);
  if (o.i_scale > 0) meter.cal.i_per_count = static_cast<float>(o.i_scale);
  meter.cal.phase_deg = static_cast<float>(o.phase_deg);
  // One period over the whole recording: every sample goes into the reference reading.
  meter.report_period_ms = static_cast<uint32_t>(std::min(3600.0, std::floor(seconds * 10.0) / 10.0) * 1000.0);
  core::MetrologyEngine engine;
  if (auto configured = configure(engine, meter); !configured.ok()) return configured;
  std::optional<core::PeriodReading> reading;
  feed(engine, rec, [&](const core::PeriodReading& r) { reading = r; });
  core::Calibration derived;
  const core::Status s =
      core::derive_calibration(*reading, meter.cal,
                               core::ReferenceLoad{static_cast<float>(o.ref_v), static_cast<float>(o.ref_i),
                                                   static_cast<float>(o.ref_pf), !o.lead},
                               &derived);
  if (s != core::Status::kOk) {
    return Error::invalid("calibration", core::status_name(s), std::string("calibration: ") + core::status_name(s));
  }
  std::printf(
      "reference reading (with the starting constants): Vrms %.4f, Irms %.5f, P %.3f W, Q %.3f var, f %.4f Hz\n",
      reading->vrms, reading->irms, reading->p_w, reading->q_var, reading->freq_hz);
  std::printf("v_per_count = %.9g\ni_per_count = %.9g\nphase_deg = %.4f\n", derived.v_per_count, derived.i_per_count,
              derived.phase_deg);
  std::printf("replay with: --v-scale %.9g --i-scale %.9g --phase-deg %.4f\n", derived.v_per_count, derived.i_per_count,
              derived.phase_deg);
  return {};
}

// ---- registration -----------------------------------------------------------------------

void add_meter_commands(CLI::App& app) {
  auto* meter = app.add_subcommand("meter", "Run the metrology core on simulated or recorded ADC samples");
  meter->require_subcommand(1);

  auto simulate = std::make_shared<SimulateOptions>();
  auto* sim_cmd =
      meter->add_subcommand("simulate",
                            "Simulate sensors and ADC, run the core, print measured and true values with the % error");
  simulate->sim.add_to(sim_cmd);
  sim_cmd->add_option("--period", simulate->period_s, "Report period, s")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  sim_cmd->add_option("--phase-deg", simulate->phase_deg,
                      "Override the meter's phase correction, degrees (default: the value that fits the sensors)");
  sim_cmd->add_flag("--json", simulate->json, "One JSON object per report period");
  sim_cmd->callback([simulate] { finish(run_simulate(*simulate)); });

  auto record = std::make_shared<RecordOptions>();
  auto* rec_cmd = meter->add_subcommand("record", "Write a simulated recording of raw ADC counts");
  record->sim.add_to(rec_cmd);
  rec_cmd->add_option("--out", record->out, "Output file (.csv for CSV, anything else binary)")->required();
  rec_cmd->add_option("--format", record->format, "csv or binary (default: from the file name)")
      ->check(CLI::IsMember({"csv", "binary"}));
  rec_cmd->add_flag("--neutral", record->neutral, "Include the neutral-current channel (v,i,n)");
  rec_cmd->callback([record] { finish(run_record(*record)); });

  auto replay = std::make_shared<ReplayOptions>();
  auto* replay_cmd = meter->add_subcommand("replay", "Run the core over a recording of raw ADC counts");
  add_recording_options(replay_cmd, &replay->input);
  replay_cmd->add_option("--v-scale", replay->v_scale, "Volts per count, voltage channel")
      ->required()
      ->check(kPositive);
  replay_cmd->add_option("--i-scale", replay->i_scale, "Amperes per count, current channel")
      ->required()
      ->check(kPositive);
  replay_cmd->add_option("--n-scale", replay->n_scale, "Amperes per count, neutral channel (default: --i-scale)")
      ->check(kPositive);
  replay_cmd->add_option("--phase-deg", replay->phase_deg, "Phase lead of the current channel to remove, degrees")
      ->capture_default_str()
      ->check(CLI::Range(-20.0, 20.0));
  replay_cmd->add_option("--period", replay->period_s, "Report period, s")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  replay_cmd->add_option("--noise", replay->noise_counts, "Current-channel noise with no load, counts RMS")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1000.0));
  replay_cmd->add_flag("--json", replay->json, "One JSON object per report period");
  replay_cmd->callback([replay] { finish(run_replay(*replay)); });

  auto calibrate = std::make_shared<CalibrateOptions>();
  auto* cal_cmd = meter->add_subcommand(
      "calibrate", "Derive volts/amps per count and phase correction from a recording of a known reference load");
  add_recording_options(cal_cmd, &calibrate->input);
  cal_cmd->add_option("--ref-v", calibrate->ref_v, "Reference voltage, V RMS")->capture_default_str()->check(kPositive);
  cal_cmd->add_option("--ref-i", calibrate->ref_i, "Reference current, A RMS")->capture_default_str()->check(kPositive);
  cal_cmd->add_option("--ref-pf", calibrate->ref_pf, "Reference displacement power factor (cos phi of the fundamental)")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 1.0));
  cal_cmd->add_flag("--lead", calibrate->lead, "The reference current leads (capacitive); default lagging");
  cal_cmd->add_option("--v-scale", calibrate->v_scale, "Starting volts per count (default: reference front end)")
      ->check(kPositive);
  cal_cmd->add_option("--i-scale", calibrate->i_scale, "Starting amperes per count (default: reference front end)")
      ->check(kPositive);
  cal_cmd->callback([calibrate] { finish(run_calibrate(*calibrate)); });
}

const bool kRegistered = register_commands("meter", &add_meter_commands);

}  // namespace
}  // namespace wattguard::cli
