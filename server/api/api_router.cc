// Matching requests against the routing table.
#include "server/api/api_router.h"

#include "server/api/route_support.h"

namespace wattguard::api {

void ApiRouter::add(std::string method, std::string_view pattern, RouteHandler handler) {
  routes_.push_back({std::move(method), path_segments(pattern), std::move(handler), false});
}

void ApiRouter::add_public(std::string method, std::string_view pattern, RouteHandler handler) {
  routes_.push_back({std::move(method), path_segments(pattern), std::move(handler), true});
}

void ApiRouter::add_fallback(FallbackRoutes fallback) { fallbacks_.push_back(std::move(fallback)); }

bool ApiRouter::path_matches(const Route& route, const std::vector<std::string>& segments,
                             std::vector<std::string>* params) {
  if (route.pattern.size() != segments.size()) return false;
  params->clear();
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& p = route.pattern[i];
    if (!p.empty() && p.front() == '{') {
      params->push_back(segments[i]);
    } else if (p != segments[i]) {
      return false;
    }
  }
  return true;
}

bool ApiRouter::method_matches(const Route& route, const std::string& method) {
  return route.method == "*" || route.method == method;
}

std::optional<HttpResponse> ApiRouter::dispatch_public(const HttpRequest& req, const RequestTarget& target,
                                                       const std::vector<std::string>& segments) const {
  std::vector<std::string> params;
  for (const Route& route : routes_) {
    if (route.is_public && method_matches(route, req.method) && path_matches(route, segments, &params)) {
      return route.handler(RouteRequest{req, target, params, nullptr});
    }
  }
  return std::nullopt;
}

bool ApiRouter::has_public(const std::string& method, const std::vector<std::string>& segments) const {
  std::vector<std::string> params;
  for (const Route& route : routes_) {
    if (route.is_public && method_matches(route, method) && path_matches(route, segments, &params)) return true;
  }
  return false;
}

HttpResponse ApiRouter::dispatch(const HttpRequest& req, const RequestTarget& target,
                                 const std::vector<std::string>& segments, const Caller& caller) const {
  std::vector<std::string> params;
  std::string allow;
  for (const Route& route : routes_) {
    if (!path_matches(route, segments, &params)) continue;
    if (method_matches(route, req.method)) return route.handler(RouteRequest{req, target, params, &caller});
    allow += (allow.empty() ? "" : ", ") + route.method;
  }
  if (!allow.empty()) return method_not_allowed(allow);
  for (const FallbackRoutes& fallback : fallbacks_) {
    if (auto answer = fallback(req, target, segments, caller)) return std::move(*answer);
  }
  return route_not_found();
}

}  // namespace wattguard::api
