// Databases on a PostgreSQL server by libpq: connection strings rewritten, CREATE and DROP DATABASE.
#include "wattguard/pgserver/pg_databases.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>

namespace wattguard::pgserver {
namespace {

// A value in single quotes with ' and \ escaped, as libpq's key=value syntax reads it.
std::string quoted(const std::string& value) {
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

bool plain_identifier(const std::string& name) {
  return !name.empty() && name.size() < 64 && (std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_') &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
                  c == '_';
         });
}

// One statement outside a transaction (CREATE and DROP DATABASE cannot run in one) on the server's maintenance
// database `postgres`.
Expected<void> run_statement(const std::string& conninfo, const std::string& sql) {
  auto admin = with_database(conninfo, "postgres");
  if (!admin.ok()) return admin.error();
  PGconn* conn = PQconnectdb(admin->c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = PQerrorMessage(conn);
    PQfinish(conn);
    return Error::unavailable("cannot connect to PostgreSQL (" + conninfo + "): " + why);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string why = ok ? "" : PQerrorMessage(conn);
  PQclear(res);
  PQfinish(conn);
  if (!ok) return Error::unavailable(sql + ": " + why);
  return {};
}

}  // namespace

Expected<std::string> with_database(const std::string& conninfo, const std::string& dbname) {
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (options == nullptr) {
    std::string why = parse_error != nullptr ? parse_error : "out of memory";
    PQfreemem(parse_error);
    return Error::invalid("postgresql", conninfo, "not a libpq connection string: " + why);
  }
  std::string out;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string(o->keyword) == "dbname") continue;
    out += std::string(o->keyword) + "=" + quoted(o->val) + " ";
  }
  PQconninfoFree(options);
  return out + "dbname=" + quoted(dbname);
}

Expected<std::string> create_database(const std::string& conninfo, const std::string& dbname) {
  if (!plain_identifier(dbname)) return Error::invalid("dbname", dbname, "not a plain lower-case identifier");
  if (auto r = run_statement(conninfo, "CREATE DATABASE " + dbname); !r.ok()) return r.error();
  return with_database(conninfo, dbname);
}

Expected<void> drop_database(const std::string& conninfo, const std::string& dbname) {
  if (!plain_identifier(dbname)) return Error::invalid("dbname", dbname, "not a plain lower-case identifier");
  return run_statement(conninfo, "DROP DATABASE IF EXISTS " + dbname + " WITH (FORCE)");
}

}  // namespace wattguard::pgserver
