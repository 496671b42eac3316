// Tests only: the real ApiHandler (no sockets) over a SQLite store and auth store in a temporary
// directory, with an ingest service that has no broker to reach (the API reads the store). Each
// suite derives from it, adds its data and routes in SetUp, then calls start_api.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "wattguard/api/api_handler.h"
#include "wattguard/api/auth_store.h"
#include "wattguard/api/live_hub.h"
#include "wattguard/ingest/ingest_service.h"
#include "wattguard/storage/sqlite_store.h"
#include "wattguard/test_support/temp_dir.h"

namespace wattguard::api {
using test_support::TempDir;

class ApiFixture : public ::testing::Test {
 protected:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // store_ and auth_ on one database file; an admin and a read-only token issued at now_ms.
  void open_stores(int64_t now_ms) {
    storage::SqliteOptions so;
    so.path = database_path();
    auto opened = storage::SqliteStore::open(so);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened.value());
    auto auth = AuthStore::open(so.path);
    ASSERT_TRUE(auth.ok()) << auth.error().message;
    auth_ = std::move(auth.value());
    admin_token_ = auth_->create_token(TokenScope::kAdmin, "test admin", now_ms / 1000);
    read_token_ = auth_->create_token(TokenScope::kRead, "test read", now_ms / 1000);
  }

  // Starts ingest_ (by default on port 1: nothing listens, it keeps retrying) and api_ on `deps`, whose store,
  // ingest, auth, hub, static dir (dir_), password cost and clock are filled in here.
  void start_api(ApiDeps deps, std::function<int64_t()> now_ms, int mqtt_port = 1) {
    ingest::IngestConfig ic;
    ic.host = "127.0.0.1";
    ic.port = mqtt_port;
    ic.now_ms = now_ms;
    ingest_ = std::make_unique<ingest::IngestService>(ic, *store_);
    auto started = ingest_->start();
    ASSERT_TRUE(started.ok()) << started.error().to_string();
    deps.store = store_.get();
    deps.ingest = ingest_.get();
    deps.auth = auth_.get();
    deps.hub = &hub_;
    deps.static_dir = dir_.path().string();
    deps.auth_config.password_cost = "min";
    deps.now_ms = std::move(now_ms);
    api_ = std::make_unique<ApiHandler>(std::move(deps));
  }

  void TearDown() override {
    api_.reset();
    if (ingest_) ingest_->stop();
  }

  std::string database_path() const { return dir_.file("wattguard.db"); }

  HttpResponse request(const std::string& method, const std::string& target, const std::string& body = "",
                       const Headers& headers = {}, const std::string& remote = "10.0.0.1") {
    HttpRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    req.remote_address = remote;
    req.set_header("host", "127.0.0.1:8080");
    if (!body.empty()) req.set_header("content-type", "application/json");
    for (const auto& [k, v] : headers) req.set_header(k, v);
    // As the HTTP server would: the header check first, then the handler and its offloaded half (sign-in).
    if (auto refused = api_->check_header(req)) return std::move(*refused);
    return finish_offloaded(api_->handle(req));
  }
  // With "Authorization: Bearer <token>" unless the token is empty.
  HttpResponse with_token(const std::string& token, const std::string& method, const std::string& target,
                          const std::string& body = "") {
    return request(method, target, body, token.empty() ? Headers{} : Headers{{"authorization", "Bearer " + token}});
  }
  HttpResponse with_cookie(const std::string& cookie, const std::string& method, const std::string& target,
                           const std::string& body = "") {
    return request(method, target, body, {{"cookie", cookie}});
  }
  // Signs in with the password "<name>-password" and returns "wg_session=..." for the Cookie header.
  std::string sign_in(const std::string& name) {
    const auto r =
        request("POST", "/api/v1/session", nlohmann::json{{"name", name}, {"password", name + "-password"}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    const std::string* set = r.header("set-cookie");
    return set ? set->substr(0, set->find(';')) : "";
  }
  static nlohmann::json body(const HttpResponse& r) { return nlohmann::json::parse(r.body); }

  TempDir dir_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<AuthStore> auth_;
  LiveHub hub_;
  std::unique_ptr<ingest::IngestService> ingest_;
  std::unique_ptr<ApiHandler> api_;
  std::string admin_token_, read_token_;
};

}  // namespace wattguard::api
