// Input names to reading fields, and the reading a frame makes.
#include "wattguard/emoncms/input_map.h"

#include <gtest/gtest.h>

#include <cmath>

namespace wattguard::emoncms {
namespace {

TEST(EmoncmsInputMap, KnowsTheCommonNamesWithoutRegardToCase) {
  const InputMap map;
  EXPECT_EQ(map.field_of("Vrms"), ReadingField::kVoltage);
  EXPECT_EQ(map.field_of("V"), ReadingField::kVoltage);
  EXPECT_EQ(map.field_of("current"), ReadingField::kCurrent);
  EXPECT_EQ(map.field_of("I"), ReadingField::kCurrent);
  EXPECT_EQ(map.field_of("power1"), ReadingField::kPower);
  EXPECT_EQ(map.field_of("P"), ReadingField::kPower);
  EXPECT_EQ(map.field_of("pf"), ReadingField::kPowerFactor);
  EXPECT_EQ(map.field_of("kWh"), ReadingField::kEnergyKwh);
  EXPECT_EQ(map.field_of("energy"), ReadingField::kEnergyKwh);
  EXPECT_EQ(map.field_of("freq"), ReadingField::kFrequency);
  EXPECT_FALSE(map.field_of("temperature").has_value());
}

TEST(EmoncmsInputMap, AMetersOwnEntriesOverrideTheDefaults) {
  InputMap map;
  map.set("CT3", ReadingField::kPower);
  map.set("power1", ReadingField::kApparentPower);
  EXPECT_EQ(map.field_of("ct3"), ReadingField::kPower);
  EXPECT_EQ(map.field_of("power1"), ReadingField::kApparentPower);
}

TEST(EmoncmsFrameToReading, BuildsTheFieldsAndTakesTheRegisterInWh) {
  const InputFrame frame{"emontx", std::nullopt, {{"vrms", 230.0}, {"irms", 2.0}, {"power1", 400.0}, {"kwh", 12.5}}};
  auto r = frame_to_reading(frame, InputMap(), "m1", 1'000'000, nullptr);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->meter_id, "m1");
  EXPECT_EQ(r->time_ms, 1'000'000);
  EXPECT_DOUBLE_EQ(r->vrms, 230.0);
  EXPECT_DOUBLE_EQ(r->s_va, 460.0);
  EXPECT_NEAR(r->pf, 400.0 / 460.0, 1e-12);
  EXPECT_NEAR(r->q_var, std::sqrt(460.0 * 460.0 - 400.0 * 400.0), 1e-9);
  EXPECT_DOUBLE_EQ(r->e_import_wh, 12500.0);
  EXPECT_EQ(r->seq, 0U);
}

TEST(EmoncmsFrameToReading, IntegratesPowerWhenNoRegisterIsSent) {
  protocol::Reading previous;
  previous.time_ms = 0;
  previous.e_import_wh = 1000.0;
  previous.e_export_wh = 5.0;
  const InputFrame frame{"n", std::nullopt, {{"power", 3600.0}}};
  auto r = frame_to_reading(frame, InputMap(), "m1", 10'000, &previous);  // 10 s at 3.6 kW = 10 Wh
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->e_import_wh, 1010.0, 1e-9);
  EXPECT_DOUBLE_EQ(r->e_export_wh, 5.0);
  const InputFrame exporting{"n", std::nullopt, {{"power", -3600.0}}};
  auto e = frame_to_reading(exporting, InputMap(), "m1", 10'000, &previous);
  ASSERT_TRUE(e.ok());
  EXPECT_DOUBLE_EQ(e->e_import_wh, 1000.0);
  EXPECT_NEAR(e->e_export_wh, 15.0, 1e-9);
  // After a long silence the gap's energy is unknown: the register holds rather than guess.
  auto late = frame_to_reading(frame, InputMap(), "m1", 3'600'000, &previous);
  ASSERT_TRUE(late.ok());
  EXPECT_DOUBLE_EQ(late->e_import_wh, 1000.0);
}

TEST(EmoncmsFrameToReading, RefusesAFrameWithNoKnownInputNamingThem) {
  const InputFrame frame{"n", std::nullopt, {{"temp", 21.0}, {"humidity", 50.0}}};
  auto r = frame_to_reading(frame, InputMap(), "m1", 1, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "values");
  EXPECT_NE(r.error().message.find("temp, humidity"), std::string::npos);
}

}  // namespace
}  // namespace wattguard::emoncms
