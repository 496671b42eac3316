// The Blynk HTTP API's routes (wattguard/blynk/http_api.h) over the shared BlynkHub, with one reading assembler
// per meter updated over HTTP. Private to server/blynk. Thread-safe: one mutex over the assemblers.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "server/blynk/blynk_hub.h"
#include "wattguard/blynk/http_api.h"
#include "wattguard/blynk/reading_assembler.h"

namespace wattguard::blynk {

class BlynkHttpApi {
 public:
  explicit BlynkHttpApi(BlynkHub& hub) : hub_(hub) {}

  // nullopt: not a Blynk path (the caller goes on to its own routes).
  std::optional<HttpApiAnswer> handle(const HttpApiRequest& request);
  // Ends the periods of scripts that went quiet (called a few times a second).
  void tick();

 private:
  HttpApiAnswer update(const std::string& meter, const std::vector<std::pair<int, std::string>>& writes);
  HttpApiAnswer get(const std::string& meter, const std::vector<int>& pins, bool json_array);
  HttpApiAnswer connected(const std::string& meter);
  std::optional<HttpApiAnswer> authenticate(const std::string& token, const std::string& remote, std::string& meter);

  BlynkHub& hub_;
  std::mutex mutex_;
  std::unordered_map<std::string, ReadingAssembler> assemblers_;  // guarded by mutex_: per meter
};

}  // namespace wattguard::blynk
