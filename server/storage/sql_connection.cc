// SqlRow's accessors and the choice of engine for a store's tables.
#include "wattguard/storage/sql_connection.h"

#include <charconv>

namespace wattguard::storage {
namespace {

// PostgreSQL answers every cell as text; parse it the way it prints (shortest round-trip digits).
template <typename T>
T parsed(const std::string& s) {
  T v{};
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

bool SqlRow::is_null(int col) const { return std::holds_alternative<std::monostate>(cells_.at(col)); }

int64_t SqlRow::int64(int col) const {
  const SqlValue& v = cells_.at(col);
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return parsed<int64_t>(*s);
  return 0;
}

double SqlRow::real(int col) const {
  const SqlValue& v = cells_.at(col);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* s = std::get_if<std::string>(&v)) return parsed<double>(*s);
  return 0;
}

std::string SqlRow::text(int col) const {
  const SqlValue& v = cells_.at(col);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[32];
    const auto end = std::to_chars(buf, buf + sizeof buf, *d).ptr;
    return std::string(buf, end);
  }
  return "";
}

Expected<std::unique_ptr<SqlConnection>> open_sql_connection(const SqlTarget& target, int busy_timeout_ms) {
  if (!target.pg_conninfo.empty()) return open_pg_connection(target.pg_conninfo);
  return open_sqlite_connection(target.sqlite_path, busy_timeout_ms);
}

}  // namespace wattguard::storage
