// Shared by the CSV and binary *_file readers: ties a reader's Error to the file it came from.
#pragma once

#include <string>
#include <utility>

#include "wattguard/base/error.h"

namespace wattguard::sim {

// The path goes into the Error's source and in front of its message, which is printed on its own
// ("rec.csv: line 7, field i: ...").
inline Error in_file(Error error, const std::string& path) {
  error.source = path;
  error.message = path + ": " + error.message;
  return error;
}

}  // namespace wattguard::sim
