// The simulated meter front end: sample generation by phasor rotation, and the truth ledger.
#include "wattguard/sim/meter_simulator.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <utility>

#include "wattguard/sim/current_sensor.h"
#include "wattguard/sim/voltage_sensor.h"

namespace wattguard::sim {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = kPi / 180.0;
constexpr double kSqrt2 = 1.4142135623730951;
// Samples between exact re-derivations of the rotating phasors: at a constant frequency the
// rounding of 4,096 complex multiplies is ~1e-13; with drift, short blocks keep the
// piecewise-linear phase within 2*pi*drift*T^2/8 (5e-5 rad at 1 Hz/s) of the exact one.
constexpr int64_t kConstantBlock = 4096;
constexpr int64_t kDriftBlock = 32;
// Recompute the sensor phase shifts when the frequency has moved this much since: 0.01 Hz
// moves a 1.5 degree first-order lead by 3e-4 degrees and a 125 us skew by 5e-4 degrees.
constexpr double kCoefficientRetuneHz = 0.01;

inline uint16_t quantize(double x, double max_code) {
  x += 0.5;
  x = x < 0.0 ? 0.0 : (x > max_code ? max_code : x);
  return static_cast<uint16_t>(x);
}

struct AosSink {
  SampleSet* out;
  void put(size_t s, uint16_t v, uint16_t i, uint16_t n) const { out[s] = SampleSet{v, i, n}; }
  AosSink advanced(size_t k) const { return {out + k}; }
};

struct SoaSink {
  uint16_t* v;
  uint16_t* i;
  uint16_t* n;
  void put(size_t s, uint16_t vv, uint16_t ii, uint16_t nn) const {
    v[s] = vv;
    i[s] = ii;
    if (n != nullptr) n[s] = nn;
  }
  SoaSink advanced(size_t k) const { return {v + k, i + k, n != nullptr ? n + k : nullptr}; }
};

}  // namespace

Expected<void> MeterSimulator::validate(const SimConfig& config, const LoadProfile* profile) {
  if (auto config_ok = sim::validate(config); !config_ok) return config_ok;
  if (profile == nullptr) return Error::invalid("profile", "null", "MeterSimulator: null load profile");
  return {};
}

Expected<std::unique_ptr<MeterSimulator>> MeterSimulator::create(const SimConfig& config,
                                                                 std::shared_ptr<const LoadProfile> profile) {
  if (auto usable = validate(config, profile.get()); !usable) return std::move(usable).error();
  return std::make_unique<MeterSimulator>(config, std::move(profile));
}

MeterSimulator::MeterSimulator(const SimConfig& config, std::shared_ptr<const LoadProfile> profile)
    : config_(config),
      profile_(std::move(profile)),
      clock_(config.grid),
      voltage_(voltage_phasors(config.grid)),
      rate_(static_cast<double>(config.sample_rate_hz)),
      rng_(mix_seed(config.seed, 0x41444321)),
      gauss_(FastGaussianTable::instance().data()) {
  assert(validate(config_, profile_.get()).ok());
  noise_ = config_.adc.noise_counts_rms;
  inl_ = config_.adc.inl_end_counts;
  two_over_codes_ = 2.0 / static_cast<double>(1 << config_.adc.bits);
  max_code_ = config_.adc.max_code();
  segment_ = profile_->segment_at(0.0);
  if (!(segment_.end_s > 0.0)) segment_.end_s = std::nextafter(0.0, 1.0);
  segment_end_ = index_at_or_after(segment_.end_s);
  advance_segment();  // also opens the first ledger entry
}

int64_t MeterSimulator::index_at_or_after(double t_s) const {
  if (!std::isfinite(t_s)) return std::numeric_limits<int64_t>::max();
  // A change time that is a sample instant up to rounding belongs to that sample.
  const double x = std::ceil(t_s * rate_ - 1e-6);
  if (x <= 0.0) return 0;
  if (x >= 9e18) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(x);
}

void MeterSimulator::advance_segment() {
  while (pos_ >= segment_end_) {
    const double t = segment_.end_s;
    LoadSegment next = profile_->segment_at(t);
    if (!(next.end_s > t)) next.end_s = std::nextafter(t, std::numeric_limits<double>::infinity());
    segment_ = next;
    segment_end_ = index_at_or_after(segment_.end_s);
  }
  start_ledger_entry(pos_);
  dirty_ = true;
  block_end_ = pos_;
}

MeterSimulator::Values MeterSimulator::values_for(const LoadPhasors& load, bool relay_closed) const {
  Values out;
  const bool flowing = relay_closed && config_.grid.present;
  double v2 = 0.0, i2 = 0.0, p = 0.0;
  for (int h = 1; h <= kMaxHarmonicOrder; ++h) {
    const std::complex<double> v = voltage_[static_cast<size_t>(h)];
    const std::complex<double> i = flowing ? load.at(h) : std::complex<double>{};
    v2 += std::norm(v);
    i2 += std::norm(i);
    p += (v * std::conj(i)).real();
  }
  out.vrms = std::sqrt(v2);
  out.irms = std::sqrt(i2);
  out.p_w = p;
  out.q_var = flowing ? (voltage_[1] * std::conj(load.at(1))).imag() : 0.0;
  out.s_va = out.vrms * out.irms;
  out.pf = out.s_va > 0.0 ? std::abs(p) / out.s_va * (out.q_var < 0.0 ? -1.0 : 1.0) : 1.0;
  out.i_phase_rms = std::abs(config_.wiring.phase_clamp_fraction) * out.irms;
  out.i_neutral_rms = std::abs(config_.wiring.neutral_clamp_fraction) * out.irms;
  return out;
}

void MeterSimulator::start_ledger_entry(int64_t start) {
  LedgerEntry entry;
  entry.start = start;
  entry.values = values_for(segment_.load, relay_closed_);
  entry.relay_closed = relay_closed_;
  if (!ledger_.empty()) {
    const LedgerEntry& last = ledger_.back();
    const double e_wh = last.values.p_w * static_cast<double>(start - last.start) / rate_ / 3600.0;
    entry.e_import_wh = last.e_import_wh + (e_wh > 0.0 ? e_wh : 0.0);
    entry.e_export_wh = last.e_export_wh + (e_wh < 0.0 ? -e_wh : 0.0);
    if (last.start == start) ledger_.pop_back();  // superseded before any sample used it
  }
  ledger_.push_back(entry);
  while (ledger_.size() > config_.truth_history) ledger_.pop_front();
}

void MeterSimulator::compute_coefficients(double f_hz) {
  const bool flowing = relay_closed_ && config_.grid.present;
  const LoadPhasors load = flowing ? segment_.load : LoadPhasors{};
  const double cpv = config_.adc.counts_per_volt();
  const VoltageSensorConfig& vs = config_.voltage_sensor;
  const double f_nom = config_.nominal_frequency_hz;
  const double kv = vs.connected ? vs.ratio_v_per_v * cpv * kSqrt2 : 0.0;
  const double frac_i = config_.wiring.phase_clamp_fraction;
  const double frac_n = config_.wiring.neutral_clamp_fraction;
  const double ki = volts_per_amp(config_.phase_clamp) * cpv * kSqrt2 * frac_i;
  const double kn = volts_per_amp(config_.neutral_clamp) * cpv * kSqrt2 * frac_n;
  const double irms = load.irms();
  const double lead_i = ct_lead_deg(config_.phase_clamp, frac_i * irms);
  const double lead_n = ct_lead_deg(config_.neutral_clamp, frac_n * irms);
  const double skew_s = config_.channel_skew_us * 1e-6;

  orders_ = 0;
  for (int h = 1; h <= kMaxHarmonicOrder; ++h) {
    const std::complex<double> v = voltage_[static_cast<size_t>(h)] * kv;
    const std::complex<double> cur = load.at(h);
    if (v == 0.0 && cur == 0.0) continue;
    const double fh = h * f_hz;
    const std::complex<double> cv = v * std::polar(1.0, first_order_lead_deg(vs.phase_lead_deg, f_nom, fh) * kDeg);
    const std::complex<double> ci =
        cur * ki * std::polar(1.0, (first_order_lead_deg(lead_i, f_nom, fh) + 360.0 * fh * skew_s) * kDeg);
    const std::complex<double> cn =
        cur * kn * std::polar(1.0, (first_order_lead_deg(lead_n, f_nom, fh) + 720.0 * fh * skew_s) * kDeg);
    const auto k = static_cast<size_t>(orders_++);
    order_[k] = h;
    // sample = Im(C z^h) = C.re * sin + C.im * cos
    cv_re_[k] = cv.real();
    cv_im_[k] = cv.imag();
    ci_re_[k] = ci.real();
    ci_im_[k] = ci.imag();
    cn_re_[k] = cn.real();
    cn_im_[k] = cn.imag();
  }
  const double offset = config_.adc.offset_counts;
  dc_v_ = vs.bias_v * cpv + offset;
  dc_i_ = dc_n_ = config_.clamp_bias.bias_v() * cpv + offset;
  sat_i_ = config_.phase_clamp.saturation_a * volts_per_amp(config_.phase_clamp) * cpv;
  sat_n_ = config_.neutral_clamp.saturation_a * volts_per_amp(config_.neutral_clamp) * cpv;
  coeff_freq_hz_ = f_hz;
  dirty_ = false;
}

void MeterSimulator::begin_block() {
  if (pos_ >= segment_end_) advance_segment();
  const double t = static_cast<double>(pos_) / rate_;
  const double f = clock_.frequency_at(t);
  if (dirty_ || std::abs(f - coeff_freq_hz_) > kCoefficientRetuneHz) compute_coefficients(f);

  int64_t end = pos_ + (clock_.constant() ? kConstantBlock : kDriftBlock);
  int64_t step = index_at_or_after(clock_.next_step_after(t));
  if (step <= pos_) step = pos_ + 1;
  end = std::min({end, segment_end_, step});

  const double c0 = clock_.cycles_at(t);
  const double cycles_per_sample =
      clock_.constant() ? f / rate_
                        : clock_.cycles_between(t, static_cast<double>(end) / rate_) / static_cast<double>(end - pos_);
  // One sin/cos pair each for the fundamental's phase and step; the harmonics' are their
  // powers (15 multiplies at most, rounding ~1e-15), so drifting blocks stay cheap.
  const std::complex<double> z1 = std::polar(1.0, 2.0 * kPi * c0);
  const std::complex<double> w1 = std::polar(1.0, 2.0 * kPi * cycles_per_sample);
  std::complex<double> zh = 1.0, wh = 1.0;
  int h = 0;
  for (int k = 0; k < orders_; ++k) {
    const auto kk = static_cast<size_t>(k);
    while (h < order_[kk]) {
      zh *= z1;
      wh *= w1;
      ++h;
    }
    zr_[kk] = zh.real();
    zi_[kk] = zh.imag();
    wr_[kk] = wh.real();
    wi_[kk] = wh.imag();
  }
  block_end_ = end;
}

template <bool kSaturate, class Sink>
void MeterSimulator::run(size_t count, Sink sink) {
  // Locals so the compiler keeps the per-sample state in registers.
  const int orders = orders_;
  std::array<double, kMaxOrders> zr = zr_, zi = zi_;
  const std::array<double, kMaxOrders> wr = wr_, wi = wi_;
  const double dc_v = dc_v_, dc_i = dc_i_, dc_n = dc_n_;
  const double noise = noise_, inl = inl_, two_over = two_over_codes_, max_code = max_code_;
  const double sat_i = sat_i_, sat_n = sat_n_;
  const float* gauss = gauss_;
  for (size_t s = 0; s < count; ++s) {
    // Two accumulators per channel halve the chain of dependent additions when several
    // harmonics are present (the additions, not the multiplies, bound the loop).
    double av0 = 0.0, ai0 = 0.0, an0 = 0.0, av1 = 0.0, ai1 = 0.0, an1 = 0.0;
    int k = 0;
    for (; k + 1 < orders; k += 2) {
      const auto a = static_cast<size_t>(k), b = a + 1;
      const double ra = zr[a], ma = zi[a], rb = zr[b], mb = zi[b];
      av0 += cv_re_[a] * ma + cv_im_[a] * ra;
      ai0 += ci_re_[a] * ma + ci_im_[a] * ra;
      an0 += cn_re_[a] * ma + cn_im_[a] * ra;
      av1 += cv_re_[b] * mb + cv_im_[b] * rb;
      ai1 += ci_re_[b] * mb + ci_im_[b] * rb;
      an1 += cn_re_[b] * mb + cn_im_[b] * rb;
      zr[a] = ra * wr[a] - ma * wi[a];
      zi[a] = ra * wi[a] + ma * wr[a];
      zr[b] = rb * wr[b] - mb * wi[b];
      zi[b] = rb * wi[b] + mb * wr[b];
    }
    if (k < orders) {
      const auto a = static_cast<size_t>(k);
      const double ra = zr[a], ma = zi[a];
      av0 += cv_re_[a] * ma + cv_im_[a] * ra;
      ai0 += ci_re_[a] * ma + ci_im_[a] * ra;
      an0 += cn_re_[a] * ma + cn_im_[a] * ra;
      zr[a] = ra * wr[a] - ma * wi[a];
      zi[a] = ra * wi[a] + ma * wr[a];
    }
    double av = av0 + av1, ai = ai0 + ai1, an = an0 + an1;
    if constexpr (kSaturate) {
      if (sat_i > 0.0) ai = sat_i * std::tanh(ai / sat_i);
      if (sat_n > 0.0) an = sat_n * std::tanh(an / sat_n);
    }
    double xv = dc_v + av, xi = dc_i + ai, xn = dc_n + an;
    if (inl != 0.0) {
      const double uv = xv * two_over - 1.0, ui = xi * two_over - 1.0, un = xn * two_over - 1.0;
      const double uv2 = uv * uv, ui2 = ui * ui, un2 = un * un;
      xv -= inl * uv2 * uv2 * uv2;
      xi -= inl * ui2 * ui2 * ui2;
      xn -= inl * un2 * un2 * un2;
    }
    if (noise != 0.0) {
      const uint64_t bits = rng_.next_u64();
      xv += noise * gauss[bits >> 52];
      xi += noise * gauss[(bits >> 40) & 0xfff];
      xn += noise * gauss[(bits >> 28) & 0xfff];
    }
    sink.put(s, quantize(xv, max_code), quantize(xi, max_code), quantize(xn, max_code));
  }
  zr_ = zr;
  zi_ = zi;
}

template <class Sink>
void MeterSimulator::produce(size_t count, Sink sink) {
  size_t done = 0;
  while (done < count) {
    if (pos_ >= block_end_) begin_block();
    const size_t n = std::min(count - done, static_cast<size_t>(block_end_ - pos_));
    if (sat_i_ > 0.0 || sat_n_ > 0.0) {
      run<true>(n, sink.advanced(done));
    } else {
      run<false>(n, sink.advanced(done));
    }
    pos_ += static_cast<int64_t>(n);
    done += n;
    if (pos_ >= segment_end_) advance_segment();
  }
}

SampleSet MeterSimulator::next() {
  SampleSet out;
  produce(1, AosSink{&out});
  return out;
}

void MeterSimulator::generate(std::span<SampleSet> out) { produce(out.size(), AosSink{out.data()}); }

void MeterSimulator::generate(uint16_t* v, uint16_t* i, uint16_t* n, size_t count) { produce(count, SoaSink{v, i, n}); }

void MeterSimulator::skip(int64_t count) {
  while (count > 0) {
    if (pos_ >= block_end_) begin_block();
    const int64_t n = std::min(count, block_end_ - pos_);
    pos_ += n;
    count -= n;
    block_end_ = pos_;  // the phasors were not rotated: re-derive them at the next sample
    if (pos_ >= segment_end_) advance_segment();
  }
}

void MeterSimulator::set_relay_closed(bool closed) {
  if (closed == relay_closed_) return;
  relay_closed_ = closed;
  start_ledger_entry(pos_);
  dirty_ = true;
  block_end_ = pos_;
}

void MeterSimulator::set_wiring(const Wiring& wiring) {
  config_.wiring = wiring;
  start_ledger_entry(pos_);
  dirty_ = true;
  block_end_ = pos_;
}

void MeterSimulator::set_voltage_connected(bool connected) {
  config_.voltage_sensor.connected = connected;
  dirty_ = true;
  block_end_ = pos_;
}

Truth MeterSimulator::make_truth(const LedgerEntry& entry, int64_t index) const {
  Truth t;
  t.sample_index = index;
  t.t_s = static_cast<double>(index) / rate_;
  const Values& v = entry.values;
  t.vrms = v.vrms;
  t.irms = v.irms;
  t.p_w = v.p_w;
  t.q_var = v.q_var;
  t.s_va = v.s_va;
  t.pf = v.pf;
  t.freq_hz = config_.grid.present ? clock_.frequency_at(t.t_s) : 0.0;
  const double e_wh = v.p_w * static_cast<double>(index - entry.start) / rate_ / 3600.0;
  t.e_import_wh = entry.e_import_wh + (e_wh > 0.0 ? e_wh : 0.0);
  t.e_export_wh = entry.e_export_wh + (e_wh < 0.0 ? -e_wh : 0.0);
  t.i_phase_clamp_rms = v.i_phase_rms;
  t.i_neutral_clamp_rms = v.i_neutral_rms;
  t.relay_closed = entry.relay_closed;
  return t;
}

Truth MeterSimulator::truth() const { return make_truth(ledger_.back(), pos_); }

std::optional<Truth> MeterSimulator::truth_at(int64_t index) const {
  if (index < 0) return std::nullopt;
  if (index <= pos_) {
    if (index < ledger_.front().start) return std::nullopt;
    auto it = std::upper_bound(ledger_.begin(), ledger_.end(), index,
                               [](int64_t i, const LedgerEntry& e) { return i < e.start; });
    return make_truth(*(it - 1), index);
  }
  // Ahead of the stream: walk the profile's segments from here, as generation will.
  LedgerEntry entry = ledger_.back();
  LoadSegment seg = segment_;
  int64_t seg_end = segment_end_;
  while (seg_end <= index) {
    const Truth at_end = make_truth(entry, seg_end);
    const double t = seg.end_s;
    seg = profile_->segment_at(t);
    if (!(seg.end_s > t)) seg.end_s = std::nextafter(t, std::numeric_limits<double>::infinity());
    entry.start = seg_end;
    entry.e_import_wh = at_end.e_import_wh;
    entry.e_export_wh = at_end.e_export_wh;
    entry.values = values_for(seg.load, relay_closed_);
    seg_end = index_at_or_after(seg.end_s);
  }
  return make_truth(entry, index);
}

}  // namespace wattguard::sim
