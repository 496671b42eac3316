// Formatting of analytics errors for people.
#include "wattguard/analytics/result.h"

namespace wattguard::analytics {

std::string Error::to_string() const {
  std::string out = source.empty() ? std::string("input") : source;
  if (line > 0) out += " line " + std::to_string(line);
  if (!field.empty()) out += ", field " + field;
  if (!value.empty() || !field.empty()) {
    // Keep messages one line long even when the value is a whole mangled row.
    std::string shown = value.size() > 80 ? value.substr(0, 77) + "..." : value;
    for (char& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20) c = '?';
    }
    out += ", value \"" + shown + "\"";
  }
  out += ": " + message;
  return out;
}

}  // namespace wattguard::analytics
