// A period's pin writes -> one reading: when it ends, what is derived, energy from V5 or from power.
#include "wattguard/blynk/reading_assembler.h"

#include <gtest/gtest.h>

#include <cmath>

namespace wattguard::blynk {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000;

class Assembler : public ::testing::Test {
 protected:
  PinMap map_ = PinMap::standard();
};

TEST_F(Assembler, SixPinWritesMakeOneReadingOnTheLastWrite) {
  ReadingAssembler a("m1", map_, 1000, std::nullopt);
  EXPECT_FALSE(a.on_write(PinField::kVoltage, 231.5, kT0));
  EXPECT_FALSE(a.on_write(PinField::kCurrent, 2, kT0 + 1));
  EXPECT_FALSE(a.on_write(PinField::kRealPower, 400, kT0 + 2));
  EXPECT_FALSE(a.on_write(PinField::kApparentPower, 463, kT0 + 3));
  EXPECT_FALSE(a.on_write(PinField::kPowerFactor, 0.864, kT0 + 4));
  auto r = a.on_write(PinField::kEnergyKwh, 12.5, kT0 + 5);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->meter_id, "m1");
  EXPECT_EQ(r->seq, 0u);
  EXPECT_EQ(r->time_ms, kT0 + 5);
  EXPECT_DOUBLE_EQ(r->vrms, 231.5);
  EXPECT_DOUBLE_EQ(r->irms, 2);
  EXPECT_DOUBLE_EQ(r->p_w, 400);
  EXPECT_DOUBLE_EQ(r->s_va, 463);
  EXPECT_DOUBLE_EQ(r->pf, 0.864);
  EXPECT_DOUBLE_EQ(r->e_import_wh, 12500);
  EXPECT_NEAR(r->q_var, std::sqrt(463.0 * 463 - 400.0 * 400), 1e-9);  // positive: inductive assumed
  EXPECT_FALSE(a.deadline_ms());
}

TEST_F(Assembler, ARepeatedPinEndsThePeriodOfASketchThatSkipsPins) {
  ReadingAssembler a("m1", map_, 1000, std::nullopt);
  EXPECT_FALSE(a.on_write(PinField::kVoltage, 230, kT0));
  EXPECT_FALSE(a.on_write(PinField::kRealPower, 100, kT0 + 1));
  auto r = a.on_write(PinField::kVoltage, 231, kT0 + 5000);
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(r->vrms, 230);
  EXPECT_EQ(r->time_ms, kT0 + 1);
  EXPECT_EQ(a.deadline_ms(), kT0 + 6000);  // the new period's V0 waits
}

TEST_F(Assembler, QuietTimeEndsAPeriodAndDerivesTheMissingFields) {
  ReadingAssembler a("m1", map_, 1000, std::nullopt);
  a.on_write(PinField::kVoltage, 200, kT0);
  a.on_write(PinField::kCurrent, 2, kT0 + 10);
  a.on_write(PinField::kRealPower, 300, kT0 + 20);
  EXPECT_FALSE(a.on_tick(kT0 + 1019));
  auto r = a.on_tick(kT0 + 1020);
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(r->s_va, 400);  // V x I
  EXPECT_DOUBLE_EQ(r->pf, 0.75);   // P / S
  EXPECT_NEAR(r->q_var, std::sqrt(400.0 * 400 - 300.0 * 300), 1e-9);
}

TEST_F(Assembler, WithoutAnEnergyPinTheRegisterIsIntegratedFromPowerStartingAtTheStoredOne) {
  const PinMap map = PinMap::parse("V0=vrms,V2=p_w").value();
  protocol::Reading last;
  last.e_import_wh = 1000;
  last.e_export_wh = 5;
  ReadingAssembler a("m1", map, 1000, last);
  a.on_write(PinField::kVoltage, 230, kT0);
  auto first = a.on_write(PinField::kRealPower, 3600, kT0);
  ASSERT_TRUE(first);
  EXPECT_DOUBLE_EQ(first->e_import_wh, 1000);  // no interval known yet
  a.on_write(PinField::kVoltage, 230, kT0 + 10'000);
  auto second = a.on_write(PinField::kRealPower, 3600, kT0 + 10'000);
  ASSERT_TRUE(second);
  EXPECT_DOUBLE_EQ(second->e_import_wh, 1010);  // 3600 W for 10 s
  a.on_write(PinField::kVoltage, 230, kT0 + 20'000);
  auto third = a.on_write(PinField::kRealPower, -1800, kT0 + 20'000);
  ASSERT_TRUE(third);
  EXPECT_DOUBLE_EQ(third->e_import_wh, 1010);
  EXPECT_DOUBLE_EQ(third->e_export_wh, 10);  // 1800 W exported for 10 s
}

TEST_F(Assembler, AGroupWithATimestampMakesOneReadingAtThatTime) {
  ReadingAssembler a("m1", map_, 1000, std::nullopt);
  EXPECT_FALSE(a.on_group_begin(kT0 - 60'000, kT0));
  a.on_write(PinField::kVoltage, 230, kT0);
  a.on_write(PinField::kVoltage, 231, kT0 + 1);  // a repeat inside a group does not split it
  a.on_write(PinField::kRealPower, 50, kT0 + 2);
  auto r = a.on_group_end(kT0 + 3);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->time_ms, kT0 - 60'000);
  EXPECT_DOUBLE_EQ(r->vrms, 231);
}

TEST_F(Assembler, TheRelayPinSetsTheRelayOpenFlag) {
  ReadingAssembler a("m1", map_, 1000, std::nullopt);
  EXPECT_FALSE(a.on_write(PinField::kRelay, 0, kT0));
  EXPECT_EQ(a.relay(), protocol::RelayState::kOff);
  a.on_write(PinField::kVoltage, 230, kT0);
  auto r = a.on_tick(kT0 + 2000);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->flags & protocol::kFlagRelayOpen);
}

}  // namespace
}  // namespace wattguard::blynk
