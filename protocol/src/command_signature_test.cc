// Signed commands: a valid signature passes once; any changed field, another meter's key, a replay, a missing
// signature or a missing expiry are each refused; keys derive per meter and survive hex; the codec carries both.
#include "wattguard/protocol/command_signature.h"

#include <gtest/gtest.h>

#include "wattguard/protocol/codec.h"

namespace wattguard::protocol {
namespace {

Command relay_off() {
  Command c;
  c.id = "c-17";
  c.meter_id = "m-001";
  c.kind = CommandKind::kRelayOff;
  c.time_ms = 1'800'000'000'000;
  c.expires_ms = 1'800'000'060'000;
  return c;
}

class CommandSignature : public ::testing::Test {
 protected:
  CommandKey master_ = random_command_key();
  CommandKey key_ = derive_command_key(master_, "m-001");
};

TEST_F(CommandSignature, ASignedCommandIsValidOnceAndItsReplayIsRefused) {
  Command c = relay_off();
  sign_command(c, key_, 1000);
  EXPECT_EQ(c.mac.size(), kCommandMacLength);
  EXPECT_EQ(check_command_signature(c, key_, 0), SignatureCheck::kValid);
  EXPECT_EQ(check_command_signature(c, key_, 999), SignatureCheck::kValid);
  // The meter remembers 1000: the same bytes again are a replay, and so is an older command.
  EXPECT_EQ(check_command_signature(c, key_, 1000), SignatureCheck::kReplayed);
  Command older = relay_off();
  sign_command(older, key_, 900);
  EXPECT_EQ(check_command_signature(older, key_, 1000), SignatureCheck::kReplayed);
}

TEST_F(CommandSignature, AnyChangedFieldOrAnotherMetersKeyIsAForgery) {
  Command signed_cmd = relay_off();
  sign_command(signed_cmd, key_, 5);
  std::vector<Command> changed(8, signed_cmd);
  changed[0].id = "c-18";
  changed[1].meter_id = "m-002";
  changed[2].kind = CommandKind::kRelayOn;
  changed[3].period_s = 5;
  changed[4].time_ms += 1;
  changed[5].expires_ms += 3'600'000;  // a captured command made to live longer
  changed[6].nonce += 1;               // or made newer than the meter's last
  changed[7].mac[10] = changed[7].mac[10] == 'a' ? 'b' : 'a';
  for (std::size_t i = 0; i < changed.size(); ++i) {
    EXPECT_EQ(check_command_signature(changed[i], key_, 0), SignatureCheck::kForged) << i;
  }
  EXPECT_EQ(check_command_signature(signed_cmd, derive_command_key(master_, "m-002"), 0), SignatureCheck::kForged);
  EXPECT_EQ(check_command_signature(signed_cmd, random_command_key(), 0), SignatureCheck::kForged);
}

TEST_F(CommandSignature, UnsignedAndNeverExpiringCommandsAreRefused) {
  EXPECT_EQ(check_command_signature(relay_off(), key_, 0), SignatureCheck::kUnsigned);
  Command forever = relay_off();
  forever.expires_ms = 0;
  sign_command(forever, key_, 7);
  EXPECT_EQ(check_command_signature(forever, key_, 0), SignatureCheck::kNoExpiry);
  EXPECT_STREQ(signature_check_name(SignatureCheck::kReplayed), "replayed");
}

TEST_F(CommandSignature, KeysArePerMeterStableAndRoundTripThroughHex) {
  EXPECT_EQ(derive_command_key(master_, "m-001"), key_);
  EXPECT_NE(derive_command_key(master_, "m-002"), key_);
  EXPECT_NE(derive_command_key(random_command_key(), "m-001"), key_);
  const std::string hex = command_key_to_hex(key_);
  ASSERT_EQ(hex.size(), 64u);
  auto back = command_key_from_hex(hex);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value(), key_);
  for (const std::string& bad : {std::string("abc"), std::string(64, 'g'), hex + "0", std::string(63, '0') + " "}) {
    auto r = command_key_from_hex(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, "command_key");
  }
}

TEST_F(CommandSignature, TheSignatureTravelsInTheJsonAndIsCheckedThere) {
  Command c = relay_off();
  sign_command(c, key_, 1'800'000'000'000'123);
  DecodeContext ctx;
  ctx.now_ms = c.time_ms;
  ctx.topic_meter_id = "m-001";
  auto decoded = decode_command(encode(c), ctx);
  ASSERT_TRUE(decoded.ok()) << describe(decoded.error());
  EXPECT_EQ(decoded.value(), c);
  EXPECT_EQ(check_command_signature(decoded.value(), key_, 0), SignatureCheck::kValid);
  // A mac that is not 64 hex digits is refused by the decoder, naming the field.
  std::string text = encode(c);
  text.replace(text.find(c.mac), 64, std::string(64, 'Z'));
  auto bad = decode_command(text, ctx);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "mac");
  // Unsigned commands still decode (the meter decides whether it needs a signature).
  auto plain = decode_command(encode(relay_off()), ctx);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->mac.empty());
}

}  // namespace
}  // namespace wattguard::protocol
