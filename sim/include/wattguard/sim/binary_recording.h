// Binary recordings ("WGREC1"): a 20-byte little-endian header, then uint16 samples.
// Format: docs/recording-format.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wattguard/sim/recording.h"

namespace wattguard::sim {

inline constexpr char kBinaryRecordingMagic[6] = {'W', 'G', 'R', 'E', 'C', '1'};
inline constexpr size_t kBinaryRecordingHeaderBytes = 20;

// Encodes a recording (sample_rate_hz 1..1,000,000, adc_bits 10..16, channels 2 or 3); a header field
// outside those ranges is an Error naming it.
Expected<std::string> encode_binary_recording(const Recording& recording);
// Decodes and checks every field; errors name the field (and the sample for bad values).
Expected<Recording> decode_binary_recording(std::string_view bytes);

// The path goes into the Error's source and in front of its message.
Expected<Recording> read_binary_recording_file(const std::string& path);
Expected<void> write_binary_recording_file(const std::string& path, const Recording& recording);

}  // namespace wattguard::sim
