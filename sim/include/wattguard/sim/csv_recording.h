// CSV recordings: a header line `v,i` or `v,i,n`, then one sample set per row in integer counts.
// Format: docs/recording-format.md.
#pragma once

#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "wattguard/sim/recording.h"

namespace wattguard::sim {

// Reads a CSV recording row by row, so long recordings need not fit in memory.
// Every problem is reported as a RecordingError naming the line and field; the reader never
// throws for bad input. Not thread-safe.
class CsvRecordingReader {
 public:
  enum class Next { kSample, kEnd, kError };

  // REQUIRES: 10 <= adc_bits <= 16 (values must be within 0..2^adc_bits-1).
  CsvRecordingReader(std::istream& in, int adc_bits);

  // Reads the header line. Returns false (see error()) for an empty file or a bad header.
  bool read_header();
  int channels() const { return channels_; }   // 2 or 3, after read_header()
  // The next sample set (kSample), the end of the data (kEnd) or a bad row (kError).
  // Blank lines are skipped. REQUIRES: read_header() returned true.
  Next next(SampleSet* out);
  const RecordingError& error() const { return error_; }
  uint64_t line() const { return line_; }      // number of the last line read

 private:
  bool get_line(std::string* line);
  Next fail(std::string field, std::string message);

  std::istream& in_;
  int adc_bits_;
  long max_value_;
  int channels_ = 0;
  uint64_t line_ = 0;
  RecordingError error_;
};

// Reads a whole CSV recording. A file with a header but no rows is an error too (there is
// nothing to analyse). sample_rate_hz is left 0 (CSV does not carry it).
RecordingResult read_csv_recording(std::istream& in, int adc_bits);
RecordingResult read_csv_recording(std::string_view text, int adc_bits);
RecordingResult read_csv_recording_file(const std::string& path, int adc_bits);

// Writes the header and rows (channels 2 or 3). Returns false if the stream failed.
bool write_csv_recording(std::ostream& out, const Recording& recording);
// Returns an error message, or nullopt on success.
std::optional<std::string> write_csv_recording_file(const std::string& path, const Recording& recording);

}  // namespace wattguard::sim
