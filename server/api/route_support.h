// What every route group of the API answers with: the error responses (docs/api.md "Errors"), reading a JSON
// body and query parameters with a 400 naming the parameter, and writing the audit log. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "wattguard/api/http_message.h"
#include "wattguard/api/request_target.h"
#include "wattguard/base/error.h"
#include "wattguard/base/expected.h"
#include "wattguard/storage/reading_store.h"

namespace wattguard::api {

struct Caller;

HttpResponse bad_param(std::string_view field, std::string_view message);  // 400 bad_parameter
HttpResponse bad_param(const Error& error);                                // the same, for error.field
HttpResponse forbidden(std::string_view message);                          // 403 forbidden
HttpResponse route_not_found();                                            // 404 not_found: no such API route
HttpResponse method_not_allowed(std::string_view allow);                   // 405 with the Allow header
HttpResponse no_content();                                                 // 204, not cached
// 500 storage_error; the details go to the log only. `part` names the store in the log line ("grid").
HttpResponse storage_error(const Error& status, std::string_view part = "");

// An Error from a part as the answer: bad input names its field (400), then 404, 409, 401, 503 by its code; the
// rest is a storage_error logged under `part`.
HttpResponse error_answer(const Error& e, std::string_view part);

// A string member of `body`: nullopt when absent or null; an Error naming it when present but not a string.
Expected<std::optional<std::string>> string_member(const nlohmann::json& body, const char* name);

// A request body that must be a JSON object, and its string members. The first problem found (no body, not an
// object, a member of the wrong type) is kept as the 400 to answer; members read after it are nullopt.
class JsonBody {
 public:
  explicit JsonBody(const HttpRequest& req);

  bool ok() const { return !refusal_; }
  // REQUIRES: !ok().
  const HttpResponse& refusal() const { return *refusal_; }
  // REQUIRES: the body parsed (a refusal about a member does not matter).
  const nlohmann::json& object() const { return body_; }
  std::optional<std::string> string(const char* name);

 private:
  nlohmann::json body_;
  std::optional<HttpResponse> refusal_;
};

// Query parameter `name` as a time (Unix seconds or ISO 8601) in Unix ms; `absent_ms` when not given. An Error
// naming the parameter and its value when malformed.
Expected<int64_t> time_param(const RequestTarget& t, const char* name, int64_t absent_ms);
// Query parameter `name` as an integer in [lo, hi]; `absent` when not given. An Error naming it when not.
Expected<int64_t> int_param(const RequestTarget& t, const char* name, int64_t lo, int64_t hi, int64_t absent);

// Appends one entry to the audit log at `time_ms`; a failure is logged, not answered (the change itself is done).
void write_audit(storage::ReadingStore& store, int64_t time_ms, const Caller& caller, const std::string& action,
                 const std::string& target, const std::string& details);

}  // namespace wattguard::api
