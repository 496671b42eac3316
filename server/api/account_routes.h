// The account routes of the API, for admins: users (with the meters they own) and API tokens
// (docs/api.md "Users and tokens"). Every change is written to the audit log. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/api/api_context.h"
#include "server/api/api_router.h"

namespace wattguard::api {

class AccountRoutes {
 public:
  explicit AccountRoutes(ApiContext& context) : context_(context) {}

  void add_to(ApiRouter& router);

 private:
  HttpResponse list_users();
  HttpResponse add_user(const HttpRequest& req, const Caller& caller);
  HttpResponse get_user(const std::string& name);
  HttpResponse update_user(const HttpRequest& req, const Caller& caller, const std::string& name);
  HttpResponse delete_user(const Caller& caller, const std::string& name);
  HttpResponse set_user_meters(const HttpRequest& req, const Caller& caller, const std::string& name);
  HttpResponse list_tokens();
  HttpResponse add_token(const HttpRequest& req, const Caller& caller);
  HttpResponse revoke_token(const Caller& caller, const std::string& id);

  // {"user": ...} with the meters the user owns now.
  HttpResponse user_response(int status, const User& user);
  // Takes every meter of `user` not in `keep` back (owner cleared); the storage error's 500 on failure.
  std::optional<HttpResponse> release_meters(const std::string& user, const std::vector<std::string>& keep);
  // Gives `meters` to `user`; the storage error's 500 on failure.
  std::optional<HttpResponse> give_meters(const std::vector<std::string>& meters, const std::string& user);

  ApiContext& context_;
};

}  // namespace wattguard::api
