// One Blynk device connection as a pure state machine: bytes in, frames out plus what the server must do
// (look up a token, submit readings and acks, close). No I/O, no clock, no locks: the caller passes the time
// and carries out the actions, so every rule here is testable without a socket.
// Thread safety: none; a connection drives its session from one strand.
//
// Rules (wire facts in docs/bring-your-own-meter.md):
//   - The first frame must be LOGIN (2) or HW_LOGIN (29) with the token; anything else: status 5, close.
//     The server answers the lookup with on_login(): 200 and the session is active, or 9 and close.
//   - PING: 200. RESPONSE frames from the device: ignored. INTERNAL: `h-beat` and `buff-in` are honoured (no
//     frame we send is longer than buff-in or 256 bytes). PROPERTY, BRIDGE, EVENT_LOG, EVENT_CLEAR: tolerated.
//   - HARDWARE `vw` pin value...: the value is kept for sync; mapped pins go to the ReadingAssembler. A value
//     that is not a finite number on a mapped pin: status 11, counted, the session goes on. `dw`/`aw`/`pm`:
//     tolerated. Another op: status 2.
//   - HARDWARE_SYNC with an empty body (all pins) or `vr` NUL pins...: one HARDWARE `vw` frame per pin that has a
//     value (the relay pin's from the meter's relay state when the device never wrote it).
//   - GROUP `b` / `t` NUL ms / `e`: the writes between belong to one reading (time from `t`).
//   - An unknown command: status 2. A malformed body: status 11.
//   - More than max_messages_per_s (with a burst of twice that): status 1 (at most once a second) and the frame
//     is dropped.
//   - Silent for heartbeat_factor x h-beat: closed. Not logged in within login_timeout_ms: closed.
//   - A relay command becomes `vw` NUL <relay pin> NUL 1|0 to the device; the device's next write of the relay
//     pin with that value acknowledges it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wattguard/blynk/frame.h"
#include "wattguard/blynk/pin_map.h"
#include "wattguard/blynk/reading_assembler.h"
#include "wattguard/protocol/messages.h"

namespace wattguard::blynk {

struct SessionLimits {
  int64_t login_timeout_ms = 10'000;  // a connection that has not logged in by then is closed
  int default_heartbeat_s = 40;       // the 1.x library's BLYNK_HEARTBEAT, until its INTERNAL says otherwise
  double heartbeat_factor = 2.5;      // silent for this many heartbeats: dropped
  int max_messages_per_s = 100;       // per device, sustained
  int64_t quiet_ms = 1000;            // a period's writes end after this much quiet
};

// Why a frame or a connection was refused; counted by the server (the names appear in its stats).
enum class Refusal : uint8_t {
  kTooLarge,          // "too_large": a frame over the size cap (connection closed)
  kZeroId,            // "zero_id": message id 0 (connection closed)
  kBeforeLogin,       // "not_authenticated": a command before login (status 5, closed)
  kInvalidToken,      // "invalid_token": unknown token (status 9, closed)
  kUnknownCommand,    // "unknown_command": status 2
  kMalformedBody,     // "malformed_body": status 11
  kBadValue,          // "bad_value": a non-numeric or non-finite value on a mapped pin (status 11)
  kQuota,             // "quota": over the message rate (status 1, frame dropped)
  kHeartbeatTimeout,  // "heartbeat_timeout": silent too long (closed)
  kLoginTimeout,      // "login_timeout": never logged in (closed)
  kReadingRefused,    // "reading_refused": ingest refused the assembled reading (out of range...)
};
inline constexpr std::size_t kRefusalCount = 11;
const char* refusal_name(Refusal refusal);

// What the server found for a token.
struct LoginGrant {
  std::string meter_id;
  std::optional<protocol::Reading> last_reading;  // for sync answers and the energy registers
  protocol::RelayState relay = protocol::RelayState::kUnknown;
  // The meter's pin map, when it is not the one the session was made with. REQUIRES: outlives the session.
  const PinMap* pin_map = nullptr;
};

// The results of one call into the session, in the order they happened.
struct SessionOutput {
  std::string send;                        // bytes for the device
  bool close = false;                      // close the connection once `send` is written
  std::optional<std::string> login_token;  // look this token up and call on_login()
  bool logged_in = false;                  // the login just succeeded
  std::vector<protocol::Reading> readings;
  std::vector<protocol::CommandAck> acks;
  std::vector<Refusal> refusals;
  uint32_t frames_in = 0;
  uint32_t frames_out = 0;
  // INTERNAL info fields of interest, when the device sent them.
  std::optional<std::string> firmware;
};

class Session {
 public:
  enum class State : uint8_t { kAwaitingLogin, kLoggingIn, kActive, kClosed };

  // `map` serves until a login grant brings the meter's own. REQUIRES: `map` outlives the session.
  Session(const PinMap& map, SessionLimits limits, int64_t now_ms);

  void on_bytes(std::string_view bytes, int64_t now_ms, SessionOutput& out);
  // The answer to out.login_token: the meter, or nullopt for a token that is not known. Frames that arrived
  // while the lookup ran are handled now.
  void on_login(std::optional<LoginGrant> grant, int64_t now_ms, SessionOutput& out);
  // Timers: the quiet end of a period, heartbeat and login timeouts.
  void on_tick(int64_t now_ms, SessionOutput& out);
  // A command for this device. Relay commands become a `vw` to the device and wait for its write; ping is
  // acknowledged at once (the device is connected); others are refused with an ack (ok = false). Returns false
  // when the session cannot deliver now (not active).
  bool on_command(const protocol::Command& command, int64_t now_ms, SessionOutput& out);
  // The device's connection ended: the pending period's reading, if any.
  void on_close(SessionOutput& out);

  // When on_tick() next has something to do.
  int64_t deadline_ms() const;
  State state() const { return state_; }
  const std::string& meter_id() const { return meter_id_; }
  uint16_t login_command() const { return login_command_; }

 private:
  void process(int64_t now_ms, SessionOutput& out);
  void handle(const Frame& frame, int64_t now_ms, SessionOutput& out);
  void handle_hardware(const Frame& frame, int64_t now_ms, SessionOutput& out);
  void handle_sync(const Frame& frame, SessionOutput& out);
  void handle_group(const Frame& frame, int64_t now_ms, SessionOutput& out);
  void handle_internal(const Frame& frame, SessionOutput& out);
  void write_pin(int pin, double value, int64_t now_ms, SessionOutput& out);
  bool take_token(int64_t now_ms);
  void respond(uint16_t id, Status status, SessionOutput& out);
  void send_frame(Command command, uint16_t id, std::string_view body, SessionOutput& out);
  void refuse(Refusal refusal, uint16_t id, Status status, SessionOutput& out);
  void close(Refusal refusal, uint16_t id, std::optional<Status> status, SessionOutput& out);
  void push_reading(std::optional<protocol::Reading> reading, SessionOutput& out);
  uint16_t next_id();

  struct PendingRelay {
    std::string command_id;
    bool on = false;
  };

  const PinMap* map_;  // never null
  SessionLimits limits_;
  State state_ = State::kAwaitingLogin;
  FrameReader reader_;
  int64_t opened_ms_;
  int64_t last_rx_ms_;
  int heartbeat_s_;
  std::size_t max_send_ = kMaxOutgoingFrameBytes;
  uint16_t login_id_ = 0;
  uint16_t login_command_ = 0;
  uint16_t out_id_ = 0;
  std::string meter_id_;
  std::optional<ReadingAssembler> assembler_;
  std::map<int, std::string> pin_values_;  // NUL-joined values per virtual pin, for sync
  std::deque<PendingRelay> pending_relay_;
  double tokens_;
  int64_t tokens_ms_;
  int64_t last_quota_reply_ms_ = -1'000'000;
};

}  // namespace wattguard::blynk
