// The Blynk HTTP API for scripts, on the server's HTTP port: the archived blynk-server's `/{token}/update/V1?value=`,
// `/{token}/get/V1` and `/{token}/isHardwareConnected`, and Blynk IoT's `/external/api/update?token=&V1=`,
// `/external/api/get?token=&V1` and `/external/api/isHardwareConnected?token=`. A script that updates pins acts
// as the meter's device: its values go through the same pin map and reading assembly as a sketch's writes. `get`
// answers from the meter's newest reading (and relay state). Plain values in and out; the HTTP server is the
// API part's (the serve wiring adapts). Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wattguard::blynk {

struct HttpApiRequest {
  std::string method;                                      // "GET", "PUT"...
  std::string path;                                        // percent-decoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::string remote;                                      // client address (wrong tokens are delayed per address)
};

struct HttpApiAnswer {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  int delay_ms = 0;  // answer after this long (a wrong token)
};

}  // namespace wattguard::blynk
