// Settings of the server's theft analysis ([theft] in the configuration file, docs/configuration.md).
#pragma once

#include <cstdint>

namespace wattguard::grid {

// [theft] in the server configuration (docs/configuration.md).
struct TheftOptions {
  bool enabled = true;
  int64_t cycle_s = 900;   // how often a cycle runs
  int64_t settle_s = 300;  // an interval is analysed once it ended this long ago (late readings)
  // A transformer's analysis waits up to this long for its check meter's readings (a check meter read by
  // another system and imported once a day); beyond it, the intervals are analysed without them. 0: no wait.
  int64_t check_wait_s = 26 * 3600;
  int calibration_days = 14;            // history that fits each transformer's technical-loss model before testing
  int history_days = 21;                // re-fed from the store at start-up; must exceed calibration_days
  int32_t utc_offset_s = 0;             // local day boundaries for the consumption patterns
  double cusum_k = 2.0;                 // balance allowance per interval, in sigma
  double cusum_h_min = 20.0;            // balance alarm threshold floor, in sigma
  double pattern_alone = 0.97;          // pattern probability that flags a consumer without a balance alert
  double min_loss_share = 0.2;          // share of the unexplained loss a consumer must explain to be flagged
  double min_hourly_correlation = 0.2;  // hourly loss vs a consumer's shortfall, for shortfall flags (0 = off)
  double quiet_weight = 0.5;            // rank weight of the daily fit while the balance is quiet (0 = off)
  int series_intervals = 96;            // balance intervals kept per transformer for the API
};

}  // namespace wattguard::grid
