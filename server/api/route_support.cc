// The API's shared error responses, body and parameter readers, and audit writing.
#include "server/api/route_support.h"

#include <spdlog/spdlog.h>

#include "wattguard/api/api_handler.h"

namespace wattguard::api {

using nlohmann::json;

HttpResponse bad_param(std::string_view field, std::string_view message) {
  return error_response(400, "bad_parameter", field, message);
}

HttpResponse bad_param(const Error& error) { return bad_param(error.field, error.message); }

HttpResponse forbidden(std::string_view message) { return error_response(403, "forbidden", "", message); }

HttpResponse route_not_found() { return error_response(404, "not_found", "", "no such API route"); }

HttpResponse method_not_allowed(std::string_view allow) {
  HttpResponse r =
      error_response(405, "method_not_allowed", "", "method not allowed here; allowed: " + std::string(allow));
  r.set_header("Allow", std::string(allow));
  return r;
}

HttpResponse no_content() {
  HttpResponse r;
  r.status = 204;
  r.set_header("Cache-Control", "no-store");
  return r;
}

HttpResponse error_answer(const Error& e, std::string_view part) {
  switch (e.code) {
    case ErrorCode::kInvalidInput: return bad_param(e);
    case ErrorCode::kNotFound: return error_response(404, "not_found", e.field, e.message);
    case ErrorCode::kAlreadyExists: return error_response(409, "conflict", e.field, e.message);
    case ErrorCode::kPermissionDenied: return error_response(401, "unauthorized", e.field, e.message);
    case ErrorCode::kUnavailable: return error_response(503, "unavailable", e.field, e.message);
    default: return storage_error(e, part);
  }
}

HttpResponse storage_error(const Error& status, std::string_view part) {
  spdlog::error("api: {}{}storage error: {} ({})", part, part.empty() ? "" : " ", status.message,
                error_code_name(status.code));
  return error_response(500, "storage_error", "", "the database could not answer; see the server log");
}

Expected<std::optional<std::string>> string_member(const json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Error::invalid(name, it->dump(), std::string(name) + " must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

JsonBody::JsonBody(const HttpRequest& req) {
  if (req.body.empty()) {
    refusal_ = bad_param("body", "a JSON object body is required");
    return;
  }
  body_ = json::parse(req.body, nullptr, false);
  if (body_.is_discarded() || !body_.is_object()) {
    refusal_ = bad_param("body", "the body is not a JSON object");
    return;
  }
}

std::optional<std::string> JsonBody::string(const char* name) {
  if (!ok()) return std::nullopt;
  auto value = string_member(body_, name);
  if (!value.ok()) {
    refusal_ = bad_param(value.error());
    return std::nullopt;
  }
  return std::move(value).value();
}

Expected<int64_t> time_param(const RequestTarget& t, const char* name, int64_t absent_ms) {
  const std::string* v = t.param(name);
  if (v == nullptr) return absent_ms;
  const auto s = parse_time_value(*v);
  if (!s) {
    return Error::invalid(
        name, *v, std::string(name) + " = '" + *v + "': expected Unix seconds or ISO 8601 (e.g. 2024-05-01T10:00:00Z)");
  }
  return *s * 1000;
}

Expected<int64_t> int_param(const RequestTarget& t, const char* name, int64_t lo, int64_t hi, int64_t absent) {
  const std::string* v = t.param(name);
  if (v == nullptr) return absent;
  const auto n = parse_int_value(*v, lo, hi);
  if (!n) {
    return Error::invalid(name, *v,
                          std::string(name) + " = '" + *v + "': expected an integer from " + std::to_string(lo) +
                              " to " + std::to_string(hi));
  }
  return *n;
}

void write_audit(storage::ReadingStore& store, int64_t time_ms, const Caller& caller, const std::string& action,
                 const std::string& target, const std::string& details) {
  storage::AuditEntry e;
  e.time_ms = time_ms;
  e.actor = caller.name;
  e.action = action;
  e.target = target;
  e.details = details;
  const auto r = store.append_audit(e);
  if (!r.ok()) spdlog::warn("api: audit entry {} {} not written: {}", action, target, r.error().message);
}

}  // namespace wattguard::api
