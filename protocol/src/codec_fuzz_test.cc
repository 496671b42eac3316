// Fuzz-style test: many random and mutated payloads through every decoder; none may crash or
// accept a reading that breaks the documented limits.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "wattguard/protocol/codec.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::protocol {
namespace {

constexpr int64_t kNow = 1'750'000'000'000;

std::string seed_payload(std::mt19937_64& rng) {
  Reading r;
  // Appended, not "m" + std::to_string(...): GCC 12 at -O3 reports a false -Wrestrict for literal + string.
  r.meter_id = "m";
  r.meter_id += std::to_string(rng() % 1000);
  r.seq = rng() % 100000;
  r.time_ms = kNow - static_cast<int64_t>(rng() % 1'000'000);
  r.vrms = 200 + static_cast<double>(rng() % 60);
  r.irms = static_cast<double>(rng() % 400) / 10.0;
  r.p_w = r.vrms * r.irms * 0.9;
  r.s_va = r.vrms * r.irms;
  r.q_var = r.s_va * 0.43;
  r.pf = 0.9;
  r.freq_hz = 50;
  r.e_import_wh = static_cast<double>(rng() % 10'000'000);
  r.flags = static_cast<uint32_t>(rng());
  return encode(r);
}

// Tokens that tend to break parsers and validators.
const std::vector<std::string> kTokens = {"NaN",
                                          "nan",
                                          "-inf",
                                          "Infinity",
                                          "1e999",
                                          "-1e999",
                                          "null",
                                          "true",
                                          "\"\"",
                                          "{}",
                                          "[]",
                                          "-0",
                                          "1e-400",
                                          "18446744073709551616",
                                          "-9223372036854775809",
                                          "\"\\u0000\"",
                                          "\"\\ud800\"",
                                          "\xff\xfe",
                                          "\"m/1\"",
                                          "1000.0001",
                                          "-0.0001",
                                          "{\"a\":",
                                          "]",
                                          "}",
                                          ",",
                                          ":",
                                          "\"",
                                          "\\",
                                          "9007199254740993",
                                          "1.5"};

std::string mutate(std::string s, std::mt19937_64& rng) {
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits && !s.empty(); ++i) {
    const std::size_t pos = rng() % s.size();
    switch (rng() % 6) {
      case 0: s[pos] = static_cast<char>(rng() % 256); break;         // flip a byte
      case 1: s.erase(pos, 1 + rng() % 8); break;                     // delete
      case 2: s.insert(pos, kTokens[rng() % kTokens.size()]); break;  // insert a token
      case 3: {                                                       // replace a value
        const auto colon = s.find(':', pos);
        if (colon == std::string::npos) break;
        const auto end = s.find_first_of(",}", colon);
        if (end == std::string::npos) break;
        s.replace(colon + 1, end - colon - 1, kTokens[rng() % kTokens.size()]);
        break;
      }
      case 4: s = s.substr(0, pos); break;  // truncate
      case 5: s.insert(pos, std::string(1 + rng() % 64, static_cast<char>('a' + rng() % 26))); break;
    }
  }
  return s;
}

void check_accepted_reading_is_sane(const Reading& r) {
  EXPECT_TRUE(is_valid_meter_id(r.meter_id));
  for (double v : {r.vrms, r.irms, r.p_w, r.s_va, r.q_var, r.pf, r.freq_hz, r.e_import_wh, r.e_export_wh}) {
    EXPECT_TRUE(std::isfinite(v));
  }
  EXPECT_GE(r.irms, 0.0);
  EXPECT_LE(r.vrms, kMaxVrms);
  EXPECT_LE(r.time_ms, kNow + kMaxFutureMs);
  EXPECT_TRUE(validate(r, DecodeContext{kNow, {}}).ok());
}

TEST(CodecFuzz, MutatedReadingsNeverCrashAndNeverAcceptInsaneValues) {
  std::mt19937_64 rng(20240611);
  const DecodeContext ctx{kNow, {}};
  int accepted = 0;
  int refused = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string payload = mutate(seed_payload(rng), rng);
    auto d = decode_reading(payload, ctx);
    if (d.ok()) {
      ++accepted;
      check_accepted_reading_is_sane(d.value());
      // Re-encoding an accepted reading decodes to the same value.
      auto again = decode_reading(encode(d.value()), ctx);
      ASSERT_TRUE(again.ok()) << describe(again.error());
      EXPECT_EQ(again.value(), d.value());
    } else {
      ++refused;
      EXPECT_FALSE(describe(d.error()).empty());
      EXPECT_LE(d.error().value.size(), 67u);
    }
  }
  // Both outcomes must occur, or the mutations are not exercising the decoder.
  EXPECT_GT(accepted, 100);
  EXPECT_GT(refused, 5000);
}

TEST(CodecFuzz, RandomBytesThroughEveryDecoder) {
  std::mt19937_64 rng(7);
  const DecodeContext ctx{kNow, "m1"};
  for (int i = 0; i < 5000; ++i) {
    std::string s(rng() % 300, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    if (i % 3 == 0 && !s.empty()) s[0] = '{';
    EXPECT_FALSE(decode_reading(s, ctx).ok());
    EXPECT_FALSE(decode_status(s, ctx).ok());
    EXPECT_FALSE(decode_event(s, ctx).ok());
    EXPECT_FALSE(decode_command(s, ctx).ok());
    EXPECT_FALSE(decode_ack(s, ctx).ok());
  }
}

TEST(CodecFuzz, MutatedMessagesOfEveryKindNeverCrash) {
  std::mt19937_64 rng(99);
  const DecodeContext ctx{kNow, "m1"};
  const std::vector<std::string> seeds = {
      encode(StatusMessage{"m1", true, kNow, 5, "fw"}),
      encode(MeterEvent{"m1", EventKind::kMagnetic, EventEdge::kOnset, kNow, "field 3 mT"}),
      encode(Command{"c1", "m1", CommandKind::kSetPeriod, 10u, kNow, kNow + 1000, 0, ""}),
      encode(CommandAck{"c1", "m1", true, "ok", RelayState::kOn, 10, kNow}),
  };
  int ok = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string& seed = seeds[i % seeds.size()];
    const std::string s = mutate(seed, rng);
    switch (i % 4) {
      case 0: ok += decode_status(s, ctx).ok(); break;
      case 1: ok += decode_event(s, ctx).ok(); break;
      case 2: ok += decode_command(s, ctx).ok(); break;
      case 3: ok += decode_ack(s, ctx).ok(); break;
    }
  }
  EXPECT_GT(ok, 0);
}

}  // namespace
}  // namespace wattguard::protocol
