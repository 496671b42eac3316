// Tests of users, sessions and API tokens on a real SQLite file and a real PostgreSQL database.
#include "wattguard/api/auth_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "server/storage/sql_test_targets.h"
#include "wattguard/storage/sql_connection.h"

namespace wattguard::api {
namespace {

class AuthStoreTest : public ::testing::TestWithParam<storage::SqlDialect> {
 protected:
  void SetUp() override {
    auto opened = AuthStore::open(where_.target());
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    store_ = std::move(opened.value());
  }
  storage::sql_test::TargetFor where_{GetParam()};
  std::unique_ptr<AuthStore> store_;
};

TEST_P(AuthStoreTest, AddUserAndCheckPassword) {
  ASSERT_TRUE(store_->add_user("alice", Role::kOperator, "correct horse", PasswordCost::kMin, 1000).ok());
  const auto u = store_->check_password("alice", "correct horse", PasswordCost::kMin);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->name, "alice");
  EXPECT_EQ(u->role, Role::kOperator);
  EXPECT_EQ(u->created_at_s, 1000);
  EXPECT_FALSE(store_->check_password("alice", "wrong horse", PasswordCost::kMin));
  EXPECT_FALSE(store_->check_password("bob", "correct horse", PasswordCost::kMin));
  // Names are unique ignoring case, and a look-up ignores case too.
  const auto dup = store_->add_user("ALICE", Role::kAdmin, "another pass", PasswordCost::kMin, 1);
  EXPECT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().field, "name");
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists);
  EXPECT_TRUE(store_->check_password("Alice", "correct horse", PasswordCost::kMin));
}

TEST_P(AuthStoreTest, PasswordIsStoredAsArgon2id) {
  ASSERT_TRUE(store_->add_user("carol", Role::kConsumer, "secret-password", PasswordCost::kMin, 1).ok());
  const auto hash = hash_password("x-password", PasswordCost::kMin);
  ASSERT_TRUE(hash);
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
}

TEST_P(AuthStoreTest, RefusesBadNamesAndShortPasswords) {
  auto r = store_->add_user("bad name", Role::kConsumer, "long enough", PasswordCost::kMin, 1);
  EXPECT_EQ(r.error().field, "name");
  r = store_->add_user("", Role::kConsumer, "long enough", PasswordCost::kMin, 1);
  EXPECT_EQ(r.error().field, "name");
  r = store_->add_user("dave", Role::kConsumer, "short", PasswordCost::kMin, 1);
  EXPECT_EQ(r.error().field, "password");
  EXPECT_EQ(store_->user_count(), 0);
}

TEST_P(AuthStoreTest, SessionsExpireAndEndOnLogoutAndPasswordChange) {
  ASSERT_TRUE(store_->add_user("erin", Role::kConsumer, "password-1", PasswordCost::kMin, 1).ok());
  const auto user = store_->find_user("erin");
  ASSERT_TRUE(user);
  const std::string sid = store_->create_session(user->id, 100, 60);
  ASSERT_GE(sid.size(), 40u);
  auto s = store_->session_user(sid, 159);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->user.name, "erin");
  EXPECT_EQ(s->expires_at_s, 160);
  EXPECT_FALSE(store_->session_user(sid, 160));  // expired
  EXPECT_FALSE(store_->session_user("not-a-session", 100));
  EXPECT_EQ(store_->purge_expired_sessions(200), 1);

  const std::string sid2 = store_->create_session(user->id, 100, 60);
  store_->delete_session(sid2);
  EXPECT_FALSE(store_->session_user(sid2, 101));

  const std::string sid3 = store_->create_session(user->id, 100, 60);
  ASSERT_TRUE(store_->set_password("erin", "password-2", PasswordCost::kMin).ok());
  EXPECT_FALSE(store_->session_user(sid3, 101));
  EXPECT_TRUE(store_->check_password("erin", "password-2", PasswordCost::kMin));
}

TEST_P(AuthStoreTest, DeletingUserEndsSessions) {
  ASSERT_TRUE(store_->add_user("frank", Role::kAdmin, "password-1", PasswordCost::kMin, 1).ok());
  const std::string sid = store_->create_session(store_->find_user("frank")->id, 100, 60);
  ASSERT_TRUE(store_->delete_user("frank").ok());
  EXPECT_FALSE(store_->session_user(sid, 101));
  EXPECT_FALSE(store_->delete_user("frank").ok());
}

TEST_P(AuthStoreTest, RoleChangeTakesEffectOnExistingSession) {
  ASSERT_TRUE(store_->add_user("gina", Role::kOperator, "password-1", PasswordCost::kMin, 1).ok());
  const std::string sid = store_->create_session(store_->find_user("gina")->id, 100, 60);
  ASSERT_TRUE(store_->set_role("gina", Role::kConsumer).ok());
  EXPECT_EQ(store_->session_user(sid, 101)->user.role, Role::kConsumer);
}

TEST_P(AuthStoreTest, TokensAreFoundByValueAndStoredHashed) {
  const std::string admin = store_->create_token(TokenScope::kAdmin, "ci", 5);
  const std::string read = store_->create_token(TokenScope::kRead, "grafana", 6);
  ASSERT_EQ(admin.rfind("wgt_", 0), 0u);
  EXPECT_NE(admin, read);
  EXPECT_EQ(store_->find_token(admin)->scope, TokenScope::kAdmin);
  EXPECT_EQ(store_->find_token(read)->scope, TokenScope::kRead);
  EXPECT_EQ(store_->find_token(read)->label, "grafana");
  EXPECT_FALSE(store_->find_token(admin + "x"));
  EXPECT_FALSE(store_->find_token(""));

  ASSERT_TRUE(store_->add_token("demo-token-0123456789", TokenScope::kAdmin, "demo", 7).ok());
  EXPECT_TRUE(store_->find_token("demo-token-0123456789"));
  EXPECT_EQ(store_->add_token("short", TokenScope::kAdmin, "x", 7).error().field, "token");
  EXPECT_FALSE(store_->add_token("demo-token-0123456789", TokenScope::kRead, "again", 7).ok());

  const auto tokens = store_->list_tokens();
  ASSERT_EQ(tokens.size(), 3u);
  ASSERT_TRUE(store_->revoke_token(tokens[0].id).ok());
  EXPECT_FALSE(store_->find_token(admin));
  EXPECT_FALSE(store_->revoke_token(tokens[0].id).ok());
}

TEST_P(AuthStoreTest, DataSurvivesReopen) {
  ASSERT_TRUE(store_->add_user("hank", Role::kAdmin, "password-1", PasswordCost::kMin, 1).ok());
  const std::string token = store_->create_token(TokenScope::kRead, "", 1);
  store_.reset();
  auto reopened = AuthStore::open(where_.target());
  ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
  store_ = std::move(reopened.value());
  EXPECT_TRUE(store_->check_password("hank", "password-1", PasswordCost::kMin));
  EXPECT_TRUE(store_->find_token(token));
}

TEST_P(AuthStoreTest, NamesAreOneUserIgnoringCase) {
  ASSERT_TRUE(store_->add_user("Bob", Role::kConsumer, "password-1", PasswordCost::kMin, 1).ok());
  auto again = store_->add_user("bOB", Role::kAdmin, "password-2", PasswordCost::kMin, 2);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.error().field, "name");
  ASSERT_TRUE(store_->find_user("BOB"));
  EXPECT_EQ(store_->find_user("BOB")->name, "Bob");
  EXPECT_TRUE(store_->check_password("bob", "password-1", PasswordCost::kMin));
  ASSERT_TRUE(store_->add_user("alice", Role::kConsumer, "password-3", PasswordCost::kMin, 3).ok());
  const auto users = store_->list_users();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].name, "alice");  // sorted ignoring case on both engines
  EXPECT_EQ(users[1].name, "Bob");
  ASSERT_TRUE(store_->delete_user("BOB").ok());
  EXPECT_EQ(store_->user_count(), 1);
}

INSTANTIATE_TEST_SUITE_P(Engines, AuthStoreTest, storage::sql_test::kBothEngines, storage::sql_test::engine_name);

TEST(AuthStoreOpen, ReportsUnopenableFile) {
  auto opened = AuthStore::open("/nonexistent-dir/x/auth.db");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kIoError);
  EXPECT_NE(opened.error().message.find("/nonexistent-dir/x/auth.db"), std::string::npos) << opened.error().message;
}

}  // namespace
}  // namespace wattguard::api
