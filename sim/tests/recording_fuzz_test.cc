// Randomised robustness test of the recording readers: thousands of mutated and random inputs
// must each give either a valid recording or an error, never a crash (run under ASan/UBSan).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "wattguard/sim/binary_recording.h"
#include "wattguard/sim/csv_recording.h"
#include "wattguard/sim/random.h"

namespace wattguard::sim {
namespace {

const char* const kSeeds[] = {
    "v,i\n2048,2050\n2100,1990\n1,4095\n",
    "v,i,n\n0,0,0\n4095,4095,4095\n2000,2001,2002\n",
    "\xEF\xBB\xBFv, i\r\n 12 , 34 \r\n\r\n56,78\r\n",
    "v,i\n",
    "",
    "v,i\n-1,+5\n",
};

std::string mutate(std::string s, Rng& rng) {
  static const char kAlphabet[] = "0123456789,,,\n\n\r -+vin.xe\t\"\x00\xff";
  const int edits = rng.uniform_int(1, 3);
  for (int k = 0; k < edits; ++k) {
    const int op = rng.uniform_int(0, 5);
    const size_t at = s.empty() ? 0 : static_cast<size_t>(rng.uniform_int(0, static_cast<int>(s.size()) - 1));
    const char c = kAlphabet[rng.uniform_int(0, sizeof kAlphabet - 2)];
    switch (op) {
      case 0:
        if (!s.empty()) s[at] = c;
        break;                                                                            // replace
      case 1: s.insert(s.begin() + static_cast<long>(std::min(at, s.size())), c); break;  // insert
      case 2:
        if (!s.empty()) s.erase(at, static_cast<size_t>(rng.uniform_int(1, 8)));
        break;  // delete
      case 3:
        if (!s.empty()) s[at] = static_cast<char>(rng.next_u64());
        break;                                                                        // random byte
      case 4: s += s.substr(at, static_cast<size_t>(rng.uniform_int(0, 40))); break;  // duplicate
      default: s.insert(std::min(at, s.size()), std::to_string(rng.next_u64() % 200000)); break;
    }
  }
  return s;
}

void check_csv(const std::string& input, int bits) {
  const Expected<Recording> r = read_csv_recording(input, bits);
  if (r.ok()) {
    const Recording& rec = r.value();
    ASSERT_TRUE(rec.channels == 2 || rec.channels == 3);
    ASSERT_FALSE(rec.samples.empty());
    const int max = (1 << bits) - 1;
    for (const auto& s : rec.samples) {
      ASSERT_LE(s.v, max);
      ASSERT_LE(s.i, max);
      ASSERT_LE(s.n, max);
      if (rec.channels == 2) {
        ASSERT_EQ(s.n, 0);
      }
    }
  } else {
    ASSERT_FALSE(r.error().message.empty());
    ASSERT_GE(r.error().line, 1);
    ASSERT_NE(r.error().message.find("line " + std::to_string(r.error().line)), std::string::npos) << r.error().message;
  }
}

TEST(RecordingFuzz, CsvReaderSurvivesMutatedInputs) {
  Rng rng(20240611);
  int ok = 0, errors = 0;
  for (int n = 0; n < 6000; ++n) {
    std::string input = kSeeds[rng.uniform_int(0, static_cast<int>(std::size(kSeeds)) - 1)];
    input = mutate(input, rng);
    const int bits = rng.uniform_int(10, 16);
    check_csv(input, bits);
    if (HasFatalFailure()) {
      ADD_FAILURE() << "input #" << n;
      return;
    }
    (read_csv_recording(input, bits).ok() ? ok : errors)++;
  }
  // Both outcomes must occur, or the mutations are not exercising the reader.
  EXPECT_GT(ok, 150);
  EXPECT_GT(errors, 1000);
}

TEST(RecordingFuzz, CsvReaderSurvivesRandomBytes) {
  Rng rng(7);
  for (int n = 0; n < 3000; ++n) {
    std::string input(static_cast<size_t>(rng.uniform_int(0, 300)), '\0');
    for (auto& c : input) c = static_cast<char>(rng.next_u64());
    if (rng.chance(0.5)) input = "v,i\n" + input;
    check_csv(input, 12);
    if (HasFatalFailure()) return;
  }
}

TEST(RecordingFuzz, BinaryDecoderSurvivesMutatedInputs) {
  Rng rng(99);
  Recording rec;
  rec.sample_rate_hz = 4000;
  rec.channels = 3;
  rec.samples = {{1, 2, 3}, {4095, 0, 17}, {2048, 2048, 2048}};
  const std::string good = encode_binary_recording(rec).value();
  int ok = 0;
  for (int n = 0; n < 4000; ++n) {
    std::string input = good;
    const int edits = rng.uniform_int(1, 4);
    for (int k = 0; k < edits; ++k) {
      const auto at = static_cast<size_t>(rng.uniform_int(0, static_cast<int>(input.size()) - 1));
      if (rng.chance(0.7)) {
        input[at] = static_cast<char>(rng.next_u64());
      } else {
        input.resize(at);
        if (input.empty()) break;
      }
    }
    const Expected<Recording> r = decode_binary_recording(input);
    if (r.ok()) {
      ++ok;
      for (const auto& s : r.value().samples) ASSERT_LE(s.v, (1 << r.value().adc_bits) - 1);
    } else {
      ASSERT_FALSE(r.error().message.empty());
    }
  }
  EXPECT_GT(ok, 10);
}

}  // namespace
}  // namespace wattguard::sim
