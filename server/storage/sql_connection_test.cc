// SqlConnection gives the same answers on SQLite and PostgreSQL: parameters, types, NULL, affected rows,
// unique violations as kAlreadyExists, and errors that name the database.
#include "wattguard/storage/sql_connection.h"

#include <gtest/gtest.h>

#include <limits>

#include "server/storage/sql_test_targets.h"

namespace wattguard::storage {
namespace {

class SqlConnectionTest : public ::testing::TestWithParam<SqlDialect> {
 protected:
  void SetUp() override {
    auto c = open_sql_connection(where_.target(), 1000);
    ASSERT_TRUE(c.ok()) << c.error().message;
    conn_ = std::move(c.value());
    ASSERT_EQ(conn_->dialect(), GetParam());
    ASSERT_TRUE(conn_
                    ->script("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE, x DOUBLE PRECISION, "
                             "note TEXT)")
                    .ok());
  }
  sql_test::TargetFor where_{GetParam()};
  std::unique_ptr<SqlConnection> conn_;
};

TEST_P(SqlConnectionTest, ValuesRoundTripWithTheirTypesAndNull) {
  const double third = 1.0 / 3.0;
  const int64_t big = std::numeric_limits<int64_t>::max();
  auto ins = conn_->run("INSERT INTO t (id, name, x, note) VALUES ($1, $2, $3, $4)",
                        {big, std::string("it's \"quoted\" $1"), third, std::monostate{}});
  ASSERT_TRUE(ins.ok()) << ins.error().message;
  EXPECT_EQ(ins.value().affected, 1);
  auto r = conn_->run("SELECT id, name, x, note FROM t WHERE name = $1 AND id = $2",
                      {std::string("it's \"quoted\" $1"), big});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r.value().rows.size(), 1u);
  const SqlRow& row = r.value().rows[0];
  EXPECT_EQ(row.int64(0), big);
  EXPECT_EQ(row.text(1), "it's \"quoted\" $1");
  EXPECT_EQ(row.real(2), third);  // exactly: no digits lost on the way
  EXPECT_TRUE(row.is_null(3));
  EXPECT_FALSE(row.is_null(0));
}

TEST_P(SqlConnectionTest, ParametersAreBoundByNumberNotByPosition) {
  ASSERT_TRUE(conn_->run("INSERT INTO t (id, name) VALUES ($2, $1)", {std::string("b"), int64_t{7}}).ok());
  auto r = conn_->run("SELECT name FROM t WHERE id = $1 OR id = $1 + 1000", {int64_t{7}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r.value().rows.size(), 1u);
  EXPECT_EQ(r.value().rows[0].text(0), "b");
  // A '$1' inside a string literal is text, not a parameter.
  auto lit = conn_->run("SELECT '$1' || name FROM t WHERE id = $1", {int64_t{7}});
  ASSERT_TRUE(lit.ok()) << lit.error().message;
  EXPECT_EQ(lit.value().rows.at(0).text(0), "$1b");
}

TEST_P(SqlConnectionTest, UniqueViolationIsAlreadyExistsAndChangesCountRows) {
  ASSERT_TRUE(conn_->run("INSERT INTO t (id, name) VALUES ($1, $2)", {int64_t{1}, std::string("a")}).ok());
  ASSERT_TRUE(conn_->run("INSERT INTO t (id, name) VALUES ($1, $2)", {int64_t{2}, std::string("b")}).ok());
  auto dup = conn_->run("INSERT INTO t (id, name) VALUES ($1, $2)", {int64_t{3}, std::string("a")});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists) << dup.error().message;
  auto upd = conn_->run("UPDATE t SET note = $1", {std::string("n")});
  ASSERT_TRUE(upd.ok());
  EXPECT_EQ(upd.value().affected, 2);
  auto none = conn_->run("DELETE FROM t WHERE id = $1", {int64_t{99}});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.value().affected, 0);
  auto ret = conn_->run("INSERT INTO t (id, name) VALUES ($1, $2) RETURNING id", {int64_t{5}, std::string("c")});
  ASSERT_TRUE(ret.ok()) << ret.error().message;
  EXPECT_EQ(ret.value().affected, 1);
  EXPECT_EQ(ret.value().rows.at(0).int64(0), 5);
}

TEST_P(SqlConnectionTest, BadSqlIsAnErrorNamingTheDatabase) {
  auto bad = conn_->run("SELECT nope FROM t", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kIoError);
  const std::string& m = bad.error().message;
  if (GetParam() == SqlDialect::kSqlite) {
    EXPECT_NE(m.find("tables.db"), std::string::npos) << m;
  } else {
    EXPECT_NE(m.find("PostgreSQL at 127.0.0.1:"), std::string::npos) << m;
  }
  // The connection is still usable.
  EXPECT_TRUE(conn_->run("SELECT COUNT(*) FROM t", {}).ok());
}

INSTANTIATE_TEST_SUITE_P(Engines, SqlConnectionTest, sql_test::kBothEngines, sql_test::engine_name);

TEST(SqlConnectionOpen, UnreachablePostgresqlNamesWhereItLooked) {
  auto c = open_pg_connection("host=127.0.0.1 port=1 dbname=x connect_timeout=2");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kIoError);
  EXPECT_NE(c.error().message.find("PostgreSQL"), std::string::npos) << c.error().message;
}

}  // namespace
}  // namespace wattguard::storage
