// Errors as values for the analytics readers and checks: Result<T> holds either a value or an Error
// that names the source, line, field and offending value.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace wattguard::analytics {

struct Error {
  std::string source;   // file name, or "readings"/"topology" for in-memory text
  int64_t line = 0;     // 1-based line number; 0 when the error is not tied to one line
  std::string field;    // column or JSON path; empty when the whole row is wrong
  std::string value;    // the offending text, as found
  std::string message;  // what is wrong, in words

  // "T.csv line 7, field role, value \"chek\": role must be check or consumer"
  std::string to_string() const;
};

// A value or an Error. Cheap to move; never throws on the error path.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose, like std::expected
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  // REQUIRES: ok()
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  // REQUIRES: !ok()
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace wattguard::analytics
