// Error names and the one-line text of an Error.
#include "wattguard/base/error.h"

#include <utility>

namespace wattguard {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput: return "invalid_input";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kAlreadyExists: return "already_exists";
    case ErrorCode::kIoError: return "io_error";
    case ErrorCode::kCorruption: return "corruption";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

namespace {

Error make(ErrorCode code, std::string message) {
  Error e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

}  // namespace

Error Error::invalid(std::string field, std::string value, std::string message) {
  Error e = make(ErrorCode::kInvalidInput, std::move(message));
  e.field = std::move(field);
  e.value = std::move(value);
  return e;
}
Error Error::not_found(std::string message) { return make(ErrorCode::kNotFound, std::move(message)); }
Error Error::already_exists(std::string message) { return make(ErrorCode::kAlreadyExists, std::move(message)); }
Error Error::io(std::string message) { return make(ErrorCode::kIoError, std::move(message)); }
Error Error::corruption(std::string message) { return make(ErrorCode::kCorruption, std::move(message)); }
Error Error::unavailable(std::string message) { return make(ErrorCode::kUnavailable, std::move(message)); }
Error Error::permission_denied(std::string message) { return make(ErrorCode::kPermissionDenied, std::move(message)); }
Error Error::internal(std::string message) { return make(ErrorCode::kInternal, std::move(message)); }

Error&& Error::at(std::string source_name, int64_t line_number) && {
  source = std::move(source_name);
  line = line_number;
  return std::move(*this);
}

Error&& Error::because(std::string reason_key) && {
  reason = std::move(reason_key);
  return std::move(*this);
}

std::string Error::to_string() const {
  std::string out = source;
  if (line > 0) out += (out.empty() ? "line " : " line ") + std::to_string(line);
  const auto sep = [&out] {
    if (!out.empty()) out += ", ";
  };
  if (!field.empty()) {
    sep();
    out += "field " + field;
  }
  if (!value.empty() || !field.empty()) {
    // Keep messages one line long even when the value is a whole mangled row.
    std::string shown = value.size() > 80 ? value.substr(0, 77) + "..." : value;
    for (char& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20) c = '?';
    }
    sep();
    out += "value \"" + shown + "\"";
  }
  if (!out.empty()) out += ": ";
  out += message;
  return out;
}

}  // namespace wattguard
