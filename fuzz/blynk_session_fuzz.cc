// libFuzzer target: a Blynk device connection (blynk::Session, server/blynk/session.cc) driven by arbitrary bytes
// from a device, with the login granted, time moving and the connection closing at the end, as the listener
// drives it.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "wattguard/blynk/frame.h"
#include "wattguard/blynk/pin_map.h"
#include "wattguard/blynk/session.h"

namespace {

using namespace wattguard::blynk;

void check_output(const SessionOutput& out) {
  // Every frame we send reads back whole and fits the library's receive buffer.
  FrameReader sent(kMaxOutgoingFrameBytes);
  sent.append(out.send);
  for (;;) {
    auto frame = sent.next();
    WATTGUARD_FUZZ_CHECK(frame.ok());
    if (!frame.value()) break;
    WATTGUARD_FUZZ_CHECK(kHeaderBytes + frame.value()->body.size() <= kMaxOutgoingFrameBytes);
  }
  WATTGUARD_FUZZ_CHECK(sent.buffered() == 0);
  for (const auto& r : out.readings) {
    WATTGUARD_FUZZ_CHECK(r.meter_id == "m1");
    WATTGUARD_FUZZ_CHECK(std::isfinite(r.vrms) && std::isfinite(r.irms) && std::isfinite(r.p_w) &&
                         std::isfinite(r.s_va) && std::isfinite(r.pf) && std::isfinite(r.e_import_wh));
  }
}

}  // namespace

// The entry point libFuzzer calls; its name is libFuzzer's, not ours.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {  // NOLINT(readability-identifier-naming)
  if (size < 2) return 0;
  // Byte 0: how the stream is cut into reads; byte 1: how far the clock moves between reads.
  const size_t chunk = 1 + data[0] % 32;
  const int64_t step_ms = int64_t{data[1]} * 97;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);
  static const PinMap kPinMap = PinMap::standard();
  int64_t now_ms = 1'750'000'000'000;
  Session session(kPinMap, SessionLimits{}, now_ms);
  for (size_t at = 0; at < stream.size() && session.state() != Session::State::kClosed; at += chunk) {
    SessionOutput out;
    session.on_bytes(stream.substr(at, chunk), now_ms, out);
    if (out.login_token) {
      LoginGrant grant;
      grant.meter_id = "m1";
      grant.relay = wattguard::protocol::RelayState::kOn;
      session.on_login(grant, now_ms, out);
    }
    now_ms += step_ms;
    session.on_tick(now_ms, out);
    check_output(out);
  }
  SessionOutput last;
  session.on_close(last);
  check_output(last);
  return 0;
}
