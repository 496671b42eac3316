// Binary recordings: encoder and a decoder that checks every header field and value.
#include "wattguard/sim/binary_recording.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

#include "sim/src/recording_error.h"

namespace wattguard::sim {
namespace {

void put_le(std::string* out, uint64_t value, int bytes) {
  for (int k = 0; k < bytes; ++k) out->push_back(static_cast<char>((value >> (8 * k)) & 0xff));
}

uint64_t get_le(std::string_view in, size_t at, int bytes) {
  uint64_t value = 0;
  for (int k = 0; k < bytes; ++k) {
    value |= static_cast<uint64_t>(static_cast<unsigned char>(in[at + static_cast<size_t>(k)])) << (8 * k);
  }
  return value;
}

Error error(std::string field, uint64_t value, std::string message) {
  return Error::invalid(std::move(field), std::to_string(value), std::move(message));
}

// The header fields a writer and a reader agree on; the reader's texts stay its own.
Expected<void> check_header(const Recording& rec) {
  if (rec.channels != 2 && rec.channels != 3) {
    return Error::invalid("channels", std::to_string(rec.channels),
                          "encode_binary_recording: channels = " + std::to_string(rec.channels) + ", expected 2 or 3");
  }
  if (rec.adc_bits < 10 || rec.adc_bits > 16) {
    return Error::invalid("adc_bits", std::to_string(rec.adc_bits),
                          "encode_binary_recording: adc_bits = " + std::to_string(rec.adc_bits) + ", expected 10..16");
  }
  if (rec.sample_rate_hz < 1 || rec.sample_rate_hz > 1000000) {
    return Error::invalid("sample_rate_hz", std::to_string(rec.sample_rate_hz),
                          "encode_binary_recording: sample_rate_hz = " + std::to_string(rec.sample_rate_hz) +
                              ", expected 1..1000000");
  }
  return {};
}

}  // namespace

Expected<std::string> encode_binary_recording(const Recording& rec) {
  if (auto header_ok = check_header(rec); !header_ok) return std::move(header_ok).error();
  std::string out(kBinaryRecordingMagic, sizeof kBinaryRecordingMagic);
  put_le(&out, static_cast<uint64_t>(rec.channels), 1);
  put_le(&out, static_cast<uint64_t>(rec.adc_bits), 1);
  put_le(&out, rec.sample_rate_hz, 4);
  put_le(&out, rec.samples.size(), 8);
  out.reserve(out.size() + rec.samples.size() * static_cast<size_t>(rec.channels) * 2);
  for (const auto& s : rec.samples) {
    put_le(&out, s.v, 2);
    put_le(&out, s.i, 2);
    if (rec.channels == 3) put_le(&out, s.n, 2);
  }
  return out;
}

Expected<Recording> decode_binary_recording(std::string_view in) {
  if (in.size() < kBinaryRecordingHeaderBytes) {
    return error("header", in.size(),
                 "binary recording: " + std::to_string(in.size()) + " bytes, shorter than the " +
                     std::to_string(kBinaryRecordingHeaderBytes) + "-byte header");
  }
  if (std::memcmp(in.data(), kBinaryRecordingMagic, sizeof kBinaryRecordingMagic) != 0) {
    return Error::invalid("magic", std::string(in.substr(0, sizeof kBinaryRecordingMagic)),
                          "binary recording: magic is not 'WGREC1'");
  }
  Recording rec;
  rec.channels = static_cast<int>(get_le(in, 6, 1));
  rec.adc_bits = static_cast<int>(get_le(in, 7, 1));
  const uint64_t rate = get_le(in, 8, 4);
  const uint64_t count = get_le(in, 12, 8);
  if (rec.channels != 2 && rec.channels != 3) {
    return error("channels", static_cast<uint64_t>(rec.channels),
                 "binary recording: channels = " + std::to_string(rec.channels) + ", expected 2 or 3");
  }
  if (rec.adc_bits < 10 || rec.adc_bits > 16) {
    return error("adc_bits", static_cast<uint64_t>(rec.adc_bits),
                 "binary recording: adc_bits = " + std::to_string(rec.adc_bits) + ", expected 10..16");
  }
  if (rate < 1 || rate > 1000000) {
    return error("sample_rate_hz", rate,
                 "binary recording: sample_rate_hz = " + std::to_string(rate) + ", expected 1..1000000");
  }
  rec.sample_rate_hz = static_cast<uint32_t>(rate);
  const uint64_t bytes_per_set = static_cast<uint64_t>(rec.channels) * 2;
  const uint64_t payload = in.size() - kBinaryRecordingHeaderBytes;
  if (count > payload / bytes_per_set || payload != count * bytes_per_set) {
    return error("sample_count", count,
                 "binary recording: header says " + std::to_string(count) + " sample sets (" + std::to_string(count) +
                     " x " + std::to_string(bytes_per_set) + " bytes) but the file holds " + std::to_string(payload) +
                     " bytes of samples");
  }
  const uint64_t max_value = (uint64_t{1} << rec.adc_bits) - 1;
  rec.samples.resize(static_cast<size_t>(count));
  size_t at = kBinaryRecordingHeaderBytes;
  static const char* const kNames[3] = {"v", "i", "n"};
  for (uint64_t k = 0; k < count; ++k) {
    uint16_t values[3] = {0, 0, 0};
    for (int c = 0; c < rec.channels; ++c) {
      const uint64_t value = get_le(in, at, 2);
      at += 2;
      if (value > max_value) {
        return error(kNames[c], value,
                     "binary recording: sample set " + std::to_string(k) + ", field " + kNames[c] + ": value " +
                         std::to_string(value) + " outside 0.." + std::to_string(max_value));
      }
      values[c] = static_cast<uint16_t>(value);
    }
    rec.samples[static_cast<size_t>(k)] = SampleSet{values[0], values[1], values[2]};
  }
  return rec;
}

Expected<Recording> read_binary_recording_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::io("cannot open recording '" + path + "'").at(path);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Expected<Recording> result = decode_binary_recording(bytes);
  if (!result.ok()) return in_file(std::move(result).error(), path);
  return result;
}

Expected<void> write_binary_recording_file(const std::string& path, const Recording& rec) {
  // Checked before the file is created, so a bad header leaves no empty file behind.
  Expected<std::string> bytes = encode_binary_recording(rec);
  if (!bytes.ok()) return std::move(bytes).error();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Error::io("cannot create '" + path + "'").at(path);
  out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  out.flush();
  if (!out) return Error::io("write to '" + path + "' failed").at(path);
  return {};
}

}  // namespace wattguard::sim
