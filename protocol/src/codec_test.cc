// Tests of the JSON codec: round trips and every refusal reason with its field.
#include "wattguard/protocol/codec.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace wattguard::protocol {
namespace {

constexpr int64_t kNow = 1'750'000'000'000;  // 2025-06-15

Reading sample_reading() {
  Reading r;
  r.meter_id = "m001";
  r.seq = 1234;
  r.time_ms = kNow - 5000;
  r.vrms = 231.25;
  r.irms = 4.5;
  r.p_w = 980.5;
  r.s_va = 1040.6;
  r.q_var = 347.25;
  r.pf = 0.942;
  r.freq_hz = 50.01;
  r.e_import_wh = 123456.789;
  r.e_export_wh = 12.5;
  r.flags = kFlagLoadPresent | kFlagTamperMagnetic;
  return r;
}

DecodeContext ctx(std::string_view topic_meter = "m001") { return DecodeContext{kNow, topic_meter}; }

// Replaces `"key":<old value>` in a compact JSON text with `"key":<replacement>`.
std::string with_field(std::string json, const std::string& key, const std::string& replacement) {
  const std::string needle = "\"" + key + "\":";
  auto pos = json.find(needle);
  EXPECT_NE(pos, std::string::npos) << key;
  auto start = pos + needle.size();
  auto end = start;
  int depth = 0;
  bool in_string = false;
  for (; end < json.size(); ++end) {
    char c = json[end];
    if (in_string) {
      if (c == '\\') ++end;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') {
      if (depth == 0) break;
      --depth;
    } else if (c == ',' && depth == 0) break;
  }
  return json.substr(0, start) + replacement + json.substr(end);
}

std::string without_field(std::string json, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  auto pos = json.find(needle);
  auto end = json.find_first_of(",}", pos);
  if (json[end] == ',') return json.substr(0, pos) + json.substr(end + 1);
  return json.substr(0, pos - 1) + json.substr(end);  // last field: drop the comma before it
}

void expect_refused(const std::string& payload, Rejection reason, const std::string& field) {
  auto d = decode_reading(payload, ctx());
  ASSERT_FALSE(d.ok()) << payload;
  EXPECT_EQ(rejection_of(d.error()), reason) << describe(d.error());
  EXPECT_EQ(d.error().field, field) << describe(d.error());
}

TEST(ReadingCodec, RoundTripsExactly) {
  const Reading r = sample_reading();
  auto d = decode_reading(encode(r), ctx());
  ASSERT_TRUE(d.ok()) << describe(d.error());
  EXPECT_EQ(d.value(), r);
}

TEST(ReadingCodec, FlagsAreOptionalAndExtraFieldsIgnored) {
  std::string text = without_field(encode(sample_reading()), "flags");
  text.insert(text.size() - 1, ",\"future_field\":[1,2]");
  auto d = decode_reading(text, ctx());
  ASSERT_TRUE(d.ok()) << describe(d.error());
  EXPECT_EQ(d->flags, 0u);
}

TEST(ReadingCodec, RefusesMalformedAndOversizedPayloads) {
  expect_refused("{\"meter\":", Rejection::kMalformedJson, "");
  expect_refused("[1,2,3]", Rejection::kMalformedJson, "");
  expect_refused("", Rejection::kMalformedJson, "");
  std::string big = encode(sample_reading());
  big.insert(big.size() - 1, ",\"pad\":\"" + std::string(kMaxPayloadBytes, 'x') + "\"");
  expect_refused(big, Rejection::kPayloadTooLarge, "");
}

TEST(ReadingCodec, NamesTheMissingField) {
  const std::string good = encode(sample_reading());
  for (const char* f : {"meter", "seq", "time_ms", "vrms", "irms", "p_w", "s_va", "q_var", "pf", "freq_hz",
                        "e_import_wh", "e_export_wh"}) {
    expect_refused(without_field(good, f), Rejection::kMissingField, f);
  }
  expect_refused(with_field(good, "vrms", "null"), Rejection::kMissingField, "vrms");
}

TEST(ReadingCodec, RefusesNonFiniteNumbersInEveryForm) {
  const std::string good = encode(sample_reading());
  expect_refused(with_field(good, "irms", "NaN"), Rejection::kNotFinite, "irms");
  expect_refused(with_field(good, "irms", "nan"), Rejection::kNotFinite, "irms");
  expect_refused(with_field(good, "p_w", "-inf"), Rejection::kNotFinite, "p_w");
  expect_refused(with_field(good, "vrms", "Infinity"), Rejection::kNotFinite, "vrms");
  expect_refused(with_field(good, "vrms", "\"NaN\""), Rejection::kNotFinite, "vrms");
  expect_refused(with_field(good, "q_var", "1e999"), Rejection::kNotFinite, "q_var");
}

TEST(ReadingCodec, RefusesAbsurdValuesWithTheirReason) {
  const std::string good = encode(sample_reading());
  expect_refused(with_field(good, "irms", "-0.5"), Rejection::kNegativeCurrent, "irms");
  expect_refused(with_field(good, "vrms", "1000.5"), Rejection::kVoltageTooHigh, "vrms");
  expect_refused(with_field(good, "vrms", "-1"), Rejection::kOutOfRange, "vrms");
  expect_refused(with_field(good, "pf", "1.5"), Rejection::kOutOfRange, "pf");
  expect_refused(with_field(good, "freq_hz", "400"), Rejection::kOutOfRange, "freq_hz");
  expect_refused(with_field(good, "e_import_wh", "-3"), Rejection::kOutOfRange, "e_import_wh");
  expect_refused(with_field(good, "seq", "-1"), Rejection::kOutOfRange, "seq");
  expect_refused(with_field(good, "seq", "1.5"), Rejection::kOutOfRange, "seq");
  expect_refused(with_field(good, "seq", "\"12\""), Rejection::kWrongType, "seq");
  expect_refused(with_field(good, "vrms", "\"230\""), Rejection::kWrongType, "vrms");
  expect_refused(with_field(good, "vrms", "true"), Rejection::kWrongType, "vrms");
  expect_refused(with_field(good, "flags", "-1"), Rejection::kOutOfRange, "flags");
  expect_refused(with_field(good, "time_ms", "1000"), Rejection::kOutOfRange, "time_ms");
}

TEST(ReadingCodec, AcceptsBoundaryValues) {
  Reading r = sample_reading();
  r.vrms = 1000.0;
  r.irms = 0.0;
  r.time_ms = kNow + kMaxFutureMs;  // exactly a day ahead is still accepted
  r.seq = kMaxSeq;
  auto d = decode_reading(encode(r), ctx());
  ASSERT_TRUE(d.ok()) << describe(d.error());
  EXPECT_EQ(d.value(), r);
}

TEST(ReadingCodec, RefusesTimeMoreThanADayAhead) {
  Reading r = sample_reading();
  r.time_ms = kNow + kMaxFutureMs + 1;
  auto d = decode_reading(encode(r), ctx());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(rejection_of(d.error()), Rejection::kTimeInFuture);
  EXPECT_EQ(d.error().field, "time_ms");
  EXPECT_EQ(d.error().value, std::to_string(r.time_ms));
}

TEST(ReadingCodec, ChecksMeterIdSyntaxAndTopicMatch) {
  const std::string good = encode(sample_reading());
  auto other = decode_reading(good, ctx("m002"));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(rejection_of(other.error()), Rejection::kMeterIdMismatch);
  EXPECT_EQ(other.error().value, "m001");
  expect_refused(with_field(good, "meter", "\"m/1\""), Rejection::kBadMeterId, "meter");
  expect_refused(with_field(good, "meter", "42"), Rejection::kWrongType, "meter");
  EXPECT_TRUE(decode_reading(good, ctx("")).ok());  // no topic check requested
}

TEST(ReadingCodec, ErrorTextNamesFieldValueAndReason) {
  auto d = decode_reading(with_field(encode(sample_reading()), "vrms", "1234.5"), ctx());
  ASSERT_FALSE(d.ok());
  const std::string text = describe(d.error());
  EXPECT_NE(text.find("vrms=1234.5"), std::string::npos) << text;
  EXPECT_NE(text.find("voltage_too_high"), std::string::npos) << text;
  EXPECT_EQ(text, "vrms=1234.5 rejected (voltage_too_high): Vrms above 1000 V");
}

TEST(Rejection, AnErrorWithoutARejectionNameCountsAsMalformedJson) {
  EXPECT_EQ(rejection_of(Error::io("disk full")), Rejection::kMalformedJson);
  EXPECT_EQ(rejection_of(rejection_error(Rejection::kTimeInFuture, "time_ms", "1", "ahead")), Rejection::kTimeInFuture);
}

TEST(Rejection, NamesAreStableAndInvertible) {
  EXPECT_EQ(rejection_name(Rejection::kMalformedJson), "malformed_json");
  EXPECT_EQ(rejection_name(Rejection::kUnknownMeter), "unknown_meter");
  for (Rejection r : all_rejections()) {
    auto back = rejection_from_name(rejection_name(r));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, r);
  }
  EXPECT_FALSE(rejection_from_name("nope"));
}

TEST(StatusCodec, RoundTripsAndAcceptsALastWillWithoutTime) {
  StatusMessage s{"m001", true, kNow, 5, "fw-1.2"};
  auto d = decode_status(encode(s), ctx());
  ASSERT_TRUE(d.ok()) << describe(d.error());
  EXPECT_EQ(d.value(), s);
  auto will = decode_status(R"({"meter":"m001","state":"offline"})", ctx());
  ASSERT_TRUE(will.ok());
  EXPECT_FALSE(will->online);
  EXPECT_EQ(will->time_ms, 0);
  auto bad = decode_status(R"({"meter":"m001","state":"sleepy"})", ctx());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(rejection_of(bad.error()), Rejection::kUnknownValue);
  EXPECT_EQ(bad.error().field, "state");
}

TEST(EventCodec, RoundTripsAndRefusesServerOnlyKinds) {
  MeterEvent e{"m001", EventKind::kNeutralMismatch, EventEdge::kOnset, kNow - 1000, "neutral 4.1 A vs phase 0.2 A"};
  auto d = decode_event(encode(e), ctx());
  ASSERT_TRUE(d.ok()) << describe(d.error());
  EXPECT_EQ(d.value(), e);
  for (std::string_view name : {"comm_loss", "earthquake"}) {
    auto bad = decode_event(R"({"meter":"m001","kind":")" + std::string(name) + R"(","edge":"onset","time_ms":)" +
                                std::to_string(kNow) + "}",
                            ctx());
    ASSERT_FALSE(bad.ok()) << name;
    EXPECT_EQ(rejection_of(bad.error()), Rejection::kUnknownValue);
    EXPECT_EQ(bad.error().field, "kind");
  }
  for (std::size_t i = 0; i < kEventKindCount; ++i) {
    const auto k = static_cast<EventKind>(i);
    EXPECT_EQ(event_kind_from_name(event_kind_name(k)), k);
  }
}

TEST(CommandCodec, RoundTripsAndRequiresPeriodForSetPeriod) {
  Command c{"c-17", "m001", CommandKind::kSetPeriod, 10u, kNow, kNow + 60'000, 0, ""};
  auto d = decode_command(encode(c), ctx());
  ASSERT_TRUE(d.ok()) << describe(d.error());
  EXPECT_EQ(d.value(), c);
  Command off{"c-18", "m001", CommandKind::kRelayOff, std::nullopt, kNow, 0, 0, ""};
  auto d2 = decode_command(encode(off), ctx());
  ASSERT_TRUE(d2.ok()) << describe(d2.error());
  EXPECT_EQ(d2.value(), off);
  auto bad =
      decode_command(R"({"id":"c1","meter":"m001","kind":"set_period","time_ms":)" + std::to_string(kNow) + "}", ctx());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "args.period_s");
  auto too_long =
      decode_command(R"({"id":"c1","meter":"m001","kind":"set_period","args":{"period_s":7200},"time_ms":)" +
                         std::to_string(kNow) + "}",
                     ctx());
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(rejection_of(too_long.error()), Rejection::kOutOfRange);
  EXPECT_EQ(too_long.error().field, "args.period_s");
}

// Found by fuzzing (fuzz/protocol_ack_fuzz.cc): a nonce without a mac was kept, so the decoded command differed
// from its own encoding (encode drops the nonce of an unsigned command).
TEST(CommandCodecFuzzFindings, ANonceWithoutAMacDecodesAsAnUnsignedCommandThatEncodesToItself) {
  auto d = decode_command(R"({"id":"c2","meter":"m001","kind":"relay_off","args":{},"time_ms":)" +
                              std::to_string(kNow) + R"(,"nonce":42})",
                          ctx());
  ASSERT_TRUE(d.ok()) << describe(d.error());
  EXPECT_TRUE(d.value().mac.empty());
  EXPECT_EQ(d.value().nonce, 0U);
  auto again = decode_command(encode(d.value()), ctx());
  ASSERT_TRUE(again.ok()) << describe(again.error());
  EXPECT_EQ(again.value(), d.value());
}

TEST(AckCodec, RoundTrips) {
  CommandAck a{"c-17", "m001", true, "relay opened", RelayState::kOff, 5, kNow};
  auto d = decode_ack(encode(a), ctx());
  ASSERT_TRUE(d.ok()) << describe(d.error());
  EXPECT_EQ(d.value(), a);
  auto bad = decode_ack(R"({"id":"c-17","meter":"m001","ok":"yes","time_ms":)" + std::to_string(kNow) + "}", ctx());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(rejection_of(bad.error()), Rejection::kWrongType);
  EXPECT_EQ(bad.error().field, "ok");
}

TEST(Validate, RefusesReadingsBuiltInMemory) {
  Reading r = sample_reading();
  r.vrms = std::numeric_limits<double>::quiet_NaN();
  auto e = validate(r, DecodeContext{});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(rejection_of(e.error()), Rejection::kNotFinite);
  EXPECT_EQ(e.error().reason, "not_finite");
  EXPECT_EQ(e.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(e.error().field, "vrms");
  EXPECT_TRUE(validate(sample_reading(), DecodeContext{}).ok());
}

}  // namespace
}  // namespace wattguard::protocol
