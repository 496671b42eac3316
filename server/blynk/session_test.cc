// The Blynk session: login (both commands), ping, pin writes into readings, sync, relay commands and their
// acks, and every refusal: before login, wrong token, unknown command, bad bodies, bad values, rate, timeouts.
#include "wattguard/blynk/session.h"

#include <gtest/gtest.h>

#include <random>

#include "wattguard/test_support/text_damage.h"

namespace wattguard::blynk {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000;

std::string vw(uint16_t id, int pin, std::string_view value) {
  return encode_frame(Command::kHardware, id, join_fields({"vw", std::to_string(pin), value}));
}

// Every frame in `bytes`, decoded.
std::vector<Frame> frames(const std::string& bytes) {
  FrameReader reader;
  reader.append(bytes);
  std::vector<Frame> out;
  for (;;) {
    auto f = reader.next();
    if (!f.ok() || !f->has_value()) return out;
    out.push_back(std::move(**f));
  }
}

class BlynkSession : public ::testing::Test {
 protected:
  // A session logged in as meter "m1" with `command` (29 or 2).
  Session logged_in(uint8_t command = 29, std::optional<protocol::Reading> last = std::nullopt) {
    Session s(map_, limits_, kT0);
    SessionOutput out;
    s.on_bytes(encode_frame(static_cast<Command>(command), 1, std::string(32, 't')), kT0, out);
    EXPECT_EQ(out.login_token, std::string(32, 't'));
    EXPECT_TRUE(out.send.empty());  // nothing until the token is looked up
    SessionOutput granted;
    LoginGrant grant{"m1", std::move(last), protocol::RelayState::kOn};
    s.on_login(grant, kT0, granted);
    EXPECT_TRUE(granted.logged_in);
    EXPECT_EQ(granted.send, encode_response(1, Status::kSuccess));
    return s;
  }

  PinMap map_ = PinMap::standard();
  SessionLimits limits_;
};

TEST_F(BlynkSession, BothLoginCommandsAreAnsweredWithOkOnTheirId) {
  for (uint8_t command : {uint8_t{2}, uint8_t{29}}) {
    Session s = logged_in(command);
    EXPECT_EQ(s.state(), Session::State::kActive);
    EXPECT_EQ(s.meter_id(), "m1");
    EXPECT_EQ(s.login_command(), command);
  }
}

TEST_F(BlynkSession, AWrongTokenGetsStatus9AndTheConnectionCloses) {
  Session s(map_, limits_, kT0);
  SessionOutput out;
  s.on_bytes(encode_frame(Command::kHwLogin, 1, "wrong"), kT0, out);
  SessionOutput refused;
  s.on_login(std::nullopt, kT0, refused);
  EXPECT_EQ(refused.send, encode_response(1, Status::kInvalidToken));
  EXPECT_TRUE(refused.close);
  ASSERT_EQ(refused.refusals.size(), 1u);
  EXPECT_EQ(refused.refusals[0], Refusal::kInvalidToken);
}

TEST_F(BlynkSession, ACommandBeforeLoginGetsStatus5AndTheConnectionCloses) {
  Session s(map_, limits_, kT0);
  SessionOutput out;
  s.on_bytes(vw(1, 0, "230"), kT0, out);
  EXPECT_EQ(out.send, encode_response(1, Status::kNotAuthenticated));
  EXPECT_TRUE(out.close);
  EXPECT_EQ(out.refusals.at(0), Refusal::kBeforeLogin);
  EXPECT_TRUE(out.readings.empty());
}

TEST_F(BlynkSession, FramesThatArriveWithTheLoginAreHandledOnceTheTokenIsKnown) {
  Session s(map_, limits_, kT0);
  SessionOutput out;
  s.on_bytes(encode_frame(Command::kHwLogin, 1, "tok") + encode_frame(Command::kPing, 2, ""), kT0, out);
  EXPECT_TRUE(out.send.empty());
  SessionOutput granted;
  s.on_login(LoginGrant{"m1", std::nullopt, protocol::RelayState::kUnknown}, kT0, granted);
  EXPECT_EQ(granted.send, encode_response(1, Status::kSuccess) + encode_response(2, Status::kSuccess));
}

TEST_F(BlynkSession, PingIsAnsweredAndSixPinWritesBecomeOneReading) {
  Session s = logged_in();
  SessionOutput out;
  std::string writes = encode_frame(Command::kPing, 2, "");
  const char* values[] = {"231.500", "2.0000000", "400", "463.000", "0.864", "12.500"};
  for (int pin = 0; pin < 6; ++pin) writes += vw(static_cast<uint16_t>(3 + pin), pin, values[pin]);
  s.on_bytes(writes, kT0 + 100, out);
  EXPECT_EQ(out.send, encode_response(2, Status::kSuccess));  // writes get no answer on success
  ASSERT_EQ(out.readings.size(), 1u);
  EXPECT_EQ(out.readings[0].meter_id, "m1");
  EXPECT_DOUBLE_EQ(out.readings[0].vrms, 231.5);
  EXPECT_DOUBLE_EQ(out.readings[0].e_import_wh, 12500);
  EXPECT_EQ(out.readings[0].time_ms, kT0 + 100);
  EXPECT_EQ(out.frames_in, 7u);
}

// A meter whose sketch writes power on V7 and voltage on V20: its own map arrives with the login grant.
TEST_F(BlynkSession, AMetersOwnPinMapFromTheGrantReplacesTheDefaultAfterLogin) {
  auto own = PinMap::parse("V20=vrms,V7=p_w,V10=relay");
  ASSERT_TRUE(own.ok()) << own.error().message;
  Session s(map_, limits_, kT0);
  SessionOutput out;
  s.on_bytes(encode_frame(Command::kHwLogin, 1, std::string(32, 't')), kT0, out);
  LoginGrant grant{"m7", std::nullopt, protocol::RelayState::kOn, &own.value()};
  SessionOutput granted;
  s.on_login(grant, kT0, granted);
  ASSERT_TRUE(granted.logged_in);
  SessionOutput wrote;
  // V0 is voltage in the default map and nothing in this meter's: it must not reach the reading.
  s.on_bytes(vw(2, 0, "999") + vw(3, 20, "229.5") + vw(4, 7, "1200"), kT0 + 10, wrote);
  EXPECT_TRUE(wrote.refusals.empty());
  ASSERT_EQ(wrote.readings.size(), 1u);  // both measurement pins of this map were written
  EXPECT_DOUBLE_EQ(wrote.readings[0].vrms, 229.5);
  EXPECT_DOUBLE_EQ(wrote.readings[0].p_w, 1200);
}

TEST_F(BlynkSession, InfoPropertiesGroupsAndEventsAreToleratedWithoutAnAnswer) {
  Session s = logged_in();
  SessionOutput out;
  std::string in = encode_frame(Command::kInternal, 2,
                                join_fields({"ver", "1.3.2", "h-beat", "10", "buff-in", "1024", "dev", "ESP32"}));
  in += encode_frame(Command::kProperty, 3, join_fields({"0", "label", "Volts"}));
  in += encode_frame(Command::kEventLog, 4, join_fields({"overload", "too much"}));
  in += encode_frame(Command::kGroup, 5, "b");
  in += encode_frame(Command::kGroup, 6, "e");
  s.on_bytes(in, kT0, out);
  EXPECT_TRUE(out.send.empty());
  EXPECT_TRUE(out.refusals.empty());
  EXPECT_EQ(out.firmware, "1.3.2");
  // h-beat 10: silent for 25 s is the end.
  SessionOutput quiet;
  s.on_tick(kT0 + 24'999, quiet);
  EXPECT_FALSE(quiet.close);
  s.on_tick(kT0 + 25'000, quiet);
  EXPECT_TRUE(quiet.close);
  EXPECT_EQ(quiet.refusals.at(0), Refusal::kHeartbeatTimeout);
}

TEST_F(BlynkSession, UnknownCommandsAndOpsGetStatus2AndMalformedBodiesStatus11) {
  Session s = logged_in();
  SessionOutput out;
  s.on_bytes(encode_frame(static_cast<Command>(99), 2, "x"), kT0, out);
  s.on_bytes(encode_frame(Command::kHardware, 3, join_fields({"zz", "1"})), kT0, out);
  s.on_bytes(encode_frame(Command::kHardware, 4, join_fields({"vw", "1"})), kT0, out);
  s.on_bytes(encode_frame(Command::kHardware, 5, join_fields({"vw", "x", "1"})), kT0, out);
  s.on_bytes(encode_frame(Command::kHardware, 6, ""), kT0, out);
  EXPECT_EQ(out.send, encode_response(2, Status::kIllegalCommand) + encode_response(3, Status::kIllegalCommand) +
                          encode_response(4, Status::kIllegalCommandBody) +
                          encode_response(5, Status::kIllegalCommandBody) +
                          encode_response(6, Status::kIllegalCommandBody));
  EXPECT_FALSE(out.close);
  EXPECT_EQ(s.state(), Session::State::kActive);
}

TEST_F(BlynkSession, ANonNumericOrNonFiniteValueIsRefusedAndTheSessionGoesOn) {
  Session s = logged_in();
  SessionOutput out;
  s.on_bytes(vw(2, 0, "nan") + vw(3, 1, "abc") + vw(4, 2, "inf"), kT0, out);
  ASSERT_EQ(out.refusals.size(), 3u);
  EXPECT_EQ(out.refusals[0], Refusal::kBadValue);
  EXPECT_TRUE(out.readings.empty());
  EXPECT_FALSE(out.close);
  // An unmapped pin keeps any text for sync.
  SessionOutput other;
  s.on_bytes(vw(5, 40, "hello"), kT0, other);
  EXPECT_TRUE(other.refusals.empty());
}

TEST_F(BlynkSession, OversizedFramesAndIdZeroCloseTheConnection) {
  Session big = logged_in();
  SessionOutput out;
  big.on_bytes(std::string("\x14\x00\x09\x20\x00", 5), kT0, out);
  EXPECT_TRUE(out.close);
  EXPECT_EQ(out.refusals.at(0), Refusal::kTooLarge);
  EXPECT_EQ(out.send, encode_response(9, Status::kIllegalCommandBody));

  Session zero = logged_in();
  SessionOutput z;
  zero.on_bytes(encode_frame(Command::kPing, 0, ""), kT0, z);
  EXPECT_TRUE(z.close);
  EXPECT_EQ(z.refusals.at(0), Refusal::kZeroId);
}

TEST_F(BlynkSession, SyncAnswersEachAskedPinWithItsLastValueAndTheRelayFromTheMetersState) {
  protocol::Reading last;
  last.vrms = 229.25;
  last.e_import_wh = 1500;
  Session s = logged_in(29, last);
  SessionOutput out;
  s.on_bytes(vw(2, 1, "3.25") + encode_frame(Command::kHardwareSync, 3, join_fields({"vr", "0", "1", "10", "33"})), kT0,
             out);
  const auto sent = frames(out.send);
  ASSERT_EQ(sent.size(), 3u);  // V33 has no value
  EXPECT_EQ(sent[0].command, 20);
  EXPECT_EQ(sent[0].id, 3);
  EXPECT_EQ(sent[0].body, join_fields({"vw", "0", "229.250"}));
  EXPECT_EQ(sent[1].body, join_fields({"vw", "1", "3.25"}));
  EXPECT_EQ(sent[2].body, join_fields({"vw", "10", "1"}));
  SessionOutput all;
  s.on_bytes(encode_frame(Command::kHardwareSync, 4, ""), kT0, all);
  EXPECT_EQ(frames(all.send).size(), 7u);  // V0..V5 and the relay
}

TEST_F(BlynkSession, ARelayCommandBecomesAPinWriteAndTheDevicesEchoAcknowledgesIt) {
  Session s = logged_in();
  protocol::Command off;
  off.id = "c1";
  off.meter_id = "m1";
  off.kind = protocol::CommandKind::kRelayOff;
  SessionOutput out;
  ASSERT_TRUE(s.on_command(off, kT0, out));
  const auto sent = frames(out.send);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].command, 20);
  EXPECT_NE(sent[0].id, 0);
  EXPECT_EQ(sent[0].body, join_fields({"vw", "10", "0"}));
  EXPECT_TRUE(out.acks.empty());
  SessionOutput wrong;
  s.on_bytes(vw(2, 10, "1"), kT0 + 10, wrong);
  EXPECT_TRUE(wrong.acks.empty());  // not the commanded value
  SessionOutput echo;
  s.on_bytes(vw(3, 10, "0"), kT0 + 20, echo);
  ASSERT_EQ(echo.acks.size(), 1u);
  EXPECT_EQ(echo.acks[0].id, "c1");
  EXPECT_TRUE(echo.acks[0].ok);
  EXPECT_EQ(echo.acks[0].relay, protocol::RelayState::kOff);
  // set_period cannot reach a Blynk sketch: refused at once.
  protocol::Command period = off;
  period.id = "c2";
  period.kind = protocol::CommandKind::kSetPeriod;
  SessionOutput p;
  ASSERT_TRUE(s.on_command(period, kT0, p));
  ASSERT_EQ(p.acks.size(), 1u);
  EXPECT_FALSE(p.acks[0].ok);
}

TEST_F(BlynkSession, ADeviceOverItsRateGetsQuotaLimitOncePerSecondAndItsFramesAreDropped) {
  limits_.max_messages_per_s = 10;
  Session s = logged_in();
  SessionOutput out;
  std::string flood;
  for (uint16_t id = 2; id < 52; ++id) flood += encode_frame(Command::kPing, id, "");
  s.on_bytes(flood, kT0, out);
  const auto sent = frames(out.send);
  ASSERT_EQ(sent.size(), 21u);  // a burst of 20 answered, then one quota reply
  EXPECT_EQ(sent[20].status, 1);
  EXPECT_EQ(out.refusals.size(), 30u);
  SessionOutput later;
  s.on_bytes(encode_frame(Command::kPing, 60, ""), kT0 + 1000, later);
  EXPECT_EQ(later.send, encode_response(60, Status::kSuccess));
}

TEST_F(BlynkSession, AConnectionThatNeverLogsInIsClosedAfterTheLoginTimeout) {
  Session s(map_, limits_, kT0);
  EXPECT_EQ(s.deadline_ms(), kT0 + 10'000);
  SessionOutput out;
  s.on_tick(kT0 + 9'999, out);
  EXPECT_FALSE(out.close);
  s.on_tick(kT0 + 10'000, out);
  EXPECT_TRUE(out.close);
  EXPECT_EQ(out.refusals.at(0), Refusal::kLoginTimeout);
}

TEST_F(BlynkSession, DamagedStreamsNeverCrashAndNeverMakeAReadingOutOfNothing) {
  std::mt19937 rng(7);
  std::string valid = encode_frame(Command::kInternal, 2, join_fields({"h-beat", "10"}));
  for (int pin = 0; pin < 6; ++pin) valid += vw(static_cast<uint16_t>(3 + pin), pin, "1.5");
  valid += encode_frame(Command::kHardwareSync, 9, "");
  const std::string alphabet("\x00\x01\x14vw0123456789.e-\xff", 18);
  for (int round = 0; round < 3000; ++round) {
    Session s = logged_in();
    SessionOutput out;
    const std::string damaged = test_support::damage_text(valid, rng, alphabet, 8);
    for (std::size_t at = 0; at < damaged.size(); at += 1 + rng() % 16) {
      s.on_bytes(std::string_view(damaged).substr(at, 1 + rng() % 16), kT0, out);
    }
    s.on_close(out);
    EXPECT_LE(out.readings.size(), 6u);
    for (const auto& r : out.readings) EXPECT_EQ(r.meter_id, "m1");
  }
}

}  // namespace
}  // namespace wattguard::blynk
