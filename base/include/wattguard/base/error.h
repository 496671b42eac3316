// The one error type of the host code: what kind of failure, and a message that names the field, the value
// and where it was found (file and line, meter, setting). core/ keeps its own Status (no strings on an MCU).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wattguard {

// Broad classes a caller branches on; the HTTP layer maps them to status codes. Never renumber: the names
// are part of the API's error bodies ("error": "not_found").
enum class ErrorCode : uint8_t {
  kInvalidInput,      // "invalid_input": a value, row, payload or setting that breaks the rules
  kNotFound,          // "not_found": no such meter, user, command, file...
  kAlreadyExists,     // "already_exists": an id or name that is taken
  kIoError,           // "io_error": a file or database could not be read or written (disk full, locked...)
  kCorruption,        // "corruption": stored data that is not what this build wrote (or from a newer one)
  kUnavailable,       // "unavailable": a service we depend on is not there now (broker, child process)
  kPermissionDenied,  // "permission_denied": the caller may not do this
  kInternal,          // "internal": a failure of our own or of a library that has no better class
};

// Stable snake_case name ("not_found").
std::string_view error_code_name(ErrorCode code);

// Every field but `code` and `message` is optional: fill what is known, so the text reads
// "readings.csv line 7, field kwh, value \"-3\": energy must not be negative".
struct Error {
  ErrorCode code = ErrorCode::kInvalidInput;
  std::string message;  // what is wrong, in words
  std::string field;    // setting, column, JSON key or parameter at fault; empty when the whole input is
  std::string value;    // the offending value as found (shown truncated)
  std::string source;   // file name, meter id, topic or request the input came from
  int64_t line = 0;     // 1-based line in `source`; 0 when not tied to a line
  // A finer stable key within `code` where callers count or branch on it (the protocol's rejection names,
  // "voltage_too_high"); empty when there is none.
  std::string reason;

  static Error invalid(std::string field, std::string value, std::string message);
  static Error not_found(std::string message);
  static Error already_exists(std::string message);
  static Error io(std::string message);
  static Error corruption(std::string message);
  static Error unavailable(std::string message);
  static Error permission_denied(std::string message);
  static Error internal(std::string message);

  // Fluent setters for the optional parts: Error::invalid(...).at("T.csv", 7).
  Error&& at(std::string source_name, int64_t line_number = 0) &&;
  Error&& because(std::string reason_key) &&;

  // One line for people and logs: "<source> line <n>, field <f>, value "<v>": <message>". Control characters
  // in the value are shown as '?', and long values are cut, so a mangled row cannot break a log line.
  std::string to_string() const;
};

}  // namespace wattguard
