// The errors of the analytics readers and checks: bad input at a place in a file, or a file that cannot be read.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "wattguard/base/error.h"

namespace wattguard::analytics {

// Bad input (kInvalidInput) found in `source` at a 1-based line (0: not tied to one), field and value, e.g.
// "T.csv line 7, field role, value \"chek\": role must be check or consumer". An empty source reads "input",
// so the message always says where.
inline Error input_error(std::string source, int64_t line, std::string field, std::string value, std::string message) {
  return Error::invalid(std::move(field), std::move(value), std::move(message))
      .at(source.empty() ? std::string("input") : std::move(source), line);
}

// A file or directory that cannot be opened, listed or read (kIoError): "<path>: <message>".
inline Error file_error(std::string path, std::string message) {
  return Error::io(std::move(message)).at(std::move(path));
}

}  // namespace wattguard::analytics
