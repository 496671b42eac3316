// Pin maps and the lenient parsing of pin values.
#include "wattguard/blynk/pin_map.h"

#include <gtest/gtest.h>

namespace wattguard::blynk {
namespace {

TEST(BlynkPinMap, TheStandardMapIsTheSketchsV0ToV5AndTheRelayOnV10) {
  const PinMap map = PinMap::standard();
  EXPECT_EQ(map.field_of(0), PinField::kVoltage);
  EXPECT_EQ(map.field_of(1), PinField::kCurrent);
  EXPECT_EQ(map.field_of(2), PinField::kRealPower);
  EXPECT_EQ(map.field_of(3), PinField::kApparentPower);
  EXPECT_EQ(map.field_of(4), PinField::kPowerFactor);
  EXPECT_EQ(map.field_of(5), PinField::kEnergyKwh);
  EXPECT_EQ(map.field_of(10), PinField::kRelay);
  EXPECT_EQ(map.field_of(6), PinField::kNone);
  EXPECT_EQ(map.measurement_pins(), 6);
  EXPECT_EQ(map.pin_of(PinField::kRelay), 10);
  EXPECT_EQ(map.to_string(), "V0=vrms,V1=irms,V2=p_w,V3=s_va,V4=pf,V5=energy_kwh,V10=relay");
}

TEST(BlynkPinMap, AMapIsParsedFromItsSettingAndBrokenEntriesAreNamed) {
  auto map = PinMap::parse("V7=p_w, V8=vrms ,v20=relay");
  ASSERT_TRUE(map.ok()) << map.error().message;
  EXPECT_EQ(map->field_of(7), PinField::kRealPower);
  EXPECT_EQ(map->field_of(20), PinField::kRelay);
  EXPECT_EQ(map->measurement_pins(), 2);
  for (const char* bad : {"V0", "V256=vrms", "V1=volts", "V1=vrms,V2=vrms", "V1=vrms,V1=irms", "X=irms"}) {
    auto r = PinMap::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, "blynk.pin_map");
  }
}

TEST(BlynkPinMap, ValuesAreParsedAsTheLibraryPrintsThemAndNonNumbersAreRefused) {
  EXPECT_DOUBLE_EQ(*parse_pin_value("231.5"), 231.5);
  EXPECT_DOUBLE_EQ(*parse_pin_value("231.500"), 231.5);
  EXPECT_DOUBLE_EQ(*parse_pin_value("231.5000000"), 231.5);
  EXPECT_DOUBLE_EQ(*parse_pin_value("1e3"), 1000);
  EXPECT_DOUBLE_EQ(*parse_pin_value("-2"), -2);
  EXPECT_DOUBLE_EQ(*parse_pin_value("+4"), 4);
  for (const char* bad : {"", "nan", "inf", "-inf", "1e999", "abc", "1.2.3", " 7", "7 ", "0x10"}) {
    EXPECT_FALSE(parse_pin_value(bad).has_value()) << bad;
  }
  EXPECT_EQ(parse_pin("10"), 10);
  EXPECT_FALSE(parse_pin("256").has_value());
  EXPECT_FALSE(parse_pin("-1").has_value());
  EXPECT_FALSE(parse_pin("").has_value());
}

}  // namespace
}  // namespace wattguard::blynk
