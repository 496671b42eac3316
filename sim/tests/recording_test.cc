// Tests of CSV and binary recordings: round trips and bad input rejected with line and field.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "wattguard/sim/binary_recording.h"
#include "wattguard/sim/constant_profile.h"
#include "wattguard/sim/csv_recording.h"
#include "wattguard/sim/meter_simulator.h"

namespace wattguard::sim {
namespace {

Recording simulated(int channels, size_t n) {
  SimConfig config;
  LoadState load;
  load.irms_a = 25.0;
  load.harmonics = {{3, 30.0, 0.0}};
  MeterSimulator sim(config, std::make_shared<ConstantProfile>(load));
  Recording rec;
  rec.sample_rate_hz = 4000;
  rec.channels = channels;
  rec.samples.resize(n);
  sim.generate(rec.samples);
  if (channels == 2) {
    for (auto& s : rec.samples) s.n = 0;
  }
  return rec;
}

Error csv_error(const std::string& text, int bits = 12) {
  const Expected<Recording> r = read_csv_recording(text, bits);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? Error{} : r.error();
}

TEST(CsvRecording, RoundTripTwoAndThreeChannels) {
  for (int channels : {2, 3}) {
    const Recording rec = simulated(channels, 5000);
    std::ostringstream out;
    ASSERT_TRUE(write_csv_recording(out, rec));
    EXPECT_EQ(out.str().substr(0, channels == 3 ? 6 : 4), channels == 3 ? "v,i,n\n" : "v,i\n");
    const Expected<Recording> back = read_csv_recording(out.str(), 12);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back.value().channels, channels);
    EXPECT_EQ(back.value().samples, rec.samples);
  }
}

TEST(CsvRecording, FileRoundTrip) {
  const Recording rec = simulated(3, 1000);
  const std::string path = (std::filesystem::temp_directory_path() / "wattguard_sim_rec_test.csv").string();
  ASSERT_TRUE(write_csv_recording_file(path, rec).ok());
  const Expected<Recording> back = read_csv_recording_file(path, 12);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back.value().samples, rec.samples);
  std::remove(path.c_str());
  const Expected<Recording> missing = read_csv_recording_file(path, 12);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("cannot open"), std::string::npos);
  EXPECT_EQ(missing.error().source, path);
}

TEST(CsvRecording, FileErrorsNameTheFileLineAndField) {
  const std::string path = (std::filesystem::temp_directory_path() / "wattguard_sim_rec_bad.csv").string();
  {
    std::ofstream out(path, std::ios::binary);
    out << "v,i\n1,2\n3,x\n";
  }
  const Expected<Recording> bad = read_csv_recording_file(path, 12);
  std::remove(path.c_str());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().source, path);
  EXPECT_EQ(bad.error().line, 3);
  EXPECT_EQ(bad.error().field, "i");
  EXPECT_EQ(bad.error().value, "x");
  EXPECT_EQ(bad.error().message, path + ": line 3, field i: 'x' is not an integer count");
}

TEST(CsvRecording, AdcBitsOutsideTheRangeIsAnErrorNotAThrow) {
  const Expected<Recording> r = read_csv_recording(std::string_view("v,i\n1,2\n"), 17);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "adc_bits");
  EXPECT_EQ(r.error().value, "17");
  EXPECT_FALSE(CsvRecordingReader::validate_adc_bits(9).ok());
  EXPECT_TRUE(CsvRecordingReader::validate_adc_bits(10).ok());
  EXPECT_TRUE(CsvRecordingReader::validate_adc_bits(16).ok());
}

TEST(CsvRecording, WritingToAnUncreatableFileIsAnIoError) {
  const Expected<void> written = write_csv_recording_file("/nonexistent-dir/x.csv", simulated(2, 10));
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, ErrorCode::kIoError);
  EXPECT_EQ(written.error().message, "cannot create '/nonexistent-dir/x.csv'");
}

TEST(CsvRecording, AcceptsCrLfSpacesBlankLinesAndBom) {
  const Expected<Recording> r = read_csv_recording("\xEF\xBB\xBFv, i\r\n1,2\r\n\r\n 3 , 4 \r\n", 12);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r.value().samples.size(), 2u);
  EXPECT_EQ(r.value().samples[1], (SampleSet{3, 4, 0}));
}

TEST(CsvRecording, RejectsEmptyFile) {
  for (const std::string text : {"", "\n\n", "   \r\n"}) {
    const Error e = csv_error(text);
    EXPECT_EQ(e.field, "header");
    EXPECT_NE(e.message.find("empty file"), std::string::npos) << e.message;
    EXPECT_GE(e.line, 1);
  }
}

TEST(CsvRecording, RejectsWrongHeader) {
  for (const std::string text : {"i,v\n1,2\n", "v\n1\n", "v,i,n,x\n1,2,3,4\n", "1,2\n3,4\n", "V,I\n1,2\n"}) {
    const Error e = csv_error(text);
    EXPECT_EQ(e.line, 1) << text;
    EXPECT_EQ(e.field, "header");
    EXPECT_NE(e.message.find("line 1"), std::string::npos) << e.message;
  }
}

TEST(CsvRecording, RejectsHeaderWithoutRows) {
  const Error e = csv_error("v,i\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_NE(e.message.find("no sample rows"), std::string::npos);
}

TEST(CsvRecording, RejectsMalformedRowNamingLineAndField) {
  const Error e = csv_error("v,i\n1,2\n3,4\n5,6\n7,x8\n9,10\n");
  EXPECT_EQ(e.line, 5);
  EXPECT_EQ(e.field, "i");
  EXPECT_EQ(e.message, "line 5, field i: 'x8' is not an integer count");
  EXPECT_EQ(csv_error("v,i\n1.5,2\n").message, "line 2, field v: '1.5' is not an integer count");
  EXPECT_EQ(csv_error("v,i\n-,2\n").field, "v");
  EXPECT_EQ(csv_error("v,i\n1,\n").message, "line 2, field i: empty value");
}

TEST(CsvRecording, RejectsValuesOutsideTheAdcRange) {
  const Error e = csv_error("v,i,n\n1,2,3\n4095,0,4096\n");
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.field, "n");
  EXPECT_EQ(e.message, "line 3, field n: value '4096' outside 0..4095 (12-bit ADC)");
  EXPECT_EQ(csv_error("v,i\n-1,2\n").field, "v");
  EXPECT_EQ(csv_error("v,i\n1,99999999999999999999999\n").field, "i");
  EXPECT_TRUE(read_csv_recording("v,i\n65535,0\n", 16).ok());
  EXPECT_EQ(csv_error("v,i\n1024,0\n", 10).message, "line 2, field v: value '1024' outside 0..1023 (10-bit ADC)");
}

TEST(CsvRecording, RejectsMissingAndExtraColumns) {
  const Error missing = csv_error("v,i,n\n1,2,3\n4,5\n");
  EXPECT_EQ(missing.line, 3);
  EXPECT_EQ(missing.field, "n");
  EXPECT_NE(missing.message.find("missing"), std::string::npos);
  const Error extra = csv_error("v,i\n1,2\n3,4,5,6\n");
  EXPECT_EQ(extra.line, 3);
  EXPECT_EQ(extra.message, "line 3: 4 fields, the header has 2");
}

TEST(CsvRecording, RejectsOverlongLinesAndQuotesControlBytes) {
  EXPECT_NE(csv_error("v,i\n1," + std::string(5000, '2') + "\n").message.find("longer than"), std::string::npos);
  const Error e = csv_error(std::string("v,i\n1,\x01\x7f\n"));
  EXPECT_EQ(e.message, "line 2, field i: '\\x01\\x7f' is not an integer count");
}

TEST(CsvRecording, StreamingReaderStopsAtTheBadRow) {
  std::istringstream in("v,i\n1,2\n3,4\nbad\n5,6\n");
  CsvRecordingReader reader(in, 12);
  ASSERT_TRUE(reader.read_header());
  SampleSet s;
  EXPECT_EQ(reader.next(&s), CsvRecordingReader::Next::kSample);
  EXPECT_EQ(reader.next(&s), CsvRecordingReader::Next::kSample);
  EXPECT_EQ(s, (SampleSet{3, 4, 0}));
  EXPECT_EQ(reader.next(&s), CsvRecordingReader::Next::kError);
  EXPECT_EQ(reader.error().line, 4);
}

TEST(BinaryRecording, RoundTrip) {
  for (int channels : {2, 3}) {
    Recording rec = simulated(channels, 3000);
    rec.sample_rate_hz = 8000;
    const std::string bytes = encode_binary_recording(rec).value();
    EXPECT_EQ(bytes.size(), 20u + 3000u * 2u * static_cast<size_t>(channels));
    EXPECT_EQ(bytes.substr(0, 6), "WGREC1");
    const Expected<Recording> back = decode_binary_recording(bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back.value().sample_rate_hz, 8000u);
    EXPECT_EQ(back.value().channels, channels);
    EXPECT_EQ(back.value().adc_bits, 12);
    EXPECT_EQ(back.value().samples, rec.samples);
  }
}

TEST(BinaryRecording, HeaderIsLittleEndian) {
  Recording rec;
  rec.sample_rate_hz = 0x01020304;  // too high: check the encoder refuses it
  const Expected<std::string> refused = encode_binary_recording(rec);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "sample_rate_hz");
  EXPECT_EQ(refused.error().value, "16909060");
  rec.sample_rate_hz = 4000;
  rec.channels = 4;
  EXPECT_EQ(encode_binary_recording(rec).error().field, "channels");
  rec.channels = 2;
  rec.adc_bits = 8;
  EXPECT_EQ(encode_binary_recording(rec).error().field, "adc_bits");
  EXPECT_EQ(write_binary_recording_file("/nonexistent-dir/x.bin", rec).error().field, "adc_bits");
  rec.adc_bits = 12;
  rec.sample_rate_hz = 4000;
  rec.samples = {{0x0102, 0x0304, 0}};
  const std::string b = encode_binary_recording(rec).value();
  EXPECT_EQ(static_cast<unsigned char>(b[6]), 2);
  EXPECT_EQ(static_cast<unsigned char>(b[7]), 12);
  EXPECT_EQ(static_cast<unsigned char>(b[8]), 0xa0);  // 4000 = 0x0fa0
  EXPECT_EQ(static_cast<unsigned char>(b[9]), 0x0f);
  EXPECT_EQ(static_cast<unsigned char>(b[12]), 1);  // count
  EXPECT_EQ(static_cast<unsigned char>(b[20]), 0x02);
  EXPECT_EQ(static_cast<unsigned char>(b[21]), 0x01);
}

TEST(BinaryRecording, RejectsBadInput) {
  Recording rec = simulated(2, 10);
  rec.sample_rate_hz = 4000;
  const std::string good = encode_binary_recording(rec).value();
  EXPECT_EQ(decode_binary_recording(good.substr(0, 10)).error().field, "header");
  std::string bad = good;
  bad[0] = 'X';
  EXPECT_EQ(decode_binary_recording(bad).error().field, "magic");
  bad = good;
  bad[6] = 4;
  EXPECT_EQ(decode_binary_recording(bad).error().field, "channels");
  bad = good;
  bad[7] = 9;
  EXPECT_EQ(decode_binary_recording(bad).error().field, "adc_bits");
  bad = good;
  bad[8] = bad[9] = bad[10] = bad[11] = 0;
  EXPECT_EQ(decode_binary_recording(bad).error().field, "sample_rate_hz");
  EXPECT_EQ(decode_binary_recording(good.substr(0, good.size() - 1)).error().field, "sample_count");
  bad = good;
  bad[19] = 0x7f;  // absurd count, must not allocate
  EXPECT_EQ(decode_binary_recording(bad).error().field, "sample_count");
  bad = good;
  bad[20 + 4 * 3 + 3] = 0x10;  // sample set 3, field i: 0x10xx > 4095
  const Error e = decode_binary_recording(bad).error();
  EXPECT_EQ(e.field, "i");
  EXPECT_EQ(e.value, std::to_string(0x1000 + static_cast<unsigned char>(bad[20 + 4 * 3 + 2])));
  EXPECT_NE(e.message.find("sample set 3"), std::string::npos) << e.message;
}

}  // namespace
}  // namespace wattguard::sim
