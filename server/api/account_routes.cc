// Users and API tokens.
#include "server/api/account_routes.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "server/api/api_json.h"
#include "server/api/route_support.h"
#include "wattguard/protocol/topics.h"

namespace wattguard::api {
namespace {

using nlohmann::json;

HttpResponse user_not_found_because(const std::string& message) {
  return error_response(404, "user_not_found", "name", message);
}
HttpResponse user_not_found(const std::string& name) { return user_not_found_because("no user '" + name + "'"); }

HttpResponse bad_role(const std::string& role) {
  return bad_param("role", "role = '" + role + "': expected consumer, operator or admin");
}

// The "meters" member as a list of ids (empty when absent), or an Error naming it.
Expected<std::vector<std::string>> meter_list_member(const json& body) {
  std::vector<std::string> meters;
  const auto it = body.find("meters");
  if (it == body.end() || it->is_null()) return meters;
  if (!it->is_array()) return Error::invalid("meters", it->dump(), "meters must be an array of meter ids");
  for (const auto& m : *it) {
    if (!m.is_string() || !protocol::is_valid_meter_id(m.get<std::string>())) {
      return Error::invalid("meters", m.dump(),
                            "meters must be an array of meter ids ([A-Za-z0-9_-], 1 to 64 characters)");
    }
    meters.push_back(m.get<std::string>());
  }
  return meters;
}

// Only admins reach `handler`; others get the 403 with `refusal`.
RouteHandler admins_only(const char* refusal, RouteHandler handler) {
  return [refusal, handler = std::move(handler)](const RouteRequest& r) {
    if (!r.caller->is_admin()) return forbidden(refusal);
    return handler(r);
  };
}

}  // namespace

void AccountRoutes::add_to(ApiRouter& router) {
  constexpr const char* kUsers = "only admins manage users";
  constexpr const char* kTokens = "only admins manage API tokens";
  router.add("GET", "/api/v1/users", admins_only(kUsers, [this](const RouteRequest&) { return list_users(); }));
  router.add("POST", "/api/v1/users",
             admins_only(kUsers, [this](const RouteRequest& r) { return add_user(r.http, *r.caller); }));
  router.add("GET", "/api/v1/users/{name}",
             admins_only(kUsers, [this](const RouteRequest& r) { return get_user(r.params[0]); }));
  router.add("PATCH", "/api/v1/users/{name}", admins_only(kUsers, [this](const RouteRequest& r) {
               return update_user(r.http, *r.caller, r.params[0]);
             }));
  router.add("DELETE", "/api/v1/users/{name}",
             admins_only(kUsers, [this](const RouteRequest& r) { return delete_user(*r.caller, r.params[0]); }));
  router.add("PUT", "/api/v1/users/{name}/meters", admins_only(kUsers, [this](const RouteRequest& r) {
               return set_user_meters(r.http, *r.caller, r.params[0]);
             }));
  router.add("GET", "/api/v1/tokens", admins_only(kTokens, [this](const RouteRequest&) { return list_tokens(); }));
  router.add("POST", "/api/v1/tokens",
             admins_only(kTokens, [this](const RouteRequest& r) { return add_token(r.http, *r.caller); }));
  router.add("DELETE", "/api/v1/tokens/{id}",
             admins_only(kTokens, [this](const RouteRequest& r) { return revoke_token(*r.caller, r.params[0]); }));
}

HttpResponse AccountRoutes::user_response(int status, const User& user) {
  return json_response(status, json{{"user", user_json(user, context_.meters_of(user.name))}});
}

std::optional<HttpResponse> AccountRoutes::release_meters(const std::string& user,
                                                          const std::vector<std::string>& keep) {
  MeterDirectory& directory = context_.directory();
  directory.invalidate();
  const auto snap = directory.get(context_.now_ms());
  for (const auto& id : snap->owned_by(user)) {
    if (std::find(keep.begin(), keep.end(), id) != keep.end()) continue;
    storage::MeterInfo info = *snap->find(id);
    info.owner.clear();
    if (auto st = context_.deps().store->update_meter(info); !st.ok()) return storage_error(st.error());
  }
  return std::nullopt;
}

std::optional<HttpResponse> AccountRoutes::give_meters(const std::vector<std::string>& meters,
                                                       const std::string& user) {
  storage::ReadingStore& store = *context_.deps().store;
  for (const auto& id : meters) {
    auto info = store.get_meter(id);
    if (!info.ok()) return storage_error(info.error());
    info->owner = user;
    if (auto st = store.update_meter(*info); !st.ok()) return storage_error(st.error());
  }
  return std::nullopt;
}

HttpResponse AccountRoutes::list_users() {
  json users = json::array();
  for (const auto& u : context_.deps().auth->list_users()) users.push_back(user_json(u, context_.meters_of(u.name)));
  return json_response(200, json{{"users", std::move(users)}});
}

HttpResponse AccountRoutes::get_user(const std::string& name) {
  const auto user = context_.deps().auth->find_user(name);
  if (!user) return user_not_found(name);
  return user_response(200, *user);
}

HttpResponse AccountRoutes::set_user_meters(const HttpRequest& req, const Caller& caller, const std::string& name) {
  JsonBody body(req);
  if (!body.ok()) return body.refusal();
  if (!body.object().contains("meters")) return bad_param("meters", "meters is required");
  const auto meters = meter_list_member(body.object());
  if (!meters.ok()) return bad_param(meters.error());
  const auto user = context_.deps().auth->find_user(name);
  if (!user) return user_not_found(name);
  for (const auto& id : *meters) {
    if (!context_.deps().store->has_meter(id)) return bad_param("meters", "no meter '" + id + "'");
  }
  // Ownership lives in the meter registry: give the listed meters to the user and take the
  // user's other meters back.
  if (auto failed = release_meters(user->name, *meters)) return std::move(*failed);
  if (auto failed = give_meters(*meters, user->name)) return std::move(*failed);
  context_.ownership_changed();
  std::string list;
  for (const auto& id : *meters) list += (list.empty() ? "" : ",") + id;
  context_.audit(caller, "user.meters", user->name, list);
  return user_response(200, *user);
}

HttpResponse AccountRoutes::add_user(const HttpRequest& req, const Caller& caller) {
  JsonBody body(req);
  const auto name = body.string("name");
  const auto role_s = body.string("role");
  const auto password = body.string("password");
  if (!body.ok()) return body.refusal();
  if (!name) return bad_param("name", "name is required");
  if (!role_s) return bad_param("role", "role is required: consumer, operator or admin");
  const auto role = role_from_name(*role_s);
  if (!role) return bad_role(*role_s);
  if (!password) return bad_param("password", "password is required");
  const auto meters = meter_list_member(body.object());
  if (!meters.ok()) return bad_param(meters.error());
  for (const auto& id : *meters) {
    if (!context_.deps().store->has_meter(id)) return bad_param("meters", "no meter '" + id + "'");
  }
  // Hashing the password (argon2id) takes tens of milliseconds and much memory: the HTTP server runs the rest
  // on its worker pool, never on an I/O thread.
  HttpResponse pending;
  pending.offload = [this, caller, name = *name, role = *role, password = *password, meters = *meters]() {
    AuthStore& auth = *context_.deps().auth;
    const auto outcome = auth.add_user(name, role, password, context_.password_cost(), context_.now_ms() / 1000);
    if (!outcome.ok()) {
      const Error& e = outcome.error();
      const bool exists = e.code == ErrorCode::kAlreadyExists;
      return error_response(exists ? 409 : 400, exists ? "user_exists" : "bad_parameter", e.field, e.message);
    }
    if (auto failed = give_meters(meters, name)) return std::move(*failed);
    context_.ownership_changed();
    context_.audit(caller, "user.add", name, role_name(role));
    HttpResponse r = user_response(201, *auth.find_user(name));
    r.set_header("Location", "/api/v1/users/" + name);
    return r;
  };
  return pending;
}

HttpResponse AccountRoutes::update_user(const HttpRequest& req, const Caller& caller, const std::string& name) {
  JsonBody body(req);
  const auto role_s = body.string("role");
  const auto password = body.string("password");
  if (!body.ok()) return body.refusal();
  AuthStore& auth = *context_.deps().auth;
  if (!auth.find_user(name)) return user_not_found(name);
  std::optional<Role> role;
  if (role_s) {
    role = role_from_name(*role_s);
    if (!role) return bad_role(*role_s);
  }
  auto apply = [this, caller, name, role, password]() {
    AuthStore& auth = *context_.deps().auth;
    if (password) {
      const auto outcome = auth.set_password(name, *password, context_.password_cost());
      if (!outcome.ok()) return bad_param(outcome.error());
      context_.audit(caller, "user.password", name, "");
    }
    if (role) {
      const auto outcome = auth.set_role(name, *role);
      if (!outcome.ok()) return bad_param(outcome.error());
      context_.audit(caller, "user.role", name, role_name(*role));
    }
    const auto user = auth.find_user(name);
    if (!user) return user_not_found(name);  // deleted meanwhile
    return user_response(200, *user);
  };
  if (!password) return apply();
  // A new password is hashed (argon2id) on the HTTP server's worker pool, as in add_user.
  HttpResponse pending;
  pending.offload = std::move(apply);
  return pending;
}

HttpResponse AccountRoutes::delete_user(const Caller& caller, const std::string& name) {
  if (caller.user && ascii_lower(caller.user->name) == ascii_lower(name)) {
    return bad_param("name", "you cannot delete your own account");
  }
  AuthStore& auth = *context_.deps().auth;
  const auto user = auth.find_user(name);
  if (!user) return user_not_found(name);
  if (auto failed = release_meters(user->name, {})) return std::move(*failed);
  context_.ownership_changed();
  const auto outcome = auth.delete_user(user->name);
  if (!outcome.ok()) return user_not_found_because(outcome.error().message);
  context_.audit(caller, "user.delete", user->name, "");
  return no_content();
}

HttpResponse AccountRoutes::list_tokens() {
  json tokens = json::array();
  for (const auto& t : context_.deps().auth->list_tokens()) {
    tokens.push_back(
        json{{"id", t.id}, {"scope", scope_name(t.scope)}, {"label", t.label}, {"created_ms", t.created_at_s * 1000}});
  }
  return json_response(200, json{{"tokens", std::move(tokens)}});
}

HttpResponse AccountRoutes::add_token(const HttpRequest& req, const Caller& caller) {
  JsonBody body(req);
  const auto scope_s = body.string("scope");
  const auto label = body.string("label");
  if (!body.ok()) return body.refusal();
  if (!scope_s) return bad_param("scope", "scope is required: read or admin");
  const auto scope = scope_from_name(*scope_s);
  if (!scope) return bad_param("scope", "scope = '" + *scope_s + "': expected read or admin");
  if (label && label->size() > 128) return bad_param("label", "label is limited to 128 characters");
  AuthStore& auth = *context_.deps().auth;
  const std::string token = auth.create_token(*scope, label.value_or(""), context_.now_ms() / 1000);
  if (token.empty()) return error_response(500, "storage_error", "", "could not store the token");
  const auto info = auth.find_token(token);
  context_.audit(caller, "token.add", "token:" + std::to_string(info->id), *scope_s);
  return json_response(201, json{{"token", token},
                                 {"id", info->id},
                                 {"scope", scope_name(info->scope)},
                                 {"label", info->label},
                                 {"created_ms", info->created_at_s * 1000}});
}

HttpResponse AccountRoutes::revoke_token(const Caller& caller, const std::string& id_s) {
  const auto id = parse_int_value(id_s, 1, INT64_MAX);
  if (!id) return bad_param("id", "token id must be a positive integer");
  const auto outcome = context_.deps().auth->revoke_token(*id);
  if (!outcome.ok()) return error_response(404, "token_not_found", "id", outcome.error().message);
  context_.audit(caller, "token.revoke", "token:" + id_s, "");
  return no_content();
}

}  // namespace wattguard::api
