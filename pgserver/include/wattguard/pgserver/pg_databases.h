// Databases created and dropped on a PostgreSQL server given by a libpq connection string, for the load tool
// (`wattguard bench ingest --postgresql CONNINFO` runs in a fresh database of its own, so that its count of
// readings lost starts from nothing) and the private server of postgres_server.h. Thread-safe (one connection
// per call).
#pragma once

#include <string>

#include "wattguard/base/expected.h"

namespace wattguard::pgserver {

// `conninfo` (key=value or a postgresql:// URI) with its database replaced by `dbname`, as key=value pairs.
// kInvalidArgument when libpq cannot parse it (the message is libpq's).
Expected<std::string> with_database(const std::string& conninfo, const std::string& dbname);

// CREATE DATABASE `dbname` (a plain identifier: letters, digits, underscores) on the server of `conninfo`, whose
// role may create databases; returns the connection string of the new database. kUnavailable when the server
// cannot be reached or refuses (the message is the server's).
Expected<std::string> create_database(const std::string& conninfo, const std::string& dbname);

// DROP DATABASE IF EXISTS `dbname` (WITH (FORCE): sessions still open are ended) on the server of `conninfo`.
Expected<void> drop_database(const std::string& conninfo, const std::string& dbname);

}  // namespace wattguard::pgserver
