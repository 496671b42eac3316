// The Blynk frame codec: the worked examples of the protocol, split and coalesced frames, the size cap, id 0,
// and random bytes.
#include "wattguard/blynk/frame.h"

#include <gtest/gtest.h>

#include <random>

namespace wattguard::blynk {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

TEST(BlynkFrame, ALoginAndItsOkAreEncodedAsTheProtocolShowsThem) {
  const std::string token(32, 'a');
  EXPECT_EQ(encode_frame(Command::kHwLogin, 1, token), bytes({0x1D, 0x00, 0x01, 0x00, 0x20}) + token);
  EXPECT_EQ(encode_response(1, Status::kSuccess), bytes({0x00, 0x00, 0x01, 0x00, 0xC8}));
}

TEST(BlynkFrame, AVirtualWriteDecodesIntoItsFields) {
  FrameReader reader;
  reader.append(bytes({0x14, 0x00, 0x02, 0x00, 0x0C}) + std::string("vw\0"
                                                                    "0\0"
                                                                    "231.500",
                                                                    12));
  auto frame = reader.next();
  ASSERT_TRUE(frame.ok());
  ASSERT_TRUE(frame->has_value());
  EXPECT_EQ((*frame)->command, 20);
  EXPECT_EQ((*frame)->id, 2);
  const auto fields = split_fields((*frame)->body);
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0], "vw");
  EXPECT_EQ(fields[1], "0");
  EXPECT_EQ(fields[2], "231.500");
  EXPECT_FALSE(reader.next()->has_value());
}

TEST(BlynkFrame, FramesSplitAtEveryByteOrCoalescedComeOutWholeAndInOrder) {
  std::string stream;
  for (uint16_t id = 1; id <= 50; ++id) {
    stream += encode_frame(Command::kHardware, id, join_fields({"vw", std::to_string(id % 6), "1.5"}));
    stream += encode_frame(Command::kPing, static_cast<uint16_t>(id + 1000), "");
  }
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{7}, stream.size()}) {
    FrameReader reader;
    std::vector<uint16_t> ids;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      reader.append(std::string_view(stream).substr(at, chunk));
      while (true) {
        auto f = reader.next();
        ASSERT_TRUE(f.ok());
        if (!f->has_value()) break;
        ids.push_back((*f)->id);
      }
    }
    ASSERT_EQ(ids.size(), 100u) << "chunk " << chunk;
    EXPECT_EQ(ids[0], 1);
    EXPECT_EQ(ids[1], 1001);
    EXPECT_EQ(ids[99], 1050);
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

TEST(BlynkFrame, AResponseCarriesItsStatusInTheLengthFieldAndHasNoBody) {
  FrameReader reader;
  reader.append(encode_response(7, Status::kInvalidToken) + encode_frame(Command::kPing, 8, ""));
  auto r = reader.next();
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->command, 0);
  EXPECT_EQ((*r)->status, 9);
  EXPECT_TRUE((*r)->body.empty());
  auto ping = reader.next();
  ASSERT_TRUE(ping.ok() && ping->has_value());
  EXPECT_EQ((*ping)->id, 8);
}

TEST(BlynkFrame, ABodyOverTheCapIsRefusedBeforeItIsBuffered) {
  FrameReader reader;
  reader.append(bytes({0x14, 0x00, 0x05, 0x10, 0x01}));  // 4097 bytes announced
  auto f = reader.next();
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().reason, "too_large");
  EXPECT_EQ(reader.fault_id(), 5);
  EXPECT_FALSE(reader.next().ok());  // the stream stays broken
}

TEST(BlynkFrame, MessageIdZeroIsRefused) {
  FrameReader reader;
  reader.append(encode_frame(Command::kPing, 0, ""));
  auto f = reader.next();
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().reason, "zero_id");
}

TEST(BlynkFrame, FieldsSplitAtEveryNulAndJoinWithoutATrailingOne) {
  EXPECT_TRUE(split_fields("").empty());
  EXPECT_EQ(split_fields(std::string("vw\0"
                                     "7\0"
                                     "1\0"
                                     "2\0"
                                     "3",
                                     10))
                .size(),
            5u);
  EXPECT_EQ(join_fields({"vr", "1", "2"}), std::string("vr\0"
                                                       "1\0"
                                                       "2",
                                                       6));
  EXPECT_EQ(split_fields(std::string("a\0", 2)).size(), 2u);
}

TEST(BlynkFrame, RandomBytesNeverCrashTheReaderAndEveryFrameItGivesFitsTheCap) {
  std::mt19937 rng(19);
  for (int round = 0; round < 2000; ++round) {
    FrameReader reader;
    std::string noise(rng() % 600, '\0');
    for (char& c : noise) c = static_cast<char>(rng() % 256);
    // Often start with a valid frame so the reader gets past the header check.
    if (round % 2 == 0)
      noise = encode_frame(Command::kHardware, 3,
                           "vw\0"
                           "1") +
              noise;
    std::size_t at = 0;
    while (at < noise.size()) {
      const std::size_t n = 1 + rng() % 40;
      reader.append(std::string_view(noise).substr(at, n));
      at += n;
      for (;;) {
        auto f = reader.next();
        if (!f.ok() || !f->has_value()) break;
        EXPECT_LE((*f)->body.size(), kMaxBodyBytes);
        EXPECT_NE((*f)->id, 0);
      }
    }
  }
}

}  // namespace
}  // namespace wattguard::blynk
