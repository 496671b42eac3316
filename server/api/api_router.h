// The API's routing table: method + path pattern -> handler, matched in one place, where 404 and 405 are
// decided too. Route groups (session, meters, accounts, health) add their routes; groups that match their own
// paths (grid, alerts, the embedding program's) are tried in order after the table. Built once, then read-only:
// thread-safe to dispatch from every I/O thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wattguard/api/api_handler.h"
#include "wattguard/api/http_message.h"
#include "wattguard/api/request_target.h"

namespace wattguard::api {

// One request as a handler sees it.
struct RouteRequest {
  const HttpRequest& http;
  const RequestTarget& target;
  const std::vector<std::string>& params;  // the pattern's {name} segments, in order
  const Caller* caller;                    // null for public routes (answered before authentication)
};

using RouteHandler = std::function<HttpResponse(const RouteRequest&)>;

// A group that decides its own paths: the answer, or nullopt when the path is not its.
using FallbackRoutes =
    std::function<std::optional<HttpResponse>(const HttpRequest&, const RequestTarget&,
                                              const std::vector<std::string>& segments, const Caller&)>;

class ApiRouter {
 public:
  // `pattern`: "/api/v1/meters/{id}/commands" ({...} matches any one segment). `method`: "GET"... or "*" for
  // every method. The Allow header of a 405 lists a path's methods in the order they were added.
  void add(std::string method, std::string_view pattern, RouteHandler handler);
  // A route answered before authentication (sign-in, sign-out).
  void add_public(std::string method, std::string_view pattern, RouteHandler handler);
  void add_fallback(FallbackRoutes fallback);

  // The public route for this request, if one matches: its answer.
  std::optional<HttpResponse> dispatch_public(const HttpRequest& req, const RequestTarget& target,
                                              const std::vector<std::string>& segments) const;
  // Whether a public route matches (the header check lets such requests through without credentials).
  bool has_public(const std::string& method, const std::vector<std::string>& segments) const;
  // An authenticated request: the matching route, else 405 when the path has routes for other methods, else
  // the fallbacks, else 404.
  HttpResponse dispatch(const HttpRequest& req, const RequestTarget& target, const std::vector<std::string>& segments,
                        const Caller& caller) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> pattern;  // segments; "{...}" captures
    RouteHandler handler;
    bool is_public = false;
  };
  static bool path_matches(const Route& route, const std::vector<std::string>& segments,
                           std::vector<std::string>* params);
  static bool method_matches(const Route& route, const std::string& method);

  std::vector<Route> routes_;
  std::vector<FallbackRoutes> fallbacks_;
};

}  // namespace wattguard::api
