// Turns one Blynk device's pin writes into readings: a period's writes (V0..V5 every 5 s in the usual sketch)
// become one protocol::Reading for the same pipeline as MQTT. Thread safety: none; one per connection.
//
// A period ends, and its reading is emitted, when
//   - every mapped measurement pin has been written (the usual sketch: on its V5 write),
//   - a pin is written a second time (the sketch's next period began without writing every pin),
//   - a GROUP end arrives, or
//   - the writes have been quiet for `quiet_ms` (sketches that write only some pins), see on_tick().
// The reading's time is the arrival of the period's last write, or the GROUP `t` timestamp when one was sent.
//
// Derived fields, where the sketch leaves them out:
//   - S from V x I; P from S x pf; pf from P / S (1 when S is 0).
//   - Q = sqrt(S^2 - P^2) when S and P are both known. The sign of Q cannot be seen from S and P: we report it
//     positive (inductive), as the loads of a household mostly are.
//   - Energy: V5 (kWh) x 1000 is the import register. Without an energy pin the register is integrated from
//     real power between this device's readings (import for P > 0, export for P < 0), starting from the meter's
//     last stored registers; the first reading of a connection adds nothing (no interval is known yet).
//   - The relay: its last state (from the relay pin, or the meter's state at login) sets kFlagRelayOpen.
//   - Frequency is 0 unless a pin is mapped to it (the sketch measures none).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "wattguard/blynk/pin_map.h"
#include "wattguard/protocol/messages.h"

namespace wattguard::blynk {

class ReadingAssembler {
 public:
  // `last` is the meter's newest stored reading (for the energy registers and relay state), if any.
  ReadingAssembler(std::string meter_id, const PinMap& map, int64_t quiet_ms,
                   const std::optional<protocol::Reading>& last);

  // One measurement or relay value written at `now_ms`. Returns the reading of the period this write ended
  // (a repeat closes the previous period before the write counts towards the next).
  std::optional<protocol::Reading> on_write(PinField field, double value, int64_t now_ms);
  // GROUP begin (with an optional timestamp for the writes that follow) and end.
  std::optional<protocol::Reading> on_group_begin(std::optional<int64_t> time_ms, int64_t now_ms);
  std::optional<protocol::Reading> on_group_end(int64_t now_ms);
  // Emits the pending period once its writes have been quiet for quiet_ms.
  std::optional<protocol::Reading> on_tick(int64_t now_ms);
  // When on_tick() next has something to do; nullopt when nothing is pending.
  std::optional<int64_t> deadline_ms() const;

  // The relay state as last written by the device or set at login.
  protocol::RelayState relay() const { return relay_; }
  void set_relay(protocol::RelayState relay) { relay_ = relay; }

 private:
  std::optional<protocol::Reading> emit();

  std::string meter_id_;
  const PinMap& map_;
  int64_t quiet_ms_;
  std::array<std::optional<double>, kPinFieldCount> values_{};  // this period's values by PinField
  int written_ = 0;                                             // measurement fields written this period
  int64_t last_write_ms_ = 0;
  bool in_group_ = false;
  std::optional<int64_t> group_time_ms_;
  protocol::RelayState relay_ = protocol::RelayState::kUnknown;
  double import_wh_ = 0;
  double export_wh_ = 0;
  int64_t previous_time_ms_ = 0;  // time of this connection's previous reading; 0 = none yet
};

}  // namespace wattguard::blynk
