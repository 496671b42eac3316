// SqlConnection over libpqxx: each run is one autocommit statement; a lost connection is reopened on the next.
#include <charconv>
#include <exception>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "wattguard/storage/sql_connection.h"

namespace wattguard::storage {
namespace {

// libpq's messages end in a newline and may span lines; one line reads better in a log.
std::string one_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}

// "host=127.0.0.1 port=5432 dbname=x password=..." -> "PostgreSQL at 127.0.0.1:5432, database x": what an error
// names, without the password.
std::string describe(pqxx::connection& c) {
  std::string host = c.hostname() != nullptr ? c.hostname() : "localhost";
  std::string port = c.port() != nullptr ? c.port() : "5432";
  std::string db = c.dbname() != nullptr ? c.dbname() : "";
  return "PostgreSQL at " + host + ":" + port + ", database " + db;
}

class PgConnection final : public SqlConnection {
 public:
  explicit PgConnection(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  Expected<void> connect() {
    try {
      conn_ = std::make_unique<pqxx::connection>(conninfo_);
      where_ = describe(*conn_);
      return {};
    } catch (const std::exception& e) {
      conn_.reset();
      // libpq's message names the host and port it tried.
      return Error::io("cannot connect to PostgreSQL: " + one_line(e.what()));
    }
  }

  SqlDialect dialect() const override { return SqlDialect::kPostgresql; }

  Expected<SqlResult> run(const char* sql, std::initializer_list<SqlValue> params) override {
    if (auto up = ensure_connected(); !up.ok()) return up.error();
    // Text parameters; a null pointer is SQL NULL. Doubles in shortest round-trip form, so nothing is lost.
    std::vector<std::string> texts;
    texts.reserve(params.size());
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const SqlValue& p : params) {
      if (const auto* n = std::get_if<int64_t>(&p)) {
        texts.push_back(std::to_string(*n));
      } else if (const auto* d = std::get_if<double>(&p)) {
        char buf[32];
        texts.emplace_back(buf, std::to_chars(buf, buf + sizeof buf, *d).ptr);
      } else if (const auto* t = std::get_if<std::string>(&p)) {
        texts.push_back(*t);
      } else {
        texts.emplace_back();
      }
    }
    std::size_t k = 0;
    for (const SqlValue& p : params) {
      values.push_back(std::holds_alternative<std::monostate>(p) ? nullptr : texts[k].c_str());
      ++k;
    }
    try {
      pqxx::nontransaction txn(*conn_);
      const pqxx::result r = txn.exec_params(sql, pqxx::prepare::make_dynamic_params(values));
      SqlResult result;
      result.affected = static_cast<int64_t>(r.affected_rows());
      result.rows.reserve(r.size());
      for (const auto& row : r) {
        std::vector<SqlValue> cells;
        cells.reserve(row.size());
        for (const auto& field : row) {
          if (field.is_null()) {
            cells.emplace_back(std::monostate{});
          } else {
            cells.emplace_back(std::string(field.c_str(), field.size()));
          }
        }
        result.rows.emplace_back(std::move(cells));
      }
      return result;
    } catch (const std::exception& e) {
      return error_of(e);
    }
  }

  Expected<void> script(std::string_view sql) override {
    if (auto up = ensure_connected(); !up.ok()) return up.error();
    try {
      pqxx::nontransaction txn(*conn_);
      txn.exec(std::string(sql));
      return {};
    } catch (const std::exception& e) {
      return error_of(e);
    }
  }

 private:
  Expected<void> ensure_connected() {
    if (conn_ && conn_->is_open()) return {};
    return connect();
  }

  Error error_of(const std::exception& e) {
    if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
      conn_.reset();  // reopened by the next call
      return Error::io("lost the connection to " + where_ + ": " + one_line(e.what()));
    }
    if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
      // 23505 unique_violation: the same answer SQLite's constraint error gives.
      if (sql->sqlstate() == "23505") return Error::already_exists(where_ + ": " + one_line(e.what()));
    }
    return Error::io(where_ + ": " + one_line(e.what()));
  }

  std::string conninfo_;
  std::string where_ = "PostgreSQL";
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace

Expected<std::unique_ptr<SqlConnection>> open_pg_connection(const std::string& conninfo) {
  auto c = std::make_unique<PgConnection>(conninfo);
  if (auto up = c->connect(); !up.ok()) return up.error();
  return std::unique_ptr<SqlConnection>(std::move(c));
}

}  // namespace wattguard::storage
