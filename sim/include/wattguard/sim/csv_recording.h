// CSV recordings: a header line `v,i` or `v,i,n`, then one sample set per row in integer counts.
// Format: docs/recording-format.md.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <string_view>

#include "wattguard/sim/recording.h"

namespace wattguard::sim {

// Reads a CSV recording row by row, so long recordings need not fit in memory.
// Every problem is reported as a wattguard::Error naming the line and field; the reader never
// throws for bad input. Not thread-safe.
class CsvRecordingReader {
 public:
  enum class Next { kSample, kEnd, kError };

  // Checks an ADC width before a reader is made with it: an Error naming adc_bits when outside 10..16.
  static Expected<void> validate_adc_bits(int adc_bits);
  // REQUIRES: validate_adc_bits(adc_bits) is ok (values must be within 0..2^adc_bits-1).
  CsvRecordingReader(std::istream& in, int adc_bits);

  // Reads the header line. Returns false (see error()) for an empty file or a bad header.
  bool read_header();
  int channels() const { return channels_; }  // 2 or 3, after read_header()
  // The next sample set (kSample), the end of the data (kEnd) or a bad row (kError).
  // Blank lines are skipped. REQUIRES: read_header() returned true.
  Next next(SampleSet* out);
  const Error& error() const { return error_; }  // REQUIRES: the last call failed
  uint64_t line() const { return line_; }        // number of the last line read

 private:
  bool get_line(std::string* line);
  Next fail(std::string field, std::string_view value, std::string message);

  std::istream& in_;
  int adc_bits_;
  long max_value_;
  int channels_ = 0;
  uint64_t line_ = 0;
  Error error_;
};

// Reads a whole CSV recording. A file with a header but no rows is an error too (there is
// nothing to analyse). sample_rate_hz is left 0 (CSV does not carry it). adc_bits outside 10..16 is an
// Error naming adc_bits. The _file reader puts the path in the Error's source and in front of its message.
Expected<Recording> read_csv_recording(std::istream& in, int adc_bits);
Expected<Recording> read_csv_recording(std::string_view text, int adc_bits);
Expected<Recording> read_csv_recording_file(const std::string& path, int adc_bits);

// Writes the header and rows (channels 2 or 3). Returns false if the stream failed.
bool write_csv_recording(std::ostream& out, const Recording& recording);
// An io Error whose message says what failed ("cannot create '<path>'") when the file cannot be written.
Expected<void> write_csv_recording_file(const std::string& path, const Recording& recording);

}  // namespace wattguard::sim
