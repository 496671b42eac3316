// The tests' private PostgreSQL: pgserver's server (initdb + pg_ctl on a free loopback port, fsync off), one per
// test binary (shared_postgres()), each test taking a fresh database (create_database()), which costs tens of
// milliseconds instead of an initdb. Not thread-safe: one thread starts, stops and creates databases.
#pragma once

#include "wattguard/base/expected.h"
#include "wattguard/pgserver/postgres_server.h"

namespace wattguard::test_support {

using PostgresServer = pgserver::PostgresServer;

// The server of this test binary, started on first use and stopped when the process exits; the error of
// its start (for every call) if it could not start.
Expected<PostgresServer*> shared_postgres();

}  // namespace wattguard::test_support
