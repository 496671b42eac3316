// The simulated meter front end: supply + loads -> sensors -> ADC counts, with exact truth.
//
// Per sample, each harmonic order present is a unit phasor rotated by one complex multiply
// (no sin/cos per sample); the phasors are re-derived exactly from the supply's phase every
// few thousand samples (a few dozen when the frequency drifts), so rounding never builds up.
// Noise comes from a table-based Gaussian fed by xoshiro256**. Everything is deterministic
// from SimConfig::seed and the profile.
//
// Thread safety: none; one simulator per thread. Profiles are thread-safe (immutable, or
// locked like HouseholdProfile's day cache) and may be shared.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>

#include "wattguard/base/expected.h"
#include "wattguard/sim/grid.h"
#include "wattguard/sim/load_profile.h"
#include "wattguard/sim/random.h"
#include "wattguard/sim/sample_set.h"
#include "wattguard/sim/sim_config.h"
#include "wattguard/sim/truth.h"

namespace wattguard::sim {

class MeterSimulator {
 public:
  // validate(config)'s Error, or one naming `profile` when it is null.
  static Expected<void> validate(const SimConfig& config, const LoadProfile* profile);
  // Validates, then builds: the way to make one from input that has not been checked.
  static Expected<std::unique_ptr<MeterSimulator>> create(const SimConfig& config,
                                                          std::shared_ptr<const LoadProfile> profile);
  // REQUIRES: validate(config, profile.get()) is ok (asserted: a bad configuration here is a bug).
  MeterSimulator(const SimConfig& config, std::shared_ptr<const LoadProfile> profile);

  // The next sample set.
  SampleSet next();
  // The next out.size() sample sets.
  void generate(std::span<SampleSet> out);
  // The next `count` sample sets as separate channel arrays (as a DMA buffer would hold
  // them); `n` may be null when the neutral channel is not wanted.
  void generate(uint16_t* v, uint16_t* i, uint16_t* n, size_t count);
  // Advances by `count` samples without producing them (truth still accumulates).
  void skip(int64_t count);

  // Index of the next sample to be produced (= samples produced so far).
  int64_t position() const { return pos_; }
  double time_s() const { return static_cast<double>(pos_) / rate_; }

  // Truth at the current position: the load about to be sampled and the energy of every
  // sample produced so far.
  Truth truth() const;
  // Truth at any sample index: in the past as long as it is within the kept history
  // (SimConfig::truth_history load segments), in the future assuming no further
  // set_relay() calls. nullopt if the index is negative or too old.
  std::optional<Truth> truth_at(int64_t sample_index) const;

  // Changes taking effect from the next sample.
  void set_relay_closed(bool closed);          // open: the load draws nothing (truth too)
  void set_wiring(const Wiring& wiring);       // what the clamps see; truth unaffected
  void set_voltage_connected(bool connected);  // voltage link (tamper); truth unaffected
  bool relay_closed() const { return relay_closed_; }

  const SimConfig& config() const { return config_; }

 private:
  static constexpr int kMaxOrders = kMaxHarmonicOrder;
  // Truth about one stretch of samples with a constant load.
  struct Values {
    double vrms = 0, irms = 0, p_w = 0, q_var = 0, s_va = 0, pf = 0;
    double i_phase_rms = 0, i_neutral_rms = 0;
  };
  struct LedgerEntry {
    int64_t start = 0;       // first sample of the stretch
    double e_import_wh = 0;  // energy before `start`
    double e_export_wh = 0;
    Values values;
    bool relay_closed = true;
  };

  void begin_block();
  void advance_segment();
  void start_ledger_entry(int64_t start);
  void compute_coefficients(double f_hz);
  Values values_for(const LoadPhasors& load, bool relay_closed) const;
  Truth make_truth(const LedgerEntry& entry, int64_t index) const;
  int64_t index_at_or_after(double t_s) const;
  template <bool kSaturate, class Sink>
  void run(size_t count, Sink sink);
  template <class Sink>
  void produce(size_t count, Sink sink);

  SimConfig config_;
  std::shared_ptr<const LoadProfile> profile_;
  GridClock clock_;
  std::vector<std::complex<double>> voltage_;  // grid voltage phasors per order
  double rate_;

  // Position and the load segment in force.
  int64_t pos_ = 0;
  LoadSegment segment_;
  int64_t segment_end_ = 0;  // first sample index after the segment
  int64_t block_end_ = 0;    // first sample index where begin_block() must run
  bool dirty_ = true;        // coefficients must be recomputed
  bool relay_closed_ = true;
  double coeff_freq_hz_ = 0.0;  // frequency the coefficients were computed for

  // Per-sample state, structure of arrays over the orders present.
  int orders_ = 0;
  std::array<int, kMaxOrders> order_{};
  std::array<double, kMaxOrders> zr_{}, zi_{}, wr_{}, wi_{};
  std::array<double, kMaxOrders> cv_re_{}, cv_im_{}, ci_re_{}, ci_im_{}, cn_re_{}, cn_im_{};
  double dc_v_ = 0, dc_i_ = 0, dc_n_ = 0;  // counts at zero signal
  double sat_i_ = 0, sat_n_ = 0;           // saturation level in counts (0: none)
  double noise_ = 0, inl_ = 0, two_over_codes_ = 0, max_code_ = 0;
  Rng rng_;
  const float* gauss_;

  std::deque<LedgerEntry> ledger_;
};

}  // namespace wattguard::sim
