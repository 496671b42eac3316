// Device keys: stored as digests, found by the secret, one per meter and kind, replaced and revoked.
#include "wattguard/ingest/device_keys.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cctype>
#include <set>

#include "wattguard/test_support/temp_dir.h"

namespace wattguard::ingest {
namespace {

TEST(DeviceKeys, TokensAre32AlphanumericCharactersAndNeverRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string t = generate_device_token();
    ASSERT_EQ(t.size(), 32U);
    for (char c : t) ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << t;
    EXPECT_TRUE(seen.insert(t).second);
  }
}

TEST(DeviceKeys, AKeyFindsItsMeterAndIsStoredOnlyAsADigest) {
  test_support::TempDir dir;
  const std::string db = (dir.path() / "keys.db").string();
  auto keys = DeviceKeys::open(db);
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  const std::string token = generate_device_token();
  ASSERT_TRUE((*keys)->set("m1", DeviceProtocol::kBlynk, token, 1000).ok());
  auto found = (*keys)->meter_of(DeviceProtocol::kBlynk, token);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found.value(), "m1");
  // The same secret as another kind's key is not a login.
  EXPECT_EQ((*keys)->meter_of(DeviceProtocol::kEmoncms, token).error().code, ErrorCode::kNotFound);
  EXPECT_EQ((*keys)->meter_of(DeviceProtocol::kBlynk, token.substr(1)).error().code, ErrorCode::kNotFound);

  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT digest FROM device_keys", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  const std::string digest(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  sqlite3_close(raw);
  EXPECT_EQ(digest.size(), 64U);
  EXPECT_EQ(digest.find(token), std::string::npos);
}

TEST(DeviceKeys, ANewKeyReplacesTheOldOneAndRevokingEndsThemAll) {
  test_support::TempDir dir;
  auto keys = DeviceKeys::open((dir.path() / "keys.db").string());
  ASSERT_TRUE(keys.ok());
  DeviceKeys& k = *keys.value();
  ASSERT_TRUE(k.set("m1", DeviceProtocol::kEmoncms, "old-key-0123456789", 1).ok());
  ASSERT_TRUE(k.meter_of(DeviceProtocol::kEmoncms, "old-key-0123456789").ok());  // cached now
  ASSERT_TRUE(k.set("m1", DeviceProtocol::kEmoncms, "new-key-0123456789", 2).ok());
  EXPECT_FALSE(k.meter_of(DeviceProtocol::kEmoncms, "old-key-0123456789").ok()) << "the cache forgot the old key";
  EXPECT_TRUE(k.meter_of(DeviceProtocol::kEmoncms, "new-key-0123456789").ok());
  ASSERT_TRUE(k.set("m1", DeviceProtocol::kBlynk, "blynk-0123456789", 3).ok());
  auto kinds = k.protocols_of("m1");
  ASSERT_TRUE(kinds.ok());
  EXPECT_EQ(kinds.value(), (std::vector<DeviceProtocol>{DeviceProtocol::kBlynk, DeviceProtocol::kEmoncms}));
  ASSERT_TRUE(k.revoke_all("m1").ok());
  EXPECT_FALSE(k.meter_of(DeviceProtocol::kEmoncms, "new-key-0123456789").ok());
  EXPECT_FALSE(k.meter_of(DeviceProtocol::kBlynk, "blynk-0123456789").ok());
  EXPECT_TRUE(k.protocols_of("m1")->empty());
}

TEST(DeviceKeys, ProtocolNamesRoundTrip) {
  for (auto p : {DeviceProtocol::kMqtt, DeviceProtocol::kBlynk, DeviceProtocol::kEmoncms}) {
    EXPECT_EQ(device_protocol_from_name(device_protocol_name(p)), p);
  }
  EXPECT_FALSE(device_protocol_from_name("zigbee").has_value());
}

}  // namespace
}  // namespace wattguard::ingest
