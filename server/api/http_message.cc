// Helpers on the plain HTTP values: header look-up and the JSON response shapes.
#include "wattguard/api/http_message.h"

#include <nlohmann/json.hpp>

namespace wattguard::api {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return out;
}

HttpResponse finish_offloaded(HttpResponse response) {
  while (response.offload) {
    auto work = std::move(response.offload);
    response = work();
  }
  return response;
}

const std::string* HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return &value;
  }
  return nullptr;
}

void HttpRequest::set_header(std::string name, std::string value) {
  name = ascii_lower(name);
  for (auto& [key, existing] : headers) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

const std::string* HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return &value;
  }
  return nullptr;
}

void HttpResponse::set_header(std::string name, std::string value) {
  for (auto& [key, existing] : headers) {
    if (iequals(key, name)) {
      existing = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

void HttpResponse::add_header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
}

HttpResponse json_response(int status, const nlohmann::json& body) {
  HttpResponse res;
  res.status = status;
  res.set_header("Content-Type", "application/json");
  res.set_header("Cache-Control", "no-store");
  // Replace invalid UTF-8 (e.g. from a meter id) instead of throwing.
  res.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return res;
}

HttpResponse error_response(int status, std::string_view code, std::string_view field, std::string_view message) {
  nlohmann::json error = {{"code", code}, {"message", message}};
  if (!field.empty()) error["field"] = field;
  return json_response(status, nlohmann::json{{"error", std::move(error)}});
}

}  // namespace wattguard::api
